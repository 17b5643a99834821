import ArgumentParser

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'doctor' is not implemented yet") }
}
