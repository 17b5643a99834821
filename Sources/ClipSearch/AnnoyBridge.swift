// The catalog's index is an Annoy index (AnnoyIndex, annoylib.h 1.17 layout) with its JSON sidecar,
// angular metric over the unit embeddings; build, save and load go through here.
import AnnoyIndex
import ClipCore
import Foundation

/// An Annoy index (mapped) answering `NeighborIndex` queries. Searchers hold per-thread
/// scratch, so a small pool lends one to each concurrent query.
final class AnnoyNeighbors: NeighborIndex, @unchecked Sendable {
    let index: AnnoyIndex
    private let lock = NSLockLike()
    private var pool: [Searcher] = []

    init(_ index: AnnoyIndex) { self.index = index }

    var count: Int { index.itemCount }
    var dimension: Int { index.dimension }

    func nearest(to query: [Float], n: Int, searchK: Int) throws -> [Neighbor] {
        guard query.count == index.dimension else {
            throw SearchError("index.dimension", "query has dimension \(query.count), the index \(index.dimension)")
        }
        let k = min(n, index.itemCount)
        guard k > 0 else { return [] }
        let s = lock.locked { pool.popLast() } ?? Searcher(index: index)
        defer { lock.locked { if pool.count < 8 { pool.append(s) } } }
        var ids: [Int32] = [], dist: [Float] = []
        query.withUnsafeBufferPointer { s.query($0.baseAddress!, k: k, searchK: searchK, ids: &ids, distances: &dist) }
        return zip(ids, dist).map { Neighbor(id: Int($0), distance: $1) }
    }
}

enum NeighborIndexFiles {
    /// Builds and writes the index (sidecar first, then the index file, each atomically) and loads it.
    /// `threads` nil: min(2, trees), as ingestion builds it.
    static func buildAndSave(_ vectors: Matrix, parameters: IndexParameters, to path: String, source: String,
                             threads: Int? = nil) throws -> any NeighborIndex {
        let threads = threads ?? min(2, max(1, parameters.trees))
        let built = try AnnoyBuilder.build(vectors, metric: .angular,
                                          options: BuildOptions(trees: parameters.trees, seed: parameters.seed, threads: threads))
        try IndexSidecar(dimension: vectors.cols, metric: .angular, trees: parameters.trees, seed: parameters.seed,
                         threads: threads, items: vectors.rows, source: source).write(for: path)
        try built.write(to: path)
        return try load(path, dimension: vectors.cols)
    }

    /// Maps the index, as Annoy does: a server starts without reading it (≈ 2 GB at a million 512-wide
    /// items), its pages come from the page cache, and replicas on one host share them. The catalog writes
    /// every index file under a fresh name and never rewrites one in place, which a mapping needs (a file
    /// truncated under it, e.g. by a `cp` over it, raises SIGBUS). The catalog records the dimension; the
    /// metric is always angular.
    static func load(_ path: String, dimension: Int) throws -> any NeighborIndex {
        AnnoyNeighbors(try AnnoyIndex(path: path, metric: .angular, dimension: dimension, backing: .mapping))
    }

    /// Whether `name` is a companion file (the sidecar) of index file `index`.
    static func belongs(_ name: String, to index: String) -> Bool { name == IndexSidecar.path(for: index) }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: IndexSidecar.path(for: path))
    }
}
