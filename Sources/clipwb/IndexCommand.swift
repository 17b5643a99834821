import ArgumentParser

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "index", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'index' is not implemented yet") }
}
