// Annoy's build (annoylib.h 1.17: build, thread_build, _make_tree), with Annoy's thread policy.
// One thread: trees one after another from one Kiss64Random(seed), nodes numbered as Annoy numbers
// them — the file Python annoy builds with n_jobs=1 and the same seed.
// T threads: as Annoy's n_jobs=T, thread t builds floor((trees + t) / T) trees from its own
// Kiss64Random(seed + t), so the forest is the one annoy builds with n_jobs=T (same trees; annoy's node
// numbering and root order depend on which thread takes its lock first, ours are fixed: thread 0's nodes and
// roots, then thread 1's, …). A given seed and thread count always give the same file. Large splits also
// share their margins across idle cores (pure arithmetic, no number changes), which is what speeds a
// one-tree build or the last tree of an uneven share.
import ClipCore
import Dispatch

public struct BuildOptions: Sendable {
    public var trees: Int
    public var seed: UInt64
    public var threads: Int

    public init(trees: Int, seed: UInt64 = Kiss64Random.defaultSeed, threads: Int = 1) {
        self.trees = trees
        self.seed = seed
        self.threads = threads
    }
}

/// A built forest in memory, ready to be written in Annoy's file layout.
public final class BuiltIndex: @unchecked Sendable {
    public let metric: Metric
    public let layout: NodeLayout
    public let itemCount: Int
    let items: NodeStore
    /// Split and bucket nodes in creation order (node id = itemCount + index).
    let trees: NodeStore
    /// Final node ids of the roots, in Annoy's `_roots` order.
    public let roots: [Int32]
    /// Seconds spent making item nodes (Annoy's add_item + preprocess) and building trees (Annoy's build()).
    public internal(set) var prepareSeconds = 0.0
    public internal(set) var treeSeconds = 0.0

    init(metric: Metric, items: NodeStore, trees: NodeStore, roots: [Int32]) {
        self.metric = metric
        self.layout = items.layout
        self.itemCount = items.count
        self.items = items
        self.trees = trees
        self.roots = roots
    }

    public var nodeCount: Int { itemCount + trees.count + roots.count }
    public var fileSize: Int { nodeCount * layout.size }

    /// Writes items, tree nodes, then a copy of every root (how Annoy's load finds them).
    public func write(to path: String) throws {
        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, items.bytes, path: path)
            try AtomicFile.writeAll(fd, trees.bytes, path: path)
            for r in roots {
                let root = trees[Int(r) - itemCount]
                try AtomicFile.writeAll(fd, UnsafeRawBufferPointer(start: root.p, count: layout.size), path: path)
            }
        }
    }
}

public enum AnnoyBuilder {
    /// Builds `options.trees` trees over the rows of `vectors`. `onTree` is called once per finished tree.
    public static func build(_ vectors: Matrix, metric: Metric, options: BuildOptions,
                             onTree: (@Sendable () -> Void)? = nil) throws -> BuiltIndex {
        guard vectors.rows > 0 else {
            throw AnnoyError("index.empty", "there are no vectors to index; pass a .npy with at least one row")
        }
        guard vectors.cols > 0 else { throw AnnoyError("vectors.shape", "the vectors have zero columns") }
        guard options.trees >= 1 else {
            throw AnnoyError("build.trees", "--trees must be at least 1 (got \(options.trees))")
        }
        guard vectors.rows < Int(Int32.max) / 2 else {
            throw AnnoyError("build.too-large", "Annoy's 32-bit node ids cannot index \(vectors.rows) vectors")
        }
        let threads = max(1, options.threads)
        let t0 = Clock.now()
        let items = try NodeStore.items(vectors, metric: metric, threads: threads)
        let t1 = Clock.now()
        let all = (0..<Int32(items.count)).map { $0 }
        // Annoy's share of trees per thread (a thread whose share is 0 builds nothing).
        let shares = (0..<threads).map { (options.trees + $0) / threads }
        // Thread t writes slot t only; read after every thread has joined.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<(TreeBuilder?, [Int32])>.allocate(capacity: threads)
        slots.initialize(repeating: (nil, []))
        defer { slots.deallocate() }
        let spare = SpareCores(shares.filter { $0 == 0 }.count)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            guard shares[t] > 0 else { return }
            var tb = TreeBuilder(metric: metric, items: items, rng: Kiss64Random(seed: options.seed &+ UInt64(t)),
                                 threads: threads, spare: spare)
            var roots: [Int32] = []
            for _ in 0..<shares[t] {
                roots.append(tb.makeTree(all, isRoot: true))
                onTree?()
            }
            slots[t] = (tb, roots)
            spare.giveBack()
        }
        // Thread t's nodes follow those of threads 0..<t: shift its tree-node ids by what precedes them.
        let nodes = NodeStore(layout: items.layout, capacity: slots.reduce(0) { $0 + ($1.0?.out.count ?? 0) })
        var roots: [Int32] = []
        for t in 0..<threads {
            guard let tb = slots[t].0 else { continue }
            let shift = Int32(nodes.count), nItems = Int32(items.count)
            nodes.append(contentsOf: tb.out)
            for local in tb.splitNodes {
                let n = nodes[Int(shift) + local]
                for c in 0..<2 where n.children[c] >= nItems { n.children[c] += shift }
            }
            roots += slots[t].1.map { $0 >= nItems ? $0 + shift : $0 }
        }
        let built = BuiltIndex(metric: metric, items: items, trees: nodes, roots: roots)
        built.prepareSeconds = t1 - t0
        built.treeSeconds = Clock.now() - t1
        return built
    }
}
