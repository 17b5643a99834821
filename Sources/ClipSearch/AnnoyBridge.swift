// The catalog's index: an Annoy index (AnnoyIndex, annoylib.h 1.17 layout) with its JSON sidecar (the default),
// an HNSW graph (hnswlib, cosine space), or exact BLAS search over the embeddings; angular distances over the unit
// embeddings either way. Build, save and load go through here.
import AnnoyIndex
import ClipCore
import ClipEval
import Foundation
import HNSWIndex

/// An Annoy index (read into memory, or mapped with `serve --map-index`) answering `NeighborIndex` queries. Searchers hold per-thread
/// scratch, so a small pool lends one to each concurrent query.
final class AnnoyNeighbors: NeighborIndex, @unchecked Sendable {
    let index: AnnoyIndex
    private let lock = NSLockLike()
    private var pool: [Searcher] = []

    init(_ index: AnnoyIndex) { self.index = index }

    var count: Int { index.itemCount }
    var dimension: Int { index.dimension }

    func nearest(to query: [Float], n: Int, searchK: Int) throws -> [Neighbor] {
        let k = try resultCount(query, n)
        guard k > 0 else { return [] }
        let s = lock.locked { pool.popLast() } ?? {
            let s = Searcher(index: index)
            // A large query's distance pass on every core (the same results; at 1M items most of a query's time).
            s.distanceThreads = min(4, WorkerPool.defaultThreads())
            return s
        }()
        defer { lock.locked { if pool.count < 8 { pool.append(s) } } }
        var ids: [Int32] = [], dist: [Float] = []
        query.withUnsafeBufferPointer { s.query($0.baseAddress!, k: k, searchK: searchK, ids: &ids, distances: &dist) }
        return zip(ids, dist).map { Neighbor(id: Int($0), distance: $1) }
    }
}

extension NeighborIndex {
    /// How many results a query for `n` gets (at most the items held); a query of another dimension is an error.
    func resultCount(_ query: [Float], _ n: Int) throws -> Int {
        guard query.count == dimension else {
            throw SearchError("index.dimension", "query has dimension \(query.count), the index \(dimension)")
        }
        return min(n, count)
    }
}

/// An HNSW graph (read into memory by hnswlib's loader) answering `NeighborIndex` queries; hnswlib's search is
/// thread-safe. ef is fixed at load (the catalog's recorded ef); a query for n results searches with max(ef, n).
final class HNSWNeighbors: NeighborIndex, @unchecked Sendable {
    let index: HNSWIndex

    init(_ index: HNSWIndex) { self.index = index }

    var count: Int { index.count }
    var dimension: Int { index.dimension }

    func nearest(to query: [Float], n: Int, searchK: Int) throws -> [Neighbor] {
        let k = try resultCount(query, n)
        guard k > 0 else { return [] }
        var ids: [UInt64] = [], dist: [Float] = []
        try query.withUnsafeBufferPointer { try index.search($0.baseAddress!, k: k, ids: &ids, distances: &dist) }
        // hnswlib's cosine distance is 1 − cos; Annoy's angular distance sqrt(2 − 2·cos) = sqrt(2 · (1 − cos)).
        return zip(ids, dist).map { Neighbor(id: Int($0), distance: max(0, 2 * $1).squareRoot()) }
    }
}

/// Exact search over the catalog's embeddings: one BLAS product per query (ClipEval.ExactSearch, the search
/// `clipwb eval` measures as its exact family), Annoy's angular distance.
struct ExactIndex: NeighborIndex {
    let search: ExactSearch

    init(_ vectors: Matrix) { search = ExactSearch(base: vectors, metric: .angular) }

    var count: Int { search.base.rows }
    var dimension: Int { search.base.cols }

    func nearest(to query: [Float], n: Int, searchK: Int) throws -> [Neighbor] {
        guard query.count == dimension else {
            throw SearchError("index.dimension", "query has dimension \(query.count), the index \(dimension)")
        }
        let k = min(n, count)
        guard k > 0 else { return [] }
        let r = query.withUnsafeBufferPointer { search.search($0.baseAddress!, k: k) }
        return zip(r.ids, r.distances).map { Neighbor(id: Int($0), distance: $1) }
    }
}

enum NeighborIndexFiles {
    /// The index_file name of an exact-search catalog (no file has it).
    static let exactName = "exact"

    /// Builds and writes the index (sidecar first, then the index file, each atomically) and loads it.
    /// `threads` nil: min(2, trees), as ingestion builds it.
    static func buildAndSave(_ vectors: Matrix, parameters: IndexParameters, to path: String, source: String,
                             threads: Int? = nil, backing: MappedFile.Backing = .privateCopy) throws -> any NeighborIndex {
        switch parameters.kind {
        case .exact: return ExactIndex(vectors)
        case .hnsw:
            let graph = try HNSWIndex(space: .cosine, dimension: vectors.cols, capacity: vectors.rows,
                                      parameters: HNSWParameters(m: parameters.m, efConstruction: parameters.efConstruction,
                                                                 seed: Int(truncatingIfNeeded: parameters.seed)))
            try graph.add(vectors)
            try graph.save(to: path)
            return try load(path, parameters: parameters, dimension: vectors.cols, backing: backing)
        case .annoy: break
        }
        let threads = threads ?? min(2, max(1, parameters.trees))
        let built = try AnnoyBuilder.build(vectors, metric: .angular,
                                          options: BuildOptions(trees: parameters.trees, seed: parameters.seed, threads: threads))
        try IndexSidecar(dimension: vectors.cols, metric: .angular, trees: parameters.trees, seed: parameters.seed,
                         threads: threads, items: vectors.rows, source: source).write(for: path)
        try built.write(to: path)
        return try load(path, parameters: parameters, dimension: vectors.cols, backing: backing)
    }

    /// An Annoy index read into private memory (`.privateCopy`: the server outlives its index file, and a
    /// mapped file truncated under it, e.g. by a `cp` over it, would kill it with SIGBUS), or mapped as Annoy
    /// does (`.mapping`, `serve --map-index`: a million-item index starts without being read, replicas on one
    /// host share its pages; the catalog writes every index file under a fresh name and never rewrites one in
    /// place). HNSW graphs are read by hnswlib into memory. The metric is always angular.
    static func load(_ path: String, parameters: IndexParameters, dimension: Int,
                     backing: MappedFile.Backing = .privateCopy) throws -> any NeighborIndex {
        if parameters.kind == .hnsw {
            let graph = try HNSWIndex(path: path, space: .cosine, dimension: dimension)
            try graph.setEf(parameters.ef)
            return HNSWNeighbors(graph)
        }
        return AnnoyNeighbors(try AnnoyIndex(path: path, metric: .angular, dimension: dimension, backing: backing))
    }

    /// Whether `name` is a companion file (the sidecar) of index file `index`.
    static func belongs(_ name: String, to index: String) -> Bool { name == IndexSidecar.path(for: index) }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: IndexSidecar.path(for: path))
    }
}
