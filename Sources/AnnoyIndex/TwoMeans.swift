// Split-plane construction from annoylib.h (1.17): two_means, each metric's create_split, side().

/// Annoy's `two_means`: `iteration_steps` = 200 sampled points, each pulling the nearer of two
/// centroids (weighted by how many points it already absorbed).
func twoMeans(metric: Metric, items: NodeTable, indices: [Int32], rng: inout Kiss64Random,
              cosine: Bool, p: NodeRef, q: NodeRef) {
    let f = items.layout.f
    let count = indices.count
    let i = rng.index(count)
    var j = rng.index(count - 1)
    j += (j >= i) ? 1 : 0
    copyNode(metric, p, items[indices[i]], f: f)
    copyNode(metric, q, items[indices[j]], f: f)
    if cosine { normalize(metric, p, f: f); normalize(metric, q, f: f) }
    initNode(metric, p, f: f)
    initNode(metric, q, f: f)
    var ic = 1, jc = 1
    for _ in 0..<200 {
        let nk = items[indices[rng.index(count)]]
        let di = Float(ic) * metric.distance(p, nk, f: f)
        let dj = Float(jc) * metric.distance(q, nk, f: f)
        let norm: Float = cosine ? annoyDot(nk.v, nk.v, f).squareRoot() : 1
        if !(norm > 0) { continue }
        if di < dj {
            pull(p.v, toward: nk.v, norm: norm, weight: ic, f: f)
            initNode(metric, p, f: f)
            ic += 1
        } else if dj < di {
            pull(q.v, toward: nk.v, norm: norm, weight: jc, f: f)
            initNode(metric, q, f: f)
            jc += 1
        }
    }
}

/// c ← (c·w + x/norm) / (w + 1)
@inline(__always)
private func pull(_ c: UnsafeMutablePointer<Float>, toward x: UnsafeMutablePointer<Float>, norm: Float, weight: Int, f: Int) {
    let w = Float(weight), w1 = Float(weight + 1)
    for z in 0..<f { c[z] = (c[z] * w + x[z] / norm) / w1 }
}

/// Copies v (and Dot's dot_factor).
private func copyNode(_ metric: Metric, _ dst: NodeRef, _ src: NodeRef, f: Int) {
    dst.v.update(from: src.v, count: f)
    if metric == .dot { dst.extra = src.extra }
}

/// Base::normalize, or DotProduct::normalize which counts dot_factor as one more coordinate.
func normalize(_ metric: Metric, _ n: NodeRef, f: Int) {
    if metric == .dot {
        let norm = (annoyDot(n.v, n.v, f) + n.extra * n.extra).squareRoot()
        if norm > 0 {
            for z in 0..<f { n.v[z] /= norm }
            n.extra /= norm
        }
    } else {
        let norm = annoyDot(n.v, n.v, f).squareRoot()
        if norm > 0 { for z in 0..<f { n.v[z] /= norm } }
    }
}

/// Angular keeps the squared norm beside the vector; the others keep nothing.
@inline(__always)
func initNode(_ metric: Metric, _ n: NodeRef, f: Int) {
    if metric == .angular { n.extra = annoyDot(n.v, n.v, f) }
}

/// `D::create_split`: fills split node `n` with the plane between two centroids.
func createSplit(metric: Metric, items: NodeTable, indices: [Int32], rng: inout Kiss64Random,
                 n: NodeRef, p: NodeRef, q: NodeRef) {
    let f = items.layout.f
    if metric == .dot { p.extra = 0; q.extra = 0 }
    twoMeans(metric: metric, items: items, indices: indices, rng: &rng, cosine: metric != .euclidean, p: p, q: q)
    for z in 0..<f { n.v[z] = p.v[z] - q.v[z] }
    switch metric {
    case .angular:
        normalize(.angular, n, f: f)
    case .dot:
        n.extra = p.extra - q.extra
        normalize(.dot, n, f: f)
    case .euclidean:
        normalize(.euclidean, n, f: f)
        var a: Float = 0
        for z in 0..<f { a += -n.v[z] * (p.v[z] + q.v[z]) / 2 }
        n.extra = a
    }
}

/// `D::side`: the sign of the margin, a coin flip on exactly zero.
@inline(__always)
func side(metric: Metric, _ n: NodeRef, _ y: UnsafePointer<Float>, f: Int, rng: inout Kiss64Random) -> Int {
    let m = metric.margin(n, y, f: f)
    if m != 0 { return m > 0 ? 1 : 0 }
    return rng.flip()
}
