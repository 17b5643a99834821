// `clipwb export --catalog C --format npy+jsonl --out PREFIX`: a catalog as plain files a vector database's
// client loads (ClipSearch's Catalog.export).
import ArgumentParser
import ClipSearch
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a catalog's embeddings and rows as plain files for a vector database (Milvus, Qdrant, …).",
        discussion: """
        --format npy+jsonl writes PREFIX.npy (float32 [rows, dim], row i = image id i, unit rows: inner product = \
        cosine), PREFIX.jsonl (one JSON object per row, in id order: id, name, path, sha256, width, height, \
        added_at; width and height are 0 where the catalog was built from embeddings without the image file) and \
        PREFIX.json (rows, dimension, metric, model). docs/scaling.md shows a Milvus import with pymilvus.
        """)

    @Option(help: "Catalog folder made by `clipwb ingest`.")
    var catalog: String

    @Option(help: "Output format: npy+jsonl (the only one).")
    var format = "npy+jsonl"

    @Option(help: "Output path prefix: writes PREFIX.npy, PREFIX.jsonl and PREFIX.json.")
    var out: String

    @Flag(help: "Print the manifest as JSON.")
    var json = false

    func validate() throws {
        guard format == "npy+jsonl" else { throw ValidationError("--format must be npy+jsonl (got '\(format)')") }
        guard !out.isEmpty, !out.hasSuffix("/") else { throw ValidationError("--out is a path prefix such as export/photos (writes .npy, .jsonl, .json)") }
    }

    func run() throws {
        try reportingErrors {
            let cat = try Catalog(directory: catalog, create: false)
            let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw SearchError("export.unwritable", "cannot create the folder '\(folder)' for --out: \(error.localizedDescription)", kind: .system)
            }
            let m = try cat.export(to: out)
            if json { try printJSON(m); return }
            print("exported \(m.rows) rows × \(m.dimension) from \(catalog) → \(out).npy, \(out).jsonl, \(out).json")
        }
    }
}
