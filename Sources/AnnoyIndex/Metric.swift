// Metrics and the node layout of annoylib.h (1.17). Every node has the same size; item i is node i.
//   Angular:   n_descendants:Int32 | union{children[2]:Int32, norm:Float} | v[f]   → 12 + 4f bytes
//   Euclidean: n_descendants:Int32 | a:Float | children[2]:Int32         | v[f]   → 16 + 4f bytes
//   Dot:       n_descendants:Int32 | children[2]:Int32 | dot_factor:Float | v[f]   → 16 + 4f bytes
// A node with n_descendants ≤ K (and not an item) is a bucket: children[] runs on over the rest of the node.

public enum Metric: String, Sendable, Codable, CaseIterable {
    case angular, euclidean, dot

    public init(parsing s: String) throws {
        guard let m = Metric(rawValue: s.lowercased()) else {
            throw AnnoyError("metric.unknown", "unknown metric '\(s)'; use one of: angular, euclidean, dot")
        }
        self = m
    }
}

/// Byte offsets of one metric's node for dimension `f`.
public struct NodeLayout: Sendable, Equatable {
    public let metric: Metric
    public let f: Int
    public let size: Int
    public let childrenOffset: Int
    public let vOffset: Int
    /// Angular: the item's squared norm (aliases children[0]); Euclidean: the plane offset `a`;
    /// Dot: `dot_factor`.
    public let extraOffset: Int
    /// Annoy's `_K`: the most item ids a bucket node holds.
    public let K: Int

    public init(metric: Metric, f: Int) {
        self.metric = metric
        self.f = f
        switch metric {
        case .angular: (childrenOffset, extraOffset, vOffset) = (4, 4, 12)
        case .euclidean: (childrenOffset, extraOffset, vOffset) = (8, 4, 16)
        case .dot: (childrenOffset, extraOffset, vOffset) = (4, 12, 16)
        }
        size = vOffset + 4 * f
        K = (size - childrenOffset) / 4
    }
}

/// A typed view of one node inside memory owned elsewhere (the mapped file or a build buffer).

struct NodeRef {
    let p: UnsafeMutableRawPointer
    let layout: NodeLayout

    init(_ p: UnsafeMutableRawPointer, _ layout: NodeLayout) { self.p = p; self.layout = layout }

    var nDescendants: Int32 {
        get { p.load(as: Int32.self) }
        nonmutating set { p.storeBytes(of: newValue, as: Int32.self) }
    }
    var extra: Float {
        get { p.load(fromByteOffset: layout.extraOffset, as: Float.self) }
        nonmutating set { p.storeBytes(of: newValue, toByteOffset: layout.extraOffset, as: Float.self) }
    }
    var children: UnsafeMutablePointer<Int32> {
        (p + layout.childrenOffset).assumingMemoryBound(to: Int32.self)
    }
    var v: UnsafeMutablePointer<Float> { (p + layout.vOffset).assumingMemoryBound(to: Float.self) }
}
