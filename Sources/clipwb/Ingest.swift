import ArgumentParser

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("'ingest' is not implemented yet") }
}
