import ArgumentParser

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'convert' is not implemented yet") }
}
