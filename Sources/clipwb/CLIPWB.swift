// The root command: one subcommand per job, each in its own file. Commands compose libraries;
// no algorithm lives here.
import ArgumentParser
import ClipWeights
import Foundation

@main
struct CLIPWB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clipwb",
        abstract: "CLIP model conversion and evaluation workbench.",
        discussion: """
        Convert CLIP weights exported from PyTorch, embed images and texts, verify a port against \
        the PyTorch reference stage by stage, build and evaluate Annoy-compatible indexes, and serve \
        an image search demo.
        """,
        version: ClipwbVersion.string,
        subcommands: [
            Doctor.self, Convert.self, Inspect.self, Tokenize.self, Preprocess.self, Embed.self, Verify.self,
            IndexCommand.self, Eval.self, Ingest.self, Export.self, Serve.self, Benchmark.self,
        ]
    )

    /// ArgumentParser's own entry point, except that usage errors exit 2 (the README's promise:
    /// 0 ok, 1 a check failed, 2 bad input or usage) instead of EX_USAGE (64), with `error:` as
    /// every other clipwb error line.
    static func main() async {
        BLASKernels.upgradeIfFallback()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            let text = fullMessage(for: error).replacingOccurrences(of: "Error: ", with: "error: ")
            FileHandle.standardError.write(Data((text + "\n").utf8))
            Foundation.exit(Exit.badInput)
        }
    }
}

enum ClipwbVersion {
    static let string = "0.1.0"
}
