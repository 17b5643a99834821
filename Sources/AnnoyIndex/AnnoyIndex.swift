// A saved Annoy index, mapped read-only (annoylib.h's load): no copy, roots found the way Annoy
// finds them, and every tree node checked so a corrupt file gives an error instead of a crash.
// A long-running process loads it as a private copy instead, so a file replaced in place cannot kill it.
import ClipCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class AnnoyIndex: @unchecked Sendable {
    public let path: String
    public let metric: Metric
    public let layout: NodeLayout
    public var dimension: Int { layout.f }
    public let nodeCount: Int
    /// Annoy's `_n_items`: the n_descendants of the roots.
    public let itemCount: Int
    /// Annoy's `_roots`, in its order.
    public let roots: [Int32]
    let file: MappedFile
    let base: UnsafeMutableRawPointer

    public var treeCount: Int { roots.count }
    public var fileSize: Int { file.count }

    /// `backing: .privateCopy` reads the file into memory (servers); `.mapping` maps it (one-shot commands).
    public init(path: String, metric: Metric, dimension: Int, backing: MappedFile.Backing = .mapping) throws {
        guard dimension > 0 else { throw AnnoyError("index.dim", "the dimension must be positive (got \(dimension))") }
        layout = NodeLayout(metric: metric, f: dimension)
        self.path = path
        self.metric = metric
        file = try MappedFile(path: path, backing: backing)
        guard file.count > 0, let p = file.baseAddress else {
            throw AnnoyError("index.empty", "'\(path)' is empty (0 bytes): the index holds no items; rebuild it from vectors with at least one row")
        }
        guard file.count % layout.size == 0 else {
            throw AnnoyError("index.size",
                "'\(path)' is \(file.count) bytes, not a multiple of the \(layout.size)-byte node of a \(metric.rawValue) index of dimension \(dimension): the file is truncated or corrupt, or it was built with another --dim/--metric")
        }
        base = UnsafeMutableRawPointer(mutating: p)
        nodeCount = file.count / layout.size
        (roots, itemCount) = Self.findRoots(base, layout: layout, nodeCount: nodeCount)
        try validate()
    }

    @inline(__always)
    func node(_ i: Int32) -> NodeRef { NodeRef(base + Int(i) * layout.size, layout) }

    /// annoylib.h's load: the trailing run of nodes sharing the last node's n_descendants are the
    /// roots; if the first and last of the run have the same children[0], the last is the original
    /// of a copied root and is dropped.
    static func findRoots(_ base: UnsafeMutableRawPointer, layout: NodeLayout, nodeCount: Int) -> ([Int32], Int) {
        var roots: [Int32] = []
        var m: Int32 = -1
        var i = nodeCount - 1
        while i >= 0 {
            let k = NodeRef(base + i * layout.size, layout).nDescendants
            if m == -1 || k == m { roots.append(Int32(i)); m = k } else { break }
            i -= 1
        }
        let first = NodeRef(base + Int(roots[0]) * layout.size, layout)
        let last = NodeRef(base + Int(roots[roots.count - 1]) * layout.size, layout)
        if roots.count > 1 && first.children[0] == last.children[0] { roots.removeLast() }
        return (roots, Int(m))
    }

    /// Every tree node must point inside the file: buckets at items, splits at earlier nodes
    /// (Annoy writes children before parents), so the search can neither read out of range nor loop.
    /// And the roots must span a forest, each tree node reached at most once: split nodes sharing a
    /// child make a DAG whose paths (all searched) grow as 2^depth. Annoy's roots list may hold a
    /// root twice (its copy at the end of the file and, when load's "hacky fix" misses it, the
    /// original): a root byte-identical to an earlier one is searched again, as by Annoy, but its tree
    /// is counted once. One pass from the last node down, as every parent comes after its children.
    private func validate() throws {
        guard itemCount >= 1, itemCount <= nodeCount else {
            throw corrupt("its roots claim \(itemCount) items in a file of \(nodeCount) nodes")
        }
        // One bit per tree node: reached from a root.
        var reached = [UInt64](repeating: 0, count: (nodeCount - itemCount + 63) / 64)
        let originals = try rootOriginals()
        try reached.withUnsafeMutableBufferPointer { bits in
            let (items, K) = (itemCount, layout.K)
            /// Marks node `c` reached; false if it already was. Items are shared by every tree.
            func reach(_ c: Int32) -> Bool {
                let b = Int(c) - items
                guard b >= 0 else { return true }
                let (w, m) = (b >> 6, UInt64(1) << UInt64(b & 63))
                defer { bits[w] |= m }
                return bits[w] & m == 0
            }
            for (r, original) in originals where original == nil { _ = reach(r) }
            for i in stride(from: nodeCount - 1, through: items, by: -1) {
                let n = node(Int32(i))
                let nd = Int(n.nDescendants)
                guard nd >= 1 else { throw corrupt("node \(i) has \(nd) descendants") }
                if nd <= K {
                    for c in 0..<nd where n.children[c] < 0 || Int(n.children[c]) >= items {
                        throw corrupt("bucket node \(i) names item \(n.children[c]), outside 0..<\(items)")
                    }
                } else {
                    for c in 0..<2 where n.children[c] < 0 || Int(n.children[c]) >= i {
                        throw corrupt("split node \(i) has child id \(n.children[c]) out of range (0..<\(i))")
                    }
                    guard bits[(i - items) >> 6] & (1 << UInt64((i - items) & 63)) != 0 else { continue }
                    for c in 0..<2 where !reach(n.children[c]) {
                        throw corrupt("node \(n.children[c]) is reached twice (again from split node \(i)): the trees share nodes, so this is not an Annoy forest")
                    }
                }
            }
        }
    }

    private func corrupt(_ what: String) -> AnnoyError {
        AnnoyError("index.corrupt", "'\(path)' is corrupt: \(what); rebuild the index (or check --dim/--metric)")
    }

    /// For each root, the earlier root it is a byte-for-byte copy of (nil if none). A split root
    /// appears at most twice in a file Annoy wrote (its copy and its original); more copies would
    /// multiply the search's work, so they are refused. Bucket roots may repeat (n_items ≤ K).
    private func rootOriginals() throws -> [(Int32, Int32?)] {
        var byChildren: [Int64: [Int32]] = [:]
        var copies: [Int32: Int] = [:]
        var out: [(Int32, Int32?)] = []
        for r in roots {
            let n = node(r)
            guard Int(r) >= itemCount, Int(n.nDescendants) > layout.K else { out.append((r, nil)); continue }
            let key = Int64(n.children[0]) << 32 | Int64(UInt32(bitPattern: n.children[1]))
            let original = byChildren[key, default: []].first { memcmp(node($0).p, n.p, layout.size) == 0 }
            if let original {
                copies[original, default: 1] += 1
                guard copies[original]! <= 2 else {
                    throw corrupt("root \(r) is a third copy of root \(original) (Annoy writes at most two)")
                }
            } else {
                byChildren[key, default: []].append(r)
            }
            out.append((r, original))
        }
        return out
    }

    /// The stored vector of item `i` (for Dot, without the extra coordinate).
    public func item(_ i: Int) -> [Float] {
        let n = node(Int32(i))
        return Array(UnsafeBufferPointer(start: n.v, count: dimension))
    }

    /// Checks a query batch against this index: dimension, finiteness.
    public func checkQueries(_ q: Matrix) throws {
        guard q.cols == dimension else {
            throw AnnoyError("query.dim", "the query vectors have \(q.cols) columns but the index '\(path)' has dimension \(dimension); embed the queries with the model that built the index")
        }
        try q.requireFinite("query")
    }

    /// Checks k and search_k: k at most the collection, search_k (when given) at least k.
    public func checkParameters(k: Int, searchK: Int?) throws {
        guard k >= 1 else { throw AnnoyError("query.k", "k must be at least 1 (got \(k))") }
        guard k <= itemCount else {
            throw AnnoyError("query.k", "k=\(k) is larger than the collection: the index holds \(itemCount) items; ask for at most \(itemCount)")
        }
        if let s = searchK, s != -1, s < k {
            throw AnnoyError("query.search-k", "search_k=\(s) is smaller than k=\(k): Annoy would inspect fewer candidates than it must return; use search_k ≥ k (or -1 for the default \(k) × \(treeCount) trees)")
        }
    }
}
