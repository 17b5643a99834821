import ArgumentParser

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'verify' is not implemented yet") }
}
