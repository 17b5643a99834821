// A catalog directory: catalog.sqlite (the commit point), shards/*.npy (embeddings, ids in order),
// index/*.ann + sidecar (the Annoy index over ids 0 ..< index_count).
//
// Crash safety, by construction: every file is written to a temporary name, fsynced and renamed
// (ClipCore.AtomicFile) BEFORE the single SQLite transaction that names it. A kill -9 at any point
// leaves either the old transaction (the new file is an orphan, removed on the next write) or the
// new one (its file is complete on disk). Readers trust only what the database names.
import ClipCore
import Foundation
import GRDB

/// A new image to commit: where it is and what it is.
public struct NewImage: Sendable {
    public var root: String
    public var path: String
    public var sha256: String
    public var width: Int
    public var height: Int

    public init(root: String, path: String, sha256: String, width: Int, height: Int) {
        (self.root, self.path, self.sha256, self.width, self.height) = (root, path, sha256, width, height)
    }
}

public final class Catalog: Sendable {
    public let directory: String
    let db: CatalogDatabase
    /// How a loaded Annoy index is held: read into private memory (default: a server survives its index file
    /// being truncated under it, issue 12), or mapped (`serve --map-index`: a million-item index starts without
    /// being read and replicas share its pages, but a file truncated under the server raises SIGBUS).
    public let indexBacking: MappedFile.Backing

    public var shardsDirectory: String { directory + "/shards" }
    public var indexDirectory: String { directory + "/index" }
    public var uploadsDirectory: String { directory + "/uploads" }

    /// Opens `directory`; with `create`, makes it (and its database) if missing.
    public init(directory: String, create: Bool, mapIndex: Bool = false) throws {
        indexBacking = mapIndex ? .mapping : .privateCopy
        let dir = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        self.directory = dir
        let fm = FileManager.default
        let dbPath = dir + "/catalog.sqlite"
        if !fm.fileExists(atPath: dbPath) {
            guard create else {
                throw SearchError("catalog.missing", "'\(dir)' is not a catalog (no catalog.sqlite); create one with `clipwb ingest IMAGES_DIR --weights W --catalog \(dir)`")
            }
            for sub in ["", "/shards", "/index", "/uploads"] {
                do { try fm.createDirectory(atPath: dir + sub, withIntermediateDirectories: true) } catch {
                    throw SearchError("catalog.unwritable", "cannot create the catalog folder '\(dir + sub)': \(error.localizedDescription)", kind: .system)
                }
            }
        }
        db = try CatalogDatabase(path: dbPath)
        for sub in ["/shards", "/index", "/uploads"] where !fm.fileExists(atPath: dir + sub) {
            try? fm.createDirectory(atPath: dir + sub, withIntermediateDirectories: true)
        }
    }

    public func state() throws -> CatalogState { try db.state() }
    public func image(id: Int) throws -> ImageRecord? { try db.image(id: id) }
    public func images(ids: [Int]) throws -> [Int: ImageRecord] { try db.images(ids: ids) }
    public func knownDigests() throws -> Set<String> { try db.knownDigests() }
    public func id(forDigest sha: String) throws -> Int? { try db.id(forDigest: sha) }

    /// The file an image record points at.
    public func filePath(of rec: ImageRecord) -> String {
        (rec.root.hasPrefix("/") ? rec.root : directory + "/" + rec.root) + "/" + rec.path
    }

    /// Records the model on first use; afterwards refuses a different one, so one catalog never
    /// mixes embeddings of two models.
    public func bindModel(name: String, dimension: Int, weights: String) throws {
        let meta = try db.state().meta
        if let d = meta["dimension"], let n = meta["model"] {
            guard Int(d) == dimension, n == name else {
                throw SearchError("catalog.model-mismatch", "this catalog holds embeddings of \(n) (dimension \(d)), not of \(name) (dimension \(dimension)); pass the weights it was built with (\(meta["weights"] ?? "?")) or use a new --catalog")
            }
            if meta["weights"] != weights { try db.write { try CatalogDatabase.setMeta(["weights": weights], $0) } }
            return
        }
        try db.write { db in
            try CatalogDatabase.setMeta(["model": name, "dimension": String(dimension), "weights": weights,
                                         "schema_version": String(CatalogDatabase.schemaVersion)], db)
        }
    }

    /// Commits images and their embeddings (rows in the same order): the shard file first, then one
    /// transaction assigning ids after the last committed one. Returns the committed records.
    @discardableResult
    public func commit(_ images: [NewImage], embeddings: Matrix) throws -> [ImageRecord] {
        precondition(images.count == embeddings.rows, "commit: \(images.count) images, \(embeddings.rows) embedding rows")
        guard !images.isEmpty else { return [] }
        let file = "shard-\(Self.stamp()).npy"
        try NPY.write(embeddings, to: shardsDirectory + "/" + file)
        let now = ISO8601DateFormatter().string(from: Date())
        return try db.write { db in
            let first = try CatalogDatabase.imageCount(db)
            var out: [ImageRecord] = []
            for (i, im) in images.enumerated() {
                let rec = ImageRecord(id: first + i, root: im.root, path: im.path, sha256: im.sha256,
                                      width: im.width, height: im.height, addedAt: now)
                try CatalogDatabase.insert(rec, db)
                out.append(rec)
            }
            try db.execute(sql: "INSERT INTO shards (file, first_id, rows) VALUES (?, ?, ?)",
                           arguments: [file, first, images.count])
            return out
        }
    }

    /// All committed embeddings, [imageCount, dimension], checked against the database, in one matrix.
    public func loadEmbeddings(_ state: CatalogState) throws -> Matrix { try mapEmbeddings(state).matrix() }

    /// All committed embeddings, checked against the database, with every shard file mapped (not read).
    public func mapEmbeddings(_ state: CatalogState) throws -> EmbeddingStore {
        let dim = Int(state.meta["dimension"] ?? "") ?? 0
        var segments: [EmbeddingSegment] = []
        var next = 0
        for s in state.shards {
            guard s.firstID == next else {
                throw inconsistent("shard '\(s.file)' starts at id \(s.firstID), expected \(next)")
            }
            let npy: NPYFile
            do {
                npy = try NPYFile(path: shardsDirectory + "/" + s.file)
                guard npy.descr == NPYDType.float32.rawValue, !npy.fortranOrder, npy.shape.count == 2 else {
                    throw CoreError("npy.dtype", "it holds \(npy.descr) \(npy.shape), not a C-order float32 matrix")
                }
            } catch let e as ClipwbError {
                throw inconsistent("embeddings shard '\(s.file)' cannot be read: \(e.message)")
            }
            guard npy.shape[0] == s.rows, npy.shape[1] == dim else {
                throw inconsistent("shard '\(s.file)' is \(npy.shape[0])×\(npy.shape[1]), the database says \(s.rows)×\(dim)")
            }
            segments.append(EmbeddingSegment(npy: npy, rows: s.rows, cols: dim))
            next += s.rows
        }
        guard next == state.imageCount else {
            throw inconsistent("the shards hold \(next) embeddings for \(state.imageCount) images")
        }
        return EmbeddingStore(segments: segments, cols: dim)
    }

    func inconsistent(_ what: String) -> SearchError {
        SearchError("catalog.inconsistent", "catalog '\(directory)' is inconsistent: \(what); rebuild it with a new --catalog", kind: .system)
    }

    /// A unique, sortable file stamp: time in µs plus the process id.
    static func stamp() -> String {
        let us = UInt64(Date().timeIntervalSince1970 * 1e6)
        return "\(us)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
