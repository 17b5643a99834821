// `clipwb ingest DIR... --weights W --catalog CATALOG_DIR`: folders of images → a search catalog
// (SQLite rows, embedding shards, Annoy index). Incremental by content hash, resumable after a kill.
import ArgumentParser
import ClipCore
import ClipEval
import ClipSearch
import ClipWeights
import Foundation

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Embed folders of images into a search catalog (SQLite + embeddings + Annoy index).",
        discussion: """
        Files are recognised as JPEG, PNG, GIF, BMP, TIFF, WebP or PPM by their first bytes. Images already in the catalog (same \
        sha256) are skipped, so re-running adds only new files and finishes an interrupted run. Every \
        --commit-every images are committed (crash-safe: a kill loses at most that batch); unreadable \
        images are skipped and listed at the end.
        """)

    @Argument(help: "Folders of images (searched recursively).")
    var folders: [String] = []

    @Option(help: "Build the catalog from these embeddings (a .npy from `clipwb embed merge` or `embed --out`) instead of folders: nothing is embedded again.")
    var embeddings: String?

    @Option(help: "With --embeddings: the names file beside it (one image path per row; default EMBEDDINGS.names.txt).")
    var names: String?

    @Option(help: "CLIP weights: an HDF5 export or a converted .safetensors file.")
    var weights: String

    @Option(help: "Catalog folder (created if missing).")
    var catalog: String

    @Option(help: "Trees of the Annoy index (more: better recall, bigger index, slower build). Default: the catalog's, or 10 for a new one; a different value rebuilds the index.")
    var trees: Int?

    @Option(help: "Seed of the index build. Default: the catalog's, or 42; a different value rebuilds the index.")
    var seed: UInt64?

    @Option(help: "Annoy search_k the server queries with (-1: Annoy's default, results × trees). Default: the catalog's, or -1. Recorded without a rebuild.")
    var searchK: Int?

    @Option(name: .customLong("index-config"), help: "recommendation.json from `clipwb eval --target-recall`: build the index it recommends (Annoy trees, seed, search_k; HNSW M, ef_construction, seed, ef; or exact search, no index). Replaces --trees/--seed/--search-k.")
    var indexConfig: String?

    @Option(name: .customLong("index-config-k"), help: "With --index-config: which k's recommendation to apply (default: the file's default_k, 10 when it was swept).")
    var indexConfigK: Int?

    @Option(help: "Images per encoder batch.")
    var batchSize = 16

    @Option(help: "Images per commit (one embeddings file + one transaction): the most an interrupted run can lose. Default: 256 for folders, 131072 rows with --embeddings (8 files of 256 MB for a million 512-wide rows).")
    var commitEvery: Int?

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    func validate() throws {
        if let trees, trees < 1 { throw ValidationError("--trees must be at least 1 (10 is a good start)") }
        if let searchK, searchK < 1 && searchK != -1 { throw ValidationError("--search-k must be -1 (Annoy's default) or at least 1") }
        if indexConfig != nil && (trees != nil || seed != nil || searchK != nil) {
            throw ValidationError("--index-config sets the whole index; leave out --trees, --seed and --search-k (or drop --index-config)")
        }
        if indexConfigK != nil && indexConfig == nil { throw ValidationError("--index-config-k goes with --index-config FILE") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let commitEvery, commitEvery < 1 { throw ValidationError("--commit-every must be at least 1") }
        if (embeddings == nil) == folders.isEmpty {
            throw ValidationError("pass folders of images, or --embeddings FILE.npy (with its names file), not both")
        }
        for f in folders {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("'\(f)' is not a folder; pass folders of images")
            }
        }
    }

    func run() async throws {
        try reportingErrors {
            let embedder = try CLIPEmbedder(weightsPath: weights)
            let cat = try Catalog(directory: catalog, create: true)
            try cat.bindModel(name: embedder.modelName, dimension: embedder.dimension,
                              weights: URL(fileURLWithPath: weights).standardizedFileURL.path)
            var options = IngestOptions()
            options.batchSize = batchSize
            options.commitEvery = commitEvery ?? (embeddings == nil ? 256 : 131_072)
            if let indexConfig {
                options.index = try Self.recommended(indexConfig, k: indexConfigK, dimension: embedder.dimension)
            } else if trees != nil || seed != nil || searchK != nil {
                let current = cat.recordedIndexParameters(try cat.state()) ?? IndexParameters()
                // --trees/--seed/--search-k are Annoy's: they make (or keep) an Annoy index.
                var p = IndexParameters(trees: trees ?? current.trees, seed: seed ?? current.seed,
                                        searchK: searchK ?? (current.kind == .annoy ? current.searchK : -1))
                p.origin = "ingest " + [trees.map { "--trees \($0)" }, seed.map { "--seed \($0)" }, searchK.map { "--search-k \($0)" }]
                    .compactMap { $0 }.joined(separator: " ")
                options.index = p
            }
            // Log lines first clear the progress bar's line when stderr is a terminal.
            let clear = isatty(2) != 0 ? "\r\u{1B}[K" : ""
            let ingestion = Ingestion(catalog: cat, embedder: embedder, options: options, log: { stderrLine(clear + $0) })
            let summary: IngestSummary
            if let e = embeddings {
                try checkManifest(e)
                let list = try Shards.readNames(names ?? String(e.dropLast(4)) + ".names.txt")
                summary = try ingestion.run(embeddings: NPY.readMatrix(e), names: list)
            } else {
                summary = try ingestion.run(folders: folders)
            }
            if json { try printJSON(summary) } else { printSummary(summary) }
        }
    }

    /// The catalog index a recommendation.json asks for at k, explained on stderr.
    static func recommended(_ path: String, k: Int?, dimension: Int) throws -> IndexParameters {
        let rec: Recommendation
        do { rec = try JSONStyle.decoder().decode(Recommendation.self, from: Data(RegularFile.contents(path))) } catch let e as DecodingError {
            throw SearchError("index-config.format", "'\(path)' is not a recommendation.json from `clipwb eval --target-recall` (\(e)); make one with `clipwb eval … --target-recall 0.95`")
        }
        let kk = k ?? rec.defaultK
        guard let pick = rec.pick(k: kk) else {
            throw SearchError("index-config.k", "'\(path)' has no recommendation for k=\(kk); it has k=\(rec.picks.map { String($0.k) }.joined(separator: ", ")): pass one with --index-config-k")
        }
        guard rec.metric == "angular" else {
            throw SearchError("index-config.metric", "'\(path)' was measured with the \(rec.metric) metric; the catalog searches by angular distance (cosine): re-run `clipwb eval --metric angular`")
        }
        guard let setting = pick.setting else {
            throw SearchError("index-config.unreached", "'\(path)': no setting reached recall \(rec.targetRecall) at k=\(kk) (best \(String(format: "%.4f", pick.bestRecall))), so there is nothing to apply; re-run eval with a wider sweep or a lower --target-recall")
        }
        let origin = "\(URL(fileURLWithPath: path).lastPathComponent) k=\(kk), recall ≥ \(rec.targetRecall), \(rec.optimize.rawValue)"
        let p = try IndexParameters(recommended: setting, origin: origin)
        stderrLine("index from \(path) (k=\(kk), target recall \(rec.targetRecall), optimize \(rec.optimize.rawValue)): \(p.describe)"
                   + (p.kind == .annoy ? ", search_k \(p.searchK)" : p.kind == .hnsw ? ", ef \(p.ef)" : "")
                   + String(format: " (measured recall@%d %.4f on %d × %d)", kk, setting.recall, rec.items, rec.dimension))
        if rec.dimension != dimension {
            stderrLine("note: it was measured on \(rec.dimension)-dimensional vectors; this model's embeddings have \(dimension) dimensions, so its figures may not carry over")
        }
        switch p.kind {
        case .annoy:
            stderrLine("note: search_k \(p.searchK) is what the first \(kk) results were measured with; the server's ranked list then holds about \(p.searchK) candidates, so pages past them are empty (ingest --search-k 1001×trees or -1 for deep paging)")
        case .hnsw:
            stderrLine("note: the server asks hnswlib for up to 1,001 results (stable paging), which searches with max(ef, 1001): recall is at least what was measured, latency higher")
        case .exact:
            stderrLine("note: exact search builds no index; the server scans all embeddings with BLAS per query (the eval's exact family)")
        }
        return p
    }

    /// The manifest `embed merge` writes beside the embeddings (EMBEDDINGS.json), when there is one, must
    /// name these weights.
    func checkManifest(_ npy: String) throws {
        let path = String(npy.dropLast(4)) + ".json"
        guard FileManager.default.fileExists(atPath: path) else {
            stderrLine("note: no manifest '\(path)' beside the embeddings; cannot check they were made with \(weights)")
            return
        }
        let m = try JSONStyle.decoder().decode(ShardManifest.self, from: Data(RegularFile.contents(path)))
        let sha = try SHA256.hexDigest(ofFile: WeightSource.open(weights).weightsFile)
        guard m.weightsSha256 == sha else {
            throw SearchError("ingest.other-weights", "'\(npy)' was embedded with other weights (sha256 \(m.weightsSha256.prefix(12))…) than '\(weights)' (\(sha.prefix(12))…); pass those weights")
        }
    }

    func printSummary(_ s: IngestSummary) {
        print("found \(s.found) images: \(s.added) added, \(s.alreadyPresent) already in the catalog, \(s.unreadable.count) unreadable"
              + (s.ignored > 0 ? " (\(s.ignored) other files ignored)" : ""))
        for f in s.unreadable { print("  skipped \(f.path): \(f.reason)") }
        print("catalog \(catalog): \(s.total) images, \(s.indexed) indexed, \(String(format: "%.1f", s.seconds)) s"
              + (s.added > 0 ? String(format: " (%.1f images/s embedding)", s.imagesPerSecond) : ""))
    }
}
