import ArgumentParser

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'tokenize' is not implemented yet") }
}
