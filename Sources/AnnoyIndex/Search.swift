// Annoy's search (annoylib.h's _get_all_nns): a max-priority queue over all trees keyed by the
// smallest margin on the path, until search_k candidates; then dedupe, re-rank by exact distance,
// keep the best k by (distance, id). Scratch lives in a Searcher, one per thread: nothing is
// allocated per node. Candidates are deduplicated and put in id order (Annoy's sort) through a bitset
// of all items: set a bit per candidate, read the set bits back in order.
import ClipCore
import Dispatch

public final class Searcher {
    public let index: AnnoyIndex
    private var heap: [(Float, Int32)] = []
    private var nns: [Int32] = []
    /// One bit per item; all zero between queries.
    private var seen: [UInt64]
    private var best: [(Float, Int32)] = []
    private let queryNode: UnsafeMutableRawPointer

    public init(index: AnnoyIndex) {
        self.index = index
        seen = [UInt64](repeating: 0, count: (index.itemCount + 63) / 64)
        queryNode = .allocate(byteCount: index.layout.size, alignment: 64)
        queryNode.initializeMemory(as: UInt8.self, repeating: 0, count: index.layout.size)
    }

    deinit { queryNode.deallocate() }

    /// The k nearest items to `v` (dimension floats), nearest first, with Annoy's distances.
    /// `searchK` -1 means Annoy's default k × trees. Parameters are checked by `checkParameters`.
    public func query(_ v: UnsafePointer<Float>, k: Int, searchK: Int, ids: inout [Int32], distances: inout [Float]) {
        // Work on locals: class-property access in the loops would pay exclusivity checks per node.
        var heap = self.heap, nns = self.nns, seen = self.seen, best = self.best
        self.heap = []; self.nns = []; self.seen = []; self.best = []
        defer { self.heap = heap; self.nns = nns; self.seen = seen; self.best = best }
        let ix = index, f = ix.dimension, metric = ix.metric, K = ix.layout.K, nItems = ix.itemCount
        let qn = NodeRef(queryNode, ix.layout)
        qn.v.update(from: v, count: f)
        qn.extra = 0
        initNode(metric, qn, f: f)
        let limit = searchK == -1 ? k * ix.roots.count : searchK

        heap.removeAll(keepingCapacity: true)
        nns.removeAll(keepingCapacity: true)
        for r in ix.roots { heapPush(&heap, (.infinity, r)) }
        while nns.count < limit, let (d, i) = heapPop(&heap) {
            let nd = ix.node(i)
            let n = Int(nd.nDescendants)
            if Int(i) < nItems {
                if n == 1 { nns.append(i) }
            } else if n <= K {
                nns.append(contentsOf: UnsafeBufferPointer(start: nd.children, count: n))
            } else {
                let margin = metric.margin(nd, v, f: f)
                heapPush(&heap, (min(d, margin), nd.children[1]))
                heapPush(&heap, (min(d, -margin), nd.children[0]))
            }
        }

        // Dedupe, exact distances, best k by (distance, id): Annoy's sort + partial_sort.
        // Visit items in file order, as Annoy's sort does: the reads stream instead of jumping.
        var lowWord = seen.count, highWord = 0
        for j in nns {
            let w = Int(j) >> 6
            seen[w] |= 1 << UInt64(j & 63)
            lowWord = min(lowWord, w)
            highWord = max(highWord, w)
        }
        nns.removeAll(keepingCapacity: true)
        if lowWord <= highWord {
            for w in lowWord...highWord where seen[w] != 0 {
                var bits = seen[w]
                seen[w] = 0
                while bits != 0 {
                    nns.append(Int32(w << 6 | bits.trailingZeroBitCount))
                    bits &= bits - 1
                }
            }
        }
        best.removeAll(keepingCapacity: true)
        var pending = 0
        for j in nns where ix.node(j).nDescendants == 1 {
            nns[pending] = j
            pending += 1
        }
        var at = 0
        while at + 4 <= pending {
            let d = metric.distance4(qn, ix.node(nns[at]), ix.node(nns[at + 1]), ix.node(nns[at + 2]),
                                     ix.node(nns[at + 3]), f: f)
            for lane in 0..<4 { keepBest(&best, (d[lane], nns[at + lane]), k: k) }
            at += 4
        }
        while at < pending {
            keepBest(&best, (metric.distance(qn, ix.node(nns[at]), f: f), nns[at]), k: k)
            at += 1
        }
        best.sort { $0 < $1 }
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        for (d, j) in best {
            ids.append(j)
            distances.append(metric.normalizedDistance(d))
        }
    }
}

// MARK: std::priority_queue<pair<T, S>>: a max-heap on (distance, id).

@inline(__always) private func heapPush(_ heap: inout [(Float, Int32)], _ e: (Float, Int32)) {
    heap.append(e)
    var c = heap.count - 1
    while c > 0 {
        let p = (c - 1) / 2
        guard heap[p] < heap[c] else { break }
        heap.swapAt(p, c)
        c = p
    }
}

@inline(__always) private func heapPop(_ heap: inout [(Float, Int32)]) -> (Float, Int32)? {
    guard let last = heap.popLast() else { return nil }
    guard !heap.isEmpty else { return last }
    let top = heap[0]
    heap[0] = last
    siftDown(&heap, count: heap.count)
    return top
}

/// Keeps the k smallest (distance, id) pairs in `best`, a max-heap while it is full.
@inline(__always) private func keepBest(_ best: inout [(Float, Int32)], _ e: (Float, Int32), k: Int) {
    if best.count < k {
        heapPush(&best, e)
    } else if e < best[0] {
        best[0] = e
        siftDown(&best, count: best.count)
    }
}

@inline(__always)
private func siftDown(_ h: inout [(Float, Int32)], count: Int) {
    var p = 0
    while true {
        let l = 2 * p + 1
        guard l < count else { return }
        var c = l
        if l + 1 < count && h[l] < h[l + 1] { c = l + 1 }
        guard h[p] < h[c] else { return }
        h.swapAt(p, c)
        p = c
    }
}

extension AnnoyIndex {
    /// Queries every row of `queries` on `threads` threads (contiguous slices, one Searcher each).
    public func search(_ queries: Matrix, k: Int, searchK: Int = -1, threads: Int = 2) -> (ids: [[Int32]], distances: [[Float]]) {
        var ids = [[Int32]](repeating: [], count: queries.rows)
        var dists = [[Float]](repeating: [], count: queries.rows)
        let t = max(1, min(threads, queries.rows))
        ids.withUnsafeMutableBufferPointer { idsOut in
            dists.withUnsafeMutableBufferPointer { distsOut in
                queries.data.withUnsafeBufferPointer { q in
                    DispatchQueue.concurrentPerform(iterations: t) { part in
                        let s = Searcher(index: self)
                        let lo = queries.rows * part / t, hi = queries.rows * (part + 1) / t
                        for r in lo..<hi {
                            s.query(q.baseAddress! + r * queries.cols, k: k, searchK: searchK,
                                    ids: &idsOut[r], distances: &distsOut[r])
                        }
                    }
                }
            }
        }
        return (ids, dists)
    }
}
