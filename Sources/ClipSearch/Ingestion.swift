// Folder ingestion: walk, hash, skip what the catalog holds, decode + embed in batches, commit
// every `commitEvery` images (shard file, then one transaction), then build and commit the index.
// A kill at any point loses at most the uncommitted batch; a re-run skips everything committed
// (by content hash) and finishes the index.
import ClipCore
import ClipImage
import Dispatch
import Foundation

public struct IngestOptions: Sendable {
    /// Images per encoder call.
    public var batchSize = 16
    /// Images per commit (shard + transaction): the most a kill can lose.
    public var commitEvery = 256
    /// The index to build; nil keeps the catalog's (or the defaults for a new catalog). A setting
    /// other than the committed index's rebuilds it.
    public var index: IndexParameters? = nil
    /// nil: draw the progress bar only on a terminal.
    public var progress: Bool? = nil

    public init() {}
}

public struct SkippedFile: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
}

public struct IngestSummary: Sendable, Codable {
    /// Files with the magic bytes of a format clipwb decodes found under the folders.
    public var found = 0
    /// Newly committed by this run.
    public var added = 0
    /// Already in the catalog (same sha256), or a second copy within this run.
    public var alreadyPresent = 0
    /// Files that were no such format by their magic bytes.
    public var ignored = 0
    public var unreadable: [SkippedFile] = []
    /// Images in the catalog afterwards, and how many of them the index covers.
    public var total = 0
    public var indexed = 0
    public var seconds = 0.0
    public var imagesPerSecond = 0.0
}

public final class Ingestion {
    let catalog: Catalog
    let embedder: any Embedder
    let options: IngestOptions
    /// One line per commit and per phase (stderr in the CLI).
    let log: (String) -> Void

    public init(catalog: Catalog, embedder: any Embedder, options: IngestOptions, log: @escaping (String) -> Void) {
        self.catalog = catalog
        self.embedder = embedder
        self.options = options
        self.log = log
    }

    public func run(folders: [String]) throws -> IngestSummary {
        let start = Clock.now()
        var summary = IngestSummary()
        if let d = try catalog.state().meta["dimension"], Int(d) != embedder.dimension {
            throw SearchError("catalog.model-mismatch", "this catalog holds \(d)-dimensional embeddings, the model gives \(embedder.dimension); use the weights it was built with or a new --catalog")
        }
        let removed = try catalog.removeOrphans()
        if !removed.isEmpty { log("removed \(removed.count) uncommitted file(s) left by an interrupted run") }
        let files = try FolderWalk.imageFiles(in: folders, skipping: catalog.directory, ignored: &summary.ignored)
        summary.found = files.count
        var known = try catalog.knownDigests()
        let bar = ProgressBar(total: files.count, label: "ingest", unit: "images", enabled: options.progress)
        var pending: [(NewImage, ArraySlice<Float>)] = []
        var embeddedSeconds = 0.0
        for batchStart in stride(from: 0, to: files.count, by: options.batchSize) {
            let batch = Array(files[batchStart..<min(batchStart + options.batchSize, files.count)])
            let loaded = prepare(batch, known: known)
            var fresh: [(NewImage, PreparedImage)] = []
            for item in loaded {
                switch item {
                case .known: summary.alreadyPresent += 1
                case .unreadable(let skipped): summary.unreadable.append(skipped)
                case .image(let image, let prepared):
                    if known.contains(image.sha256) { summary.alreadyPresent += 1; continue }
                    known.insert(image.sha256)
                    fresh.append((image, prepared))
                }
            }
            if !fresh.isEmpty {
                let t0 = Clock.now()
                let m = try embedder.embedImages(fresh.map(\.1))
                embeddedSeconds += Clock.now() - t0
                for (i, f) in fresh.enumerated() { pending.append((f.0, m.row(i))) }
            }
            bar.advance(by: batch.count)
            if pending.count >= options.commitEvery { summary.added += try commit(&pending) }
        }
        summary.added += try commit(&pending)
        bar.finish()
        try finish(&summary, start: start, embeddedSeconds: embeddedSeconds)
        return summary
    }

