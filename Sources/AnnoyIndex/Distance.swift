#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

// The distance kernels of annoylib.h, in the summation order of its AVX-512 path (the one the
// `annoy` wheel on this machine runs): 16 lanes of fused multiply-adds, reduced halves-first like
// _mm512_reduce_add_ps, then a scalar tail that is *not* fused (checked against stored norms). Matching that order keeps margins bit-identical
// to Annoy's, so both walk the trees in the same order.

// The 16 lanes of one __m512 accumulator are kept as two SIMD8 halves (lanes 0–7, 8–15): the same
// sums in the same order, but LLVM lowers SIMD16<Float> for AVX2 with blends and spills, SIMD8 cleanly.

#if arch(x86_64)
/// vfmadd231ps: SIMD8's generic addingProduct is lowered lane by lane; the intrinsic is one instruction.
@inline(__always)
func fma8(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> { _mm256_fmadd_ps(a, b, c) }
#else
@inline(__always)
func fma8(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> { c.addingProduct(a, b) }
#endif

@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// Annoy's `dot` (AVX-512 path).
public func annoyDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ f: Int) -> Float {
    var result: Float = 0
    var i = 0
    if f > 15 {
        var lo = SIMD8<Float>(repeating: 0), hi = lo
        while i + 16 <= f {
            lo = fma8(load8(x, i), load8(y, i), lo)
            hi = fma8(load8(x, i + 8), load8(y, i + 8), hi)
            i += 16
        }
        result = reduceAdd(lo, hi)
    }
    while i < f {
        result += x[i] * y[i]
        i += 1
    }
    return result
}

/// Annoy's `euclidean_distance` (squared; AVX-512 path).
public func annoyEuclidean(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ f: Int) -> Float {
    var result: Float = 0
    var i = 0
    if f > 15 {
        var lo = SIMD8<Float>(repeating: 0), hi = lo
        while i + 16 <= f {
            let dl = load8(x, i) - load8(y, i), dh = load8(x, i + 8) - load8(y, i + 8)
            lo = fma8(dl, dl, lo)
            hi = fma8(dh, dh, hi)
            i += 16
        }
        result = reduceAdd(lo, hi)
    }
    while i < f {
        let d = x[i] - y[i]
        result += d * d
        i += 1
    }
    return result
}

/// `annoyDot` of one vector with four others at once, each in exactly `annoyDot`'s order: four
/// independent chains keep more of the memory reads in flight (search and build are bound by them).
public func annoyDot4(_ x: UnsafePointer<Float>, _ y0: UnsafePointer<Float>, _ y1: UnsafePointer<Float>,
                      _ y2: UnsafePointer<Float>, _ y3: UnsafePointer<Float>, _ f: Int) -> SIMD4<Float> {
    var r = SIMD4<Float>(repeating: 0)
    var i = 0
    if f > 15 {
        var l0 = SIMD8<Float>(repeating: 0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0
        while i + 16 <= f {
            let ql = load8(x, i), qh = load8(x, i + 8)
            l0 = fma8(ql, load8(y0, i), l0); h0 = fma8(qh, load8(y0, i + 8), h0)
            l1 = fma8(ql, load8(y1, i), l1); h1 = fma8(qh, load8(y1, i + 8), h1)
            l2 = fma8(ql, load8(y2, i), l2); h2 = fma8(qh, load8(y2, i + 8), h2)
            l3 = fma8(ql, load8(y3, i), l3); h3 = fma8(qh, load8(y3, i + 8), h3)
            i += 16
        }
        r = SIMD4(reduceAdd(l0, h0), reduceAdd(l1, h1), reduceAdd(l2, h2), reduceAdd(l3, h3))
    }
    while i < f {
        r += SIMD4(repeating: x[i]) * SIMD4(y0[i], y1[i], y2[i], y3[i])
        i += 1
    }
    return r
}

/// `annoyEuclidean` of one vector against four, each in exactly `annoyEuclidean`'s order.
public func annoyEuclidean4(_ x: UnsafePointer<Float>, _ y0: UnsafePointer<Float>, _ y1: UnsafePointer<Float>,
                            _ y2: UnsafePointer<Float>, _ y3: UnsafePointer<Float>, _ f: Int) -> SIMD4<Float> {
    var r = SIMD4<Float>(repeating: 0)
    var i = 0
    if f > 15 {
        var l0 = SIMD8<Float>(repeating: 0), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0
        while i + 16 <= f {
            let ql = load8(x, i), qh = load8(x, i + 8)
            var dl = ql - load8(y0, i), dh = qh - load8(y0, i + 8)
            l0 = fma8(dl, dl, l0); h0 = fma8(dh, dh, h0)
            dl = ql - load8(y1, i); dh = qh - load8(y1, i + 8)
            l1 = fma8(dl, dl, l1); h1 = fma8(dh, dh, h1)
            dl = ql - load8(y2, i); dh = qh - load8(y2, i + 8)
            l2 = fma8(dl, dl, l2); h2 = fma8(dh, dh, h2)
            dl = ql - load8(y3, i); dh = qh - load8(y3, i + 8)
            l3 = fma8(dl, dl, l3); h3 = fma8(dh, dh, h3)
            i += 16
        }
        r = SIMD4(reduceAdd(l0, h0), reduceAdd(l1, h1), reduceAdd(l2, h2), reduceAdd(l3, h3))
    }
    while i < f {
        let d = SIMD4(repeating: x[i]) - SIMD4(y0[i], y1[i], y2[i], y3[i])
        r += d * d
        i += 1
    }
    return r
}

/// _mm512_reduce_add_ps on the accumulator (lo = lanes 0–7, hi = lanes 8–15): 256-bit halves,
/// then 128-bit halves, then pairs.
@inline(__always)
func reduceAdd(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>) -> Float {
    let h8 = lo + hi
    let h4 = h8.lowHalf + h8.highHalf
    let h2 = h4.lowHalf + h4.highHalf
    return h2[0] + h2[1]
}

/// The naive twins the kernel tests compare against (plain sums, double accumulation).
public enum NaiveDistance {
    public static func dot(_ x: [Float], _ y: [Float]) -> Double {
        var s = 0.0
        for i in x.indices { s += Double(x[i]) * Double(y[i]) }
        return s
    }

    public static func euclidean(_ x: [Float], _ y: [Float]) -> Double {
        var s = 0.0
        for i in x.indices { s += (Double(x[i]) - Double(y[i])) * (Double(x[i]) - Double(y[i])) }
        return s
    }
}

extension Metric {
    /// Annoy's `D::distance` between a query node and an item node (what search re-ranks by).
    /// Angular: 2 − 2·cos from stored squared norms, 2 when either vector is zero.
    @inline(__always)
    func distance(_ a: NodeRef, _ b: NodeRef, f: Int) -> Float {
        switch self {
        case .angular:
            let pa = a.extra, pb = b.extra
            let pp = pa != 0 ? pa : annoyDot(a.v, a.v, f)
            let qq = pb != 0 ? pb : annoyDot(b.v, b.v, f)
            let pq = annoyDot(a.v, b.v, f)
            let ppqq = pp * qq
            // `2.0 - 2.0 * pq / sqrt(ppqq)` is evaluated in double in annoylib.h.
            if ppqq > 0 { return Float(2.0 - 2.0 * Double(pq) / Double(ppqq.squareRoot())) }
            return 2
        case .euclidean:
            return annoyEuclidean(a.v, b.v, f)
        case .dot:
            return -annoyDot(a.v, b.v, f)
        }
    }

    /// Annoy's `normalized_distance`: what users see.
    public func normalizedDistance(_ d: Float) -> Float {
        switch self {
        case .angular, .euclidean: return max(d, 0).squareRoot()
        case .dot: return -d
        }
    }

    /// Annoy's `margin`: the signed side of `y` for split node `n`.
    @inline(__always)
    func margin(_ n: NodeRef, _ y: UnsafePointer<Float>, f: Int) -> Float {
        switch self {
        case .angular: return annoyDot(n.v, y, f)
        case .euclidean: return n.extra + annoyDot(n.v, y, f)
        case .dot: return annoyDot(n.v, y, f) + n.extra * n.extra
        }
    }
}

extension Metric {
    /// `distance` from query node `a` to four item nodes (lane i ↔ b_i), bit-identical to four calls.
    @inline(__always)
    func distance4(_ a: NodeRef, _ b0: NodeRef, _ b1: NodeRef, _ b2: NodeRef, _ b3: NodeRef, f: Int) -> SIMD4<Float> {
        switch self {
        case .angular:
            let pq = annoyDot4(a.v, b0.v, b1.v, b2.v, b3.v, f)
            let pa = a.extra
            let pp = pa != 0 ? pa : annoyDot(a.v, a.v, f)
            var out = SIMD4<Float>(repeating: 2)
            for (lane, b) in [b0, b1, b2, b3].enumerated() {
                let pb = b.extra
                let qq = pb != 0 ? pb : annoyDot(b.v, b.v, f)
                let ppqq = pp * qq
                if ppqq > 0 { out[lane] = Float(2.0 - 2.0 * Double(pq[lane]) / Double(ppqq.squareRoot())) }
            }
            return out
        case .euclidean:
            return annoyEuclidean4(a.v, b0.v, b1.v, b2.v, b3.v, f)
        case .dot:
            return -annoyDot4(a.v, b0.v, b1.v, b2.v, b3.v, f)
        }
    }

    /// `margin` of split node `n` for four vectors at once.
    @inline(__always)
    func margin4(_ n: NodeRef, _ y0: UnsafePointer<Float>, _ y1: UnsafePointer<Float>,
                 _ y2: UnsafePointer<Float>, _ y3: UnsafePointer<Float>, f: Int) -> SIMD4<Float> {
        let d = annoyDot4(n.v, y0, y1, y2, y3, f)
        switch self {
        case .angular: return d
        case .euclidean: return SIMD4(repeating: n.extra) + d
        case .dot: return d + SIMD4(repeating: n.extra * n.extra)
        }
    }
}
