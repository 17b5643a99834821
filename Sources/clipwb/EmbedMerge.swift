// `clipwb embed merge DIR --out all.npy`: the shards of `embed --shard I/N`, checked and written in the
// list's order (ClipSearch's Shards.merge).
import ArgumentParser
import ClipSearch

struct EmbedMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check the shards in a folder and write their embeddings in the list's order.",
        discussion: """
        Every shard I/N must be present and complete and made with the same weights and the same file list; \
        otherwise the error names the shard. Writes OUT (.npy), OUT.names.txt and OUT.json (the manifest).
        """)

    @Argument(help: "The folder the shards were written to (--out of `clipwb embed --shard`).")
    var dir: String

    @Option(help: "The merged .npy file.")
    var out: String

    @Flag(help: "Print the merged manifest as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let m = try Shards.merge(dir: dir, out: out)
            if json { try printJSON(m); return }
            print("merged \(m.listCount) listed images from \(dir): \(m.rows) rows, \(m.skipped.count) skipped → \(out)")
        }
    }
}
