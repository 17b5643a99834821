// An HNSW graph (hnswlib, the reference implementation) over rows of floats: build, add, search, save, load.
// Owns the shim's handle; the index knows nothing about CLIP.
import CHNSW
import ClipCore
import Foundation

public final class HNSWIndex: @unchecked Sendable {
    let handle: OpaquePointer
    public let space: HNSWSpace
    public let dimension: Int

    /// An empty index for up to `capacity` items.
    public init(space: HNSWSpace, dimension: Int, capacity: Int, parameters: HNSWParameters = HNSWParameters()) throws {
        guard dimension >= 1, capacity >= 0, parameters.seed >= 0, parameters.efConstruction >= 1 else {
            throw HNSWError("hnsw.argument", "dimension ≥ 1, capacity ≥ 0, ef_construction ≥ 1 and seed ≥ 0 are needed")
        }
        var h: OpaquePointer?
        try HNSWError.check("create") {
            chnsw_create(space.shim, dimension, capacity, parameters.m, parameters.efConstruction, parameters.seed, &h, $0, $1)
        }
        handle = h!
        self.space = space
        self.dimension = dimension
    }

    /// Loads a file saved by hnswlib (C++ or Python `save_index`) or by `save(to:)`. The file records neither the
    /// space nor the dimension: pass what it was built with (a wrong dimension is refused by the header check).
    public init(path: String, space: HNSWSpace, dimension: Int, capacity: Int = 0) throws {
        guard dimension >= 1 else { throw HNSWError("hnsw.argument", "the dimension must be at least 1") }
        var h: OpaquePointer?
        try HNSWError.check("load") { chnsw_load(path, space.shim, dimension, max(0, capacity), &h, $0, $1) }
        handle = h!
        self.space = space
        self.dimension = dimension
    }

    deinit { chnsw_free(handle) }

    public var info: chnsw_info {
        var i = chnsw_info()
        chnsw_get_info(handle, &i)
        return i
    }
    public var count: Int { chnsw_count(handle) }
    public var capacity: Int { Int(info.capacity) }
    public var parameters: HNSWParameters { HNSWParameters(m: Int(info.m), efConstruction: Int(info.ef_construction), seed: -1) }

    /// hnswlib's ef: the candidate list size of a search (at least k is used). Not to be changed during searches.
    public var ef: Int { Int(info.ef) }
    public func setEf(_ ef: Int) throws {
        guard ef >= 1 else { throw HNSWError("hnsw.ef", "ef must be at least 1 (got \(ef))") }
        try HNSWError.check("ef") { chnsw_set_ef(handle, ef, $0, $1) }
    }

    public func resize(capacity: Int) throws {
        try HNSWError.check("resize") { chnsw_resize(handle, max(0, capacity), $0, $1) }
    }

    /// Adds the rows of `x` labelled `firstId`, `firstId + 1`, … in row order (hnswlib's single-thread build).
    public func add(_ x: Matrix, firstId: UInt64 = 0) throws {
        try add(x, ids: (0..<UInt64(x.rows)).map { firstId + $0 })
    }

    public func add(_ x: Matrix, ids: [UInt64]) throws {
        guard x.cols == dimension else {
            throw HNSWError("hnsw.dim", "the vectors have \(x.cols) columns but the index has dimension \(dimension)")
        }
        guard ids.count == x.rows else { throw HNSWError("hnsw.ids", "\(x.rows) rows but \(ids.count) ids") }
        try x.requireFiniteRows()
        if count + x.rows > capacity { try resize(capacity: count + x.rows) }
        try x.data.withUnsafeBufferPointer { rows in
            try HNSWError.check("add") { chnsw_add(handle, rows.baseAddress!, ids, x.rows, $0, $1) }
        }
    }

