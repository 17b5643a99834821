// A catalog out to a vector database: its embeddings as one float32 .npy (row i = id i, unit rows as the
// index holds them) and one JSON line per row (id, name, path, sha256, size, added_at) in the same order,
// plus a small manifest (model, dimension, metric, count). Plain files every client reads: numpy + json
// load them into Milvus (pymilvus), Qdrant or anything else without clipwb.
import ClipCore
import Foundation
import GRDB

public struct ExportManifest: Sendable, Codable {
    public var format = "npy+jsonl"
    public var formatVersion = 1
    public var rows: Int
    public var dimension: Int
    /// The embeddings are unit rows: inner product = cosine ("IP"/"COSINE" in Milvus, "Cosine" in Qdrant).
    public var metric = "cosine"
    public var model: String
    public var weights: String
    public var embeddings: String
    public var rowsFile: String
    public var catalog: String
}

/// One JSON line of the export.
public struct ExportRow: Sendable, Codable {
    public var id: Int
    /// The image's name (its path below the folder it was ingested from).
    public var name: String
    /// Where the file is (or was) on the machine that ingested it.
    public var path: String
    public var sha256: String
    /// 0 × 0 when the catalog was built from embeddings whose image file was not there.
    public var width: Int
    public var height: Int
    public var addedAt: String
}

extension Catalog {
    /// Calls `body` with every image record in id order, without loading them all.
    public func forEachImage(_ body: (ImageRecord) throws -> Void) throws {
        try db.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM images ORDER BY id")
            while let r = try rows.next() { try body(CatalogDatabase.record(r)) }
        }
    }

    /// Writes PREFIX.npy, PREFIX.jsonl and PREFIX.json (each atomically) and returns the manifest.
    public func export(to prefix: String) throws -> ExportManifest {
        let state = try state()
        let store = try mapEmbeddings(state)
        let names = (npy: prefix + ".npy", jsonl: prefix + ".jsonl", json: prefix + ".json")
        try NPY.write(store.matrix(), to: names.npy)
        let encoder = JSONStyle.encoder(pretty: false)
        var written = 0
        try AtomicFile.write(names.jsonl) { fd in
            var buffer: [UInt8] = []
            try forEachImage { rec in
                let row = ExportRow(id: rec.id, name: rec.path, path: filePath(of: rec), sha256: rec.sha256,
                                    width: rec.width, height: rec.height, addedAt: rec.addedAt)
                buffer += try encoder.encode(row)
                buffer.append(0x0A)
                written += 1
                if buffer.count > 1 << 20 { try AtomicFile.writeAll(fd, buffer, path: names.jsonl); buffer.removeAll(keepingCapacity: true) }
            }
            try AtomicFile.writeAll(fd, buffer, path: names.jsonl)
        }
        guard written == store.rows else {
            throw inconsistent("it lists \(written) images for \(store.rows) embeddings")
        }
        let manifest = ExportManifest(rows: store.rows, dimension: store.cols, model: state.meta["model"] ?? "",
                                      weights: state.meta["weights"] ?? "",
                                      embeddings: URL(fileURLWithPath: names.npy).lastPathComponent,
                                      rowsFile: URL(fileURLWithPath: names.jsonl).lastPathComponent, catalog: directory)
        try AtomicFile.write(names.json, chunks: [Array(try JSONStyle.encoder().encode(manifest)) + [0x0A]])
        return manifest
    }
}
