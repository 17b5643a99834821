// The catalog's SQLite database (through GRDB): one row per image, one row per embeddings shard,
// and a key/value `meta` table. Every change is one transaction, and the database is the commit
// point of the whole catalog: a shard or index file exists on disk before the row naming it does.
import ClipCore
import Foundation
import GRDB

/// One indexed image. `id` is also its row in the embeddings and its item in the index.
public struct ImageRecord: Sendable, Equatable, Codable {
    public var id: Int
    /// The folder it was ingested from: absolute, or relative to the catalog (uploads).
    public var root: String
    /// Its path below `root`.
    public var path: String
    public var sha256: String
    public var width: Int
    public var height: Int
    /// ISO 8601, UTC.
    public var addedAt: String
}

/// One `.npy` file holding the embeddings of ids `firstID ..< firstID + rows`.
public struct ShardRecord: Sendable, Equatable {
    public var file: String
    public var firstID: Int
    public var rows: Int
}

/// The catalog's committed state: what a reader may trust, read in one transaction.
public struct CatalogState: Sendable, Equatable {
    public var imageCount: Int
    public var shards: [ShardRecord]
    public var meta: [String: String]

    /// The index generation on disk (`index/index-G.ann`), 0 when none was committed yet.
    public var indexGeneration: Int { Int(meta["index_generation"] ?? "") ?? 0 }
    /// How many ids (0 ..< indexCount) the committed index covers.
    public var indexCount: Int { Int(meta["index_count"] ?? "") ?? 0 }
}

final class CatalogDatabase: Sendable {
    static let schemaVersion = 1
    let queue: DatabaseQueue

    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        // GRDB 7 opens write transactions IMMEDIATE, so two processes adding at once wait (≤ 10 s), not fail.
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            try migrator.migrate(queue)
        } catch let e as DatabaseError {
            throw SearchError("catalog.database", "cannot open the catalog database '\(path)': \(e.message ?? "\(e)")", kind: .system)
        }
    }

    private var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE images (
                    id INTEGER PRIMARY KEY, root TEXT NOT NULL, path TEXT NOT NULL,
                    sha256 TEXT NOT NULL UNIQUE, width INTEGER NOT NULL, height INTEGER NOT NULL,
                    added_at TEXT NOT NULL);
                CREATE TABLE shards (file TEXT PRIMARY KEY, first_id INTEGER NOT NULL, rows INTEGER NOT NULL);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        return m
    }

    /// Runs `body` in one write transaction; GRDB rolls back if it throws.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let e as DatabaseError {
            throw SearchError("catalog.database", "catalog database write failed: \(e.message ?? "\(e)")", kind: .system)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let e as DatabaseError {
            throw SearchError("catalog.database", "catalog database read failed: \(e.message ?? "\(e)")", kind: .system)
        }
    }

    func state() throws -> CatalogState {
        try read { db in
            let count = try Self.imageCount(db)
            let shards = try Row.fetchAll(db, sql: "SELECT file, first_id, rows FROM shards ORDER BY first_id").map {
                ShardRecord(file: $0["file"], firstID: $0["first_id"], rows: $0["rows"])
            }
            var meta: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") { meta[row["key"]] = row["value"] }
            return CatalogState(imageCount: count, shards: shards, meta: meta)
        }
    }

    func image(id: Int) throws -> ImageRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM images WHERE id = ?", arguments: [id]).map(Self.record) }
    }

    func images(ids: [Int]) throws -> [Int: ImageRecord] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM images WHERE id IN (\(marks))", arguments: StatementArguments(ids))
            return Dictionary(uniqueKeysWithValues: rows.map(Self.record).map { ($0.id, $0) })
        }
    }

    /// The sha256 digests already in the catalog.
    func knownDigests() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT sha256 FROM images")) }
    }

    func id(forDigest sha: String) throws -> Int? {
        try read { db in try Int.fetchOne(db, sql: "SELECT id FROM images WHERE sha256 = ?", arguments: [sha]) }
    }

    /// Ids are dense (0 ..< count, assigned in commit order, never deleted), so the count is the largest id
    /// plus one: a lookup in the primary key, where COUNT(*) scans a million rows.
    static func imageCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(id) + 1, 0) FROM images") ?? 0
    }

    static func record(_ r: Row) -> ImageRecord {
        ImageRecord(id: r["id"], root: r["root"], path: r["path"], sha256: r["sha256"],
                    width: r["width"], height: r["height"], addedAt: r["added_at"])
    }

    static func insert(_ rec: ImageRecord, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO images (id, root, path, sha256, width, height, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [rec.id, rec.root, rec.path, rec.sha256, rec.width, rec.height, rec.addedAt])
    }

    static func setMeta(_ values: [String: String], _ db: Database) throws {
        for (k, v) in values {
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [k, v])
        }
    }
}
