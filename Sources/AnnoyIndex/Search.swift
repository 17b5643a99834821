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
    /// One best-k list per part of a split distance pass.
    private var partBest: [[(Float, Int32)]] = []
    private let queryNode: UnsafeMutableRawPointer
    /// Threads the exact-distance pass of one query may use: the deduplicated candidates are split into contiguous
    /// parts, each keeps its own best k by (distance, id), and the parts are merged — the same k items and
    /// distances as one thread gives, since (distance, id) orders every candidate. 1: the calling thread alone.
    /// At a million items and search_k 40,080 this pass is most of a query (random reads of 2 KB nodes).
    public var distanceThreads = 1
    /// Fewer candidates than this stay on one thread: below it the split costs about what it saves.
    public static let splitCandidates = 8_192
    /// Parts the last query's distance pass ran in (1 when it stayed on the calling thread).
    public private(set) var lastParts = 1

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
        let pending = nns.count
        let parts = distanceThreads > 1 && pending >= Self.splitCandidates ? min(distanceThreads, pending / 1024) : 1
        lastParts = parts
        if parts <= 1 {
            nns.withUnsafeBufferPointer { distancePass(ix, qn, $0, 0..<pending, k: k, into: &best) }
        } else {
            var partBest = self.partBest
            self.partBest = []
            defer { self.partBest = partBest }
            while partBest.count < parts { partBest.append([]) }
            nns.withUnsafeBufferPointer { candidates in
                partBest.withUnsafeMutableBufferPointer { lists in
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        lists[part].removeAll(keepingCapacity: true)
                        distancePass(ix, qn, candidates, pending * part / parts..<pending * (part + 1) / parts, k: k,
                                     into: &lists[part])
                    }
                }
            }
            for part in 0..<parts { best.append(contentsOf: partBest[part]) }
        }
        best.sort { $0 < $1 }
        if best.count > k { best.removeLast(best.count - k) }
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        for (d, j) in best {
            ids.append(j)
            distances.append(metric.normalizedDistance(d))
        }
    }
}

/// Exact distances from the query node to the items among `candidates[range]` (Annoy skips a candidate whose node
/// is not one item, n_descendants ≠ 1: an id never added), keeping the k smallest (distance, id) in `best` (a
/// max-heap while full). The check reads the node header the distance reads next, so it costs no extra pass over
/// memory; four items at a time go through `distance4`, bit-identical to four single calls.
@inline(__always)
private func distancePass(_ ix: AnnoyIndex, _ qn: NodeRef, _ candidates: UnsafeBufferPointer<Int32>, _ range: Range<Int>,
                          k: Int, into best: inout [(Float, Int32)]) {
    let metric = ix.metric, f = ix.dimension
    var quad = SIMD4<Int32>(repeating: 0), filled = 0
    for at in range {
        let j = candidates[at]
        guard ix.node(j).nDescendants == 1 else { continue }
        quad[filled] = j
        filled += 1
        if filled == 4 {
            let d = metric.distance4(qn, ix.node(quad[0]), ix.node(quad[1]), ix.node(quad[2]), ix.node(quad[3]), f: f)
            for lane in 0..<4 { keepBest(&best, (d[lane], quad[lane]), k: k) }
            filled = 0
        }
    }
    for lane in 0..<filled { keepBest(&best, (metric.distance(qn, ix.node(quad[lane]), f: f), quad[lane]), k: k) }
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
