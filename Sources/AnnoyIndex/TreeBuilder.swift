// Tree construction: annoylib.h's _make_tree, node for node. Large splits compute their margins on
// several threads (pure arithmetic, identical per point); sides and coin flips are then taken in order.
// One TreeBuilder per build thread, each with its own random stream and node store.
import Dispatch

struct TreeBuilder {
    let metric: Metric
    let store: NodeStore
    let items: NodeTable
    var rng: Kiss64Random
    let threads: Int
    /// Tree nodes in creation order; node id = itemCount + index.
    let out: NodeStore
    /// Margins of the current split, filled in parallel.
    var margins: [Float] = []
    /// Indices into `out` of the split nodes (their children may name other tree nodes).
    var splitNodes: [Int] = []

    /// Splits over fewer points than this compute margins on the calling thread.
    static let parallelThreshold = 256

    /// Cores this build may lend to large splits.
    let spare: SpareCores

    init(metric: Metric, items: NodeStore, rng: Kiss64Random, threads: Int = 1, spare: SpareCores? = nil) {
        self.spare = spare ?? SpareCores(threads - 1)
        self.metric = metric
        self.store = items
        self.items = items.table
        self.rng = rng
        self.threads = threads
        out = NodeStore(layout: items.layout, capacity: max(16, items.count / 64))
    }

    /// Annoy's `_split_imbalance`, with its float/double mix.
    static func imbalance(_ l: Int, _ r: Int) -> Double {
        let ls = Double(Float(l)), rs = Double(Float(r))
        let f = Float(ls / (ls + rs + 1e-9))
        return Double(max(f, 1 - f))
    }

    /// `D::side` for every index in order (a coin flip on a zero margin).
    mutating func assignSides(_ indices: [Int32], _ m: NodeRef, _ sides: inout [[Int32]]) {
        if threads > 1 && indices.count >= Self.parallelThreshold {
            computeMargins(indices, m)
            for (at, j) in indices.enumerated() {
                let mg = margins[at]
                sides[mg != 0 ? (mg > 0 ? 1 : 0) : rng.flip()].append(j)
            }
            return
        }
        let f = items.layout.f
        var at = 0
        while at + 4 <= indices.count {
            let mg = metric.margin4(m, items[indices[at]].v, items[indices[at + 1]].v,
                                    items[indices[at + 2]].v, items[indices[at + 3]].v, f: f)
            for lane in 0..<4 {
                sides[mg[lane] != 0 ? (mg[lane] > 0 ? 1 : 0) : rng.flip()].append(indices[at + lane])
            }
            at += 4
        }
        while at < indices.count {
            sides[side(metric: metric, m, items[indices[at]].v, f: f, rng: &rng)].append(indices[at])
            at += 1
        }
    }

    /// margins[i] = margin of split `m` for item indices[i], in chunks across `threads` threads.
    mutating func computeMargins(_ indices: [Int32], _ m: NodeRef) {
        let n = indices.count, f = items.layout.f, items = self.items, metric = self.metric
        if margins.count < n { margins = [Float](repeating: 0, count: n) }
        // Many small chunks: a worker descheduled on a shared machine then delays the split by one
        // small chunk, not by a whole share.
        let chunks = max(threads, min(64, n / 256))
        margins.withUnsafeMutableBufferPointer { out in
            indices.withUnsafeBufferPointer { idx in
                let out = out, idx = idx
                spare.parallelFor(chunks) { c in
                    var at = n * c / chunks
                    let end = n * (c + 1) / chunks
                    while at + 4 <= end {
                        let mg = metric.margin4(m, items[idx[at]].v, items[idx[at + 1]].v,
                                                items[idx[at + 2]].v, items[idx[at + 3]].v, f: f)
                        for lane in 0..<4 { out[at + lane] = mg[lane] }
                        at += 4
                    }
                    while at < end {
                        out[at] = metric.margin(m, items[idx[at]].v, f: f)
                        at += 1
                    }
                }
            }
        }
    }

    mutating func makeTree(_ indices: [Int32], isRoot: Bool) -> Int32 {
        let layout = items.layout, f = layout.f, nItems = items.count
        if indices.count == 1 && !isRoot { return indices[0] }
        if indices.count <= layout.K && (!isRoot || nItems <= layout.K || indices.count == 1) {
            let local = out.append()
            let m = out[local]
            m.nDescendants = Int32(isRoot ? nItems : indices.count)
            indices.withUnsafeBufferPointer { m.children.update(from: $0.baseAddress!, count: indices.count) }
            return Int32(nItems + local)
        }
        // m: the split node under construction; p, q: two_means' centroids.
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 3 * layout.size, alignment: 64)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 3 * layout.size)
        defer { scratch.deallocate() }
        let m = NodeRef(scratch, layout), p = NodeRef(scratch + layout.size, layout)
        let q = NodeRef(scratch + 2 * layout.size, layout)
        var sides: [[Int32]] = [[], []]
        for _ in 0..<3 {
            sides[0].removeAll(keepingCapacity: true)
            sides[1].removeAll(keepingCapacity: true)
            createSplit(metric: metric, items: items, indices: indices, rng: &rng, n: m, p: p, q: q)
            assignSides(indices, m, &sides)
            if Self.imbalance(sides[0].count, sides[1].count) < 0.95 { break }
        }
        // No hyperplane found: randomize sides as a last option.
        while Self.imbalance(sides[0].count, sides[1].count) > 0.99 {
            sides[0].removeAll(keepingCapacity: true)
            sides[1].removeAll(keepingCapacity: true)
            m.v.update(repeating: 0, count: f)
            for j in indices { sides[rng.flip()].append(j) }
        }
        let flip = sides[0].count > sides[1].count ? 1 : 0
        m.nDescendants = Int32(isRoot ? nItems : indices.count)
        // The smaller child first (Annoy's cache-locality order).
        for s in 0..<2 {
            m.children[s ^ flip] = makeTree(sides[s ^ flip], isRoot: false)
        }
        let local = out.append()
        out[local].p.copyMemory(from: scratch, byteCount: layout.size)
        splitNodes.append(local)
        return Int32(nItems + local)
    }
}