    /// The k nearest of one query, nearest first (fewer when the graph yields fewer). Thread-safe.
    public func search(_ query: UnsafePointer<Float>, k: Int, ids: inout [UInt64], distances: inout [Float]) throws {
        guard k >= 1 else { throw HNSWError("hnsw.k", "k must be at least 1") }
        if ids.count != k { ids = [UInt64](repeating: 0, count: k) }
        if distances.count != k { distances = [Float](repeating: 0, count: k) }
        var found = 0
        try ids.withUnsafeMutableBufferPointer { i in
            try distances.withUnsafeMutableBufferPointer { d in
                try HNSWError.check("knn") { chnsw_knn(handle, query, k, i.baseAddress!, d.baseAddress!, &found, $0, $1) }
            }
        }
        if found < k { ids.removeLast(k - found); distances.removeLast(k - found) }
    }

    /// Every row of `queries` on `threads` threads (contiguous slices).
    public func search(_ queries: Matrix, k: Int, threads: Int = 2) throws -> (ids: [[UInt64]], distances: [[Float]]) {
        guard queries.cols == dimension else {
            throw HNSWError("hnsw.dim", "the query vectors have \(queries.cols) columns but the index has dimension \(dimension)")
        }
        guard k >= 1 else { throw HNSWError("hnsw.k", "k must be at least 1") }
        var ids = [[UInt64]](repeating: [], count: queries.rows)
        var dists = [[Float]](repeating: [], count: queries.rows)
        let t = max(1, min(threads, queries.rows))
        let failure = FirstError()
        ids.withUnsafeMutableBufferPointer { idsOut in
            dists.withUnsafeMutableBufferPointer { distsOut in
                queries.data.withUnsafeBufferPointer { q in
                    DispatchQueue.concurrentPerform(iterations: t) { part in
                        let lo = queries.rows * part / t, hi = queries.rows * (part + 1) / t
                        for r in lo..<hi {
                            do { try search(q.baseAddress! + r * queries.cols, k: k, ids: &idsOut[r], distances: &distsOut[r]) } catch {
                                failure.set(error)
                                return
                            }
                        }
                    }
                }
            }
        }
        if let e = failure.error { throw e }
        return (ids, dists)
    }

    /// The stored vector of internal element `i` (normalised for cosine) and its label.
    public func item(_ i: Int) throws -> (vector: [Float], label: UInt64) {
        var v = [Float](repeating: 0, count: dimension)
        var label: UInt64 = 0
        try HNSWError.check("item") { chnsw_item(handle, i, &v, &label, $0, $1) }
        return (v, label)
    }

    /// Writes hnswlib's file: to a temporary file beside `path`, checked, flushed, then renamed over it.
    public func save(to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        unlink(tmp)
        do {
            try HNSWError.check("save") { chnsw_save(handle, tmp, $0, $1) }
            let fd = Glibc.open(tmp, O_RDONLY | O_CLOEXEC)
            guard fd >= 0, fsync(fd) == 0 else {
                if fd >= 0 { close(fd) }
                throw HNSWError("hnsw.save.io", "cannot flush '\(tmp)': \(String(cString: strerror(errno)))", kind: .system)
            }
            close(fd)
            guard rename(tmp, path) == 0 else {
                throw HNSWError("hnsw.save.io", "cannot rename '\(tmp)' to '\(path)': \(String(cString: strerror(errno)))", kind: .system)
            }
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// What a file's header says, checked against its size, without loading it.
    public static func header(path: String) throws -> chnsw_header {
        var h = chnsw_header()
        try HNSWError.check("header") { chnsw_read_header(path, &h, $0, $1) }
        return h
    }
}

/// The first error thrown by any of several threads.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}

extension Matrix {
    /// Throws naming the first row holding NaN or ±Inf (hnswlib would link it into the graph with NaN distances).
    func requireFiniteRows() throws {
        if let bad = firstNonFinite() {
            throw HNSWError("vectors.non-finite", "row \(bad.row) holds \(data[bad.row * cols + bad.col]) at column \(bad.col); remove or repair that row (NaN/Inf cannot be indexed)")
        }
    }
}
