// The root command: one subcommand per job, each in its own file. Commands compose libraries;
// no algorithm lives here.
import ArgumentParser

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
            IndexCommand.self, Eval.self, Ingest.self, Serve.self, Benchmark.self,
        ]
    )
}

enum ClipwbVersion {
    static let string = "0.1.0"
}
