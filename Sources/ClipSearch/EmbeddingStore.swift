// The catalog's embeddings as a server holds them: every committed shard file mapped read-only (no
// copy at start; pages come from the page cache and are shared with other processes serving the same
// catalog), and the rows added since start in memory. Appending a row makes a new store that shares
// the mapped segments, so a live addition costs its own row, never a copy of a million.
//
// Mapping means the shard files must not be rewritten in place while a server runs (a file truncated
// under a mapping raises SIGBUS); clipwb never does: every catalog file is written under a fresh name.
import ClipCore

/// One run of consecutive rows: a mapped shard file, or rows held in memory.
final class EmbeddingSegment: @unchecked Sendable {
    let rows: Int
    let cols: Int
    private let file: MappedFile?
    private let offset: Int
    private let memory: [Float]

    /// A shard file's float32 rows, mapped (copied only when the data is not 4-byte aligned).
    init(npy: NPYFile, rows: Int, cols: Int) {
        (self.rows, self.cols) = (rows, cols)
        if npy.dataOffset % MemoryLayout<Float>.alignment == 0 {
            (file, offset, memory) = (npy.file, npy.dataOffset, [])
        } else {
            (file, offset) = (nil, 0)
            memory = npy.file.withBytes { b in
                [Float](unsafeUninitializedCapacity: rows * cols) { out, n in
                    UnsafeMutableRawBufferPointer(out).copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: b[npy.dataOffset..<(npy.dataOffset + rows * cols * 4)]))
                    n = rows * cols
                }
            }
        }
    }

    init(_ m: Matrix) {
        (rows, cols, file, offset, memory) = (m.rows, m.cols, nil, 0, m.data)
    }

    /// Lends the segment's values, row-major `[rows, cols]`.
    func withValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let file {
            return try file.withBytes { b in
                try body(UnsafeBufferPointer(start: (b.baseAddress! + offset).assumingMemoryBound(to: Float.self),
                                             count: rows * cols))
            }
        }
        return try memory.withUnsafeBufferPointer(body)
    }

    var inMemory: Bool { file == nil }
}

public struct EmbeddingStore: Sendable {
    let segments: [EmbeddingSegment]
    /// First row of each segment.
    let starts: [Int]
    public let rows: Int
    public let cols: Int

    init(segments: [EmbeddingSegment], cols: Int) {
        self.segments = segments
        self.cols = cols
        var s: [Int] = [], n = 0
        for seg in segments { s.append(n); n += seg.rows }
        (starts, rows) = (s, n)
    }

    public init(_ m: Matrix) { self.init(segments: m.rows > 0 ? [EmbeddingSegment(m)] : [], cols: m.cols) }

    /// Row `i` (0 ≤ i < rows), copied.
    public func row(_ i: Int) -> [Float] {
        precondition(i >= 0 && i < rows, "EmbeddingStore.row(\(i)) of \(rows)")
        var lo = 0, hi = segments.count - 1
        while lo < hi {  // the last segment starting at or before i
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= i { lo = mid } else { hi = mid - 1 }
        }
        let r = i - starts[lo]
        return segments[lo].withValues { Array($0[(r * cols)..<((r + 1) * cols)]) }
    }

    /// The store with `m`'s rows after these: the mapped segments are shared; the in-memory tail (rows
    /// added since start) is copied once more with the new rows.
    public func appending(_ m: Matrix) -> EmbeddingStore {
        precondition(m.cols == cols, "appending \(m.cols)-wide rows to a \(cols)-wide store")
        var segs = segments
        if let last = segs.last, last.inMemory {
            segs.removeLast()
            let old = last.withValues { Array($0) }
            segs.append(EmbeddingSegment(Matrix(rows: last.rows + m.rows, cols: cols, data: old + m.data)))
        } else {
            segs.append(EmbeddingSegment(m))
        }
        return EmbeddingStore(segments: segs, cols: cols)
    }

    /// The `n` rows ≥ `first` nearest to `query` by exact search, ids counted from 0.
    public func nearest(to query: [Float], n: Int, from first: Int) -> [Neighbor] {
        var hits: [Neighbor] = []
        for (s, seg) in zip(starts, segments) where s + seg.rows > first {
            let skip = max(0, first - s)
            hits += seg.withValues { v in
                exactNeighbors(UnsafeBufferPointer(rebasing: v[(skip * cols)...]), cols: cols, query: query,
                               n: n, firstID: s + skip)
            }
        }
        hits.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        return Array(hits.prefix(n))
    }

    /// All rows in one contiguous matrix (for the index builder).
    public func matrix() -> Matrix {
        var data = [Float]()
        data.reserveCapacity(rows * cols)
        for seg in segments { seg.withValues { data.append(contentsOf: $0) } }
        return Matrix(rows: rows, cols: cols, data: data)
    }
}
