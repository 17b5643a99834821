import ArgumentParser

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'embed' is not implemented yet") }
}
