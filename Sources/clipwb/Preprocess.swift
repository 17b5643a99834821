import ArgumentParser

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preprocess", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'preprocess' is not implemented yet") }
}