    /// Builds catalog rows from embeddings made elsewhere (`clipwb embed merge`), without decoding or
    /// embedding: row i is `names[i]`. A name that is a readable file is hashed and sized from its
    /// header; one without a file (synthetic names, a collection stored elsewhere) is recorded with its
    /// name's digest and size 0×0. Rows are L2-normalized as the encoder's are.
    public func run(embeddings: Matrix, names: [String]) throws -> IngestSummary {
        let start = Clock.now()
        guard embeddings.rows == names.count else {
            throw SearchError("ingest.names", "the embeddings have \(embeddings.rows) rows but the names file \(names.count) lines; pass the names file written beside them")
        }
        guard embeddings.cols == embedder.dimension else {
            throw SearchError("catalog.model-mismatch", "the embeddings have dimension \(embeddings.cols), the model \(embedder.dimension); pass the weights they were made with")
        }
        var summary = IngestSummary()
        summary.found = names.count
        var known = try catalog.knownDigests()
        var pending: [(NewImage, ArraySlice<Float>)] = []
        var unit = embeddings
        unit.normalizeRows()
        let bar = ProgressBar(total: names.count, label: "ingest", unit: "rows", enabled: options.progress)
        for (i, name) in names.enumerated() {
            let abs = FolderWalk.absolute(name)
            let url = URL(fileURLWithPath: abs)
            var sha = SHA256.hexDigest(Array(("clipwb-absent:" + abs).utf8)), w = 0, h = 0
            if let bytes = try? FolderWalk.read(abs) {
                sha = SHA256.hexDigest(bytes)
                if let size = try? bytes.withUnsafeBytes({ try ImageDecoder.size(bytes: $0) }) { (w, h) = size }
            }
            if known.contains(sha) { summary.alreadyPresent += 1 } else {
                known.insert(sha)
                pending.append((NewImage(root: url.deletingLastPathComponent().path, path: url.lastPathComponent, sha256: sha,
                                         width: w, height: h), unit.row(i)))
            }
            if pending.count >= options.commitEvery { summary.added += try commit(&pending) }
            bar.advance()
        }
        summary.added += try commit(&pending)
        bar.finish()
        try finish(&summary, start: start, embeddedSeconds: 0)
        return summary
    }

    /// Builds the index when the catalog's is missing, behind, or another setting is asked for, and fills
    /// the summary's totals.
    private func finish(_ summary: inout IngestSummary, start: Double, embeddedSeconds: Double) throws {
        let state = try catalog.state()
        let recorded = catalog.recordedIndexParameters(state)
        let wanted = options.index ?? recorded ?? IndexParameters()
        if state.indexCount != state.imageCount || recorded == nil || !recorded!.sameIndex(as: wanted) {
            if let r = recorded, !r.sameIndex(as: wanted) {
                log("rebuilding the index: \(r.describe) → \(wanted.describe)")
            }
            log("building the index over \(state.imageCount) images (\(wanted.describe))")
            let vectors = try catalog.loadEmbeddings(state)
            _ = try catalog.commitIndex(vectors: vectors, parameters: wanted)
        } else if recorded! != wanted {
            switch wanted.kind {
            case .annoy: log("search_k \(recorded!.searchK) → \(wanted.searchK) (the index itself is unchanged)")
            case .hnsw: log("ef \(recorded!.ef) → \(wanted.ef) (the index itself is unchanged)")
            case .exact: break
            }
            try catalog.recordQueryParameters(wanted)
        }
        let after = try catalog.state()
        summary.total = after.imageCount
        summary.indexed = after.indexCount
        summary.seconds = Clock.now() - start
        summary.imagesPerSecond = embeddedSeconds > 0 ? Double(summary.added) / embeddedSeconds : 0
    }

    /// Commits `pending` and empties it; returns how many were committed.
    private func commit(_ pending: inout [(NewImage, ArraySlice<Float>)]) throws -> Int {
        guard !pending.isEmpty else { return 0 }
        let dim = embedder.dimension
        let m = Matrix(rows: pending.count, cols: dim, data: pending.flatMap(\.1))
        let records = try catalog.commit(pending.map(\.0), embeddings: m)
        log("committed \(records.count) images (ids \(records.first!.id)...\(records.last!.id))")
        pending.removeAll()
        return records.count
    }

    enum Loaded {
        case known
        case unreadable(SkippedFile)
        case image(NewImage, PreparedImage)
    }

    /// Reads and hashes a batch, then decodes what the catalog lacks, on all cores.
    private func prepare(_ batch: [FolderWalk.File], known: Set<String>) -> [Loaded] {
        var out = [Loaded](repeating: .known, count: batch.count)
        let lock = NSLockLike()
        DispatchQueue.concurrentPerform(iterations: batch.count) { i in
            let f = batch[i]
            let r: Loaded
            do {
                let bytes = try FolderWalk.read(f.absolute)
                let sha = SHA256.hexDigest(bytes)
                if known.contains(sha) {
                    r = .known
                } else {
                    let p = try embedder.prepareImage(bytes)
                    r = .image(NewImage(root: f.root, path: f.relative, sha256: sha, width: p.width, height: p.height), p)
                }
            } catch {
                r = .unreadable(SkippedFile(path: f.absolute, reason: (error as? ClipwbError)?.message ?? "\(error)"))
            }
            lock.locked { out[i] = r }
        }
        return out
    }
}
