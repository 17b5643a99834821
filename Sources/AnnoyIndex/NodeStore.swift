// Growable, zero-filled node memory for building (Annoy's realloc'd `_nodes`). Owns its bytes.
import ClipCore
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class NodeStore: @unchecked Sendable {
    let layout: NodeLayout
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(layout: NodeLayout, capacity: Int) {
        self.layout = layout
        self.capacity = max(capacity, 1)
        base = calloc(self.capacity, layout.size)!
    }

    deinit { free(base) }

    @inline(__always)
    subscript(_ i: Int32) -> NodeRef { NodeRef(base + Int(i) * layout.size, layout) }

    @inline(__always)
    subscript(_ i: Int) -> NodeRef { NodeRef(base + i * layout.size, layout) }

    /// Appends a zeroed node and returns its index. Invalidates earlier NodeRefs into this store.
    func append() -> Int {
        if count == capacity {
            let grown = max(count + 1, Int(Double(capacity + 1) * 1.3))
            base = realloc(base, grown * layout.size)!
            memset(base + capacity * layout.size, 0, (grown - capacity) * layout.size)
            capacity = grown
        }
        count += 1
        return count - 1
    }

    /// Appends a copy of every node of `other`.
    func append(contentsOf other: NodeStore) {
        let start = count
        for _ in 0..<other.count { _ = append() }
        (base + start * layout.size).copyMemory(from: other.base, byteCount: other.count * layout.size)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count * layout.size) }

    /// A fixed view for hot loops (no class-property access per node). Valid while no append happens.
    var table: NodeTable { NodeTable(base: base, layout: layout, count: count) }
}

/// Nodes at fixed addresses: the item nodes during a build.
struct NodeTable {
    let base: UnsafeMutableRawPointer
    let layout: NodeLayout
    let count: Int

    @inline(__always)
    subscript(_ i: Int32) -> NodeRef { NodeRef(base + Int(i) * layout.size, layout) }
}

extension NodeStore {
    /// The item nodes exactly as Annoy's add_item (+ Dot's preprocess) leaves them, filled by
    /// `threads` threads; a NaN/Inf anywhere is refused, naming the first bad row.
    static func items(_ vectors: Matrix, metric: Metric, threads: Int) throws -> NodeStore {
        let layout = NodeLayout(metric: metric, f: vectors.cols)
        let f = vectors.cols, rows = vectors.rows
        let store = NodeStore(layout: layout, capacity: rows)
        for _ in 0..<rows { _ = store.append() }
        let table = store.table
        let parts = min(rows, threads * 8)
        var firstBad = [Int](repeating: Int.max, count: parts)
        vectors.data.withUnsafeBufferPointer { src in
            firstBad.withUnsafeMutableBufferPointer { bad in
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    for i in (rows * part / parts)..<(rows * (part + 1) / parts) {
                        let n = table[Int32(i)]
                        let row = src.baseAddress! + i * f
                        var finite = true
                        for c in 0..<f where !row[c].isFinite { finite = false; break }
                        if !finite && bad[part] == Int.max { bad[part] = i }
                        n.nDescendants = 1
                        n.v.update(from: row, count: f)
                        initNode(metric, n, f: f)
                    }
                }
            }
        }
        if let row = firstBad.min(), row != Int.max {
            let col = (0..<f).first { !vectors.data[row * f + $0].isFinite }!
            throw AnnoyError("vectors.non-finite",
                             "vector row \(row) holds \(vectors.data[row * f + col]) at column \(col); remove or repair that row (NaN/Inf cannot be indexed)")
        }
        if metric == .dot { dotPreprocess(store) }
        return store
    }

    /// DotProduct::preprocess: the extra coordinate sqrt(max_norm² − |v|²) that turns inner
    /// product search into angular search (Bachrach et al., 2014).
    private static func dotPreprocess(_ s: NodeStore) {
        let f = s.layout.f
        var maxNorm: Float = 0
        for i in 0..<s.count {
            let d = annoyDot(s[i].v, s[i].v, f)
            let norm: Float = d < 0 ? 0 : d.squareRoot()
            s[i].extra = norm
            if norm > maxNorm { maxNorm = norm }
        }
        for i in 0..<s.count {
            let nn = s[i].extra
            let diff = maxNorm * maxNorm - nn * nn
            s[i].extra = diff < 0 ? 0 : diff.squareRoot()
        }
    }
}
