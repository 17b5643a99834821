// Winograd F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015) for the
// ModifiedResNet's 3×3, stride-1, padding-1 convolutions on NHWC activations. Each 2×2 block of outputs ("tile")
// comes from the 4×4 input patch under it: Y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A, with, for ξ = 4·i + j,
//   U_ξ[out, in]   = (G·g·Gᵀ)_ij   once at load (Double, rounded once to float32),
//   V_ξ[tile, in]  = (Bᵀ·d·B)_ij   per tile and channel (SIMD over the contiguous channel axis),
//   M_ξ[tile, out] = V_ξ · U_ξᵀ    16 sgemms,
// then the 2×2 outputs Aᵀ·m·A and the convolution's epilogue (BatchNorm shift or scale, + residual, ReLU).
// 16 products of in·out multiply-adds per 4 outputs against 4·9·in·out: 2.25× fewer multiplies than im2col.
// Tiles run in chunks in the caller's scratch (sized once from the spec): with many tiles each worker takes whole
// chunks (transform, 16 products, output) on its own; with few (the last stages at batch 1) one chunk of all the
// workers' scratch is shared, the transforms split by tiles and the 16 products split across the workers.
import ClipCore
import ClipWeights
import Foundation

/// How a 3×3, stride-1, padding-1 convolution runs: Winograd F(2×2, 3×3) (the default) or im2col + sgemm (the
/// reference path, and the only path of every other convolution). `CLIPWB_CONV=im2col` picks im2col.
enum ConvolutionPath: String, Sendable, CaseIterable {
    case winograd, im2col

    static let environmentVariable = "CLIPWB_CONV"

    /// `CLIPWB_CONV` as `parse` reads it.
    static func fromEnvironment() throws -> ConvolutionPath {
        try parse(getenv(environmentVariable).map { String(cString: $0) })
    }

    /// nil, empty or "winograd" → .winograd, "im2col" → .im2col; anything else is refused by name.
    static func parse(_ raw: String?) throws -> ConvolutionPath {
        guard let raw, !raw.isEmpty else { return .winograd }
        guard let path = ConvolutionPath(rawValue: raw) else {
            throw ModelError("model.convolution", "\(environmentVariable)=\(raw) is not a convolution path; use 'winograd' or 'im2col'")
        }
        return path
    }
}

/// How Winograd tiles are split into chunks.
enum WinogradTiles {
    /// The most tiles one worker transforms and multiplies at a time: each U_ξ is then reused by this many rows.
    static let maxPerChunk = 256
    /// Below this many tiles per thread, one chunk is shared by all workers and the 16 products split across them.
    static let minPerWorker = 64
    /// The fewest tiles a worker's scratch must hold (Conv2d.scratchFloats).
    static let minPerChunk = 16
    /// Floats of per-worker scratch a Winograd convolution asks for (4 MiB; the im2col rows of RN50's widest 3×3
    /// patch took 4.5 MiB): maxPerChunk tiles where they fit, at least minPerChunk.
    static let scratchBudget = 1 << 20

    /// Per-worker scratch floats for a convolution of `inChannels` → `outChannels`.
    static func scratchFloats(in cin: Int, out: Int) -> Int {
        let perTile = 16 * (cin + out)
        return max(minPerChunk * perTile, min(maxPerChunk * perTile, scratchBudget))
    }
}

extension Conv2d {
    /// Whether a convolution of this shape can run Winograd F(2×2, 3×3).
    static func winogradApplies(kernel: Int, stride: Int, padding: Int) -> Bool { kernel == 3 && stride == 1 && padding == 1 }

    /// U: [16, out, in] from 3×3 filters in Double: `filter(o, c, g)` writes the 9 taps g[ky·3 + kx] of one
    /// (out, in) pair (BatchNorm's scale already folded in when folding). U = G·g·Gᵀ with
    /// G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]], rounded once to float32.
    static func winogradWeights(out: Int, in cin: Int, filter: (Int, Int, UnsafeMutablePointer<Double>) -> Void) -> FloatBuffer {
        let u = FloatBuffer(count: 16 * out * cin)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 9 + 12) { buffer in
            let g = buffer.baseAddress!, t = g + 9
            for o in 0..<out {
                for c in 0..<cin {
                    filter(o, c, g)
                    // t = G·g: [4, 3], column by column of g
                    for kx in 0..<3 {
                        let (a, b, e) = (g[kx], g[3 + kx], g[6 + kx])
                        (t[kx], t[3 + kx], t[6 + kx], t[9 + kx]) = (a, (a + b + e) / 2, (a - b + e) / 2, e)
                    }
                    // U = t·Gᵀ: [4, 4], row by row of t
                    for i in 0..<4 {
                        let (a, b, e) = (t[i * 3], t[i * 3 + 1], t[i * 3 + 2])
                        let row = (a, (a + b + e) / 2, (a - b + e) / 2, e)
                        let at = { (j: Int) in ((i * 4 + j) * out + o) * cin + c }
                        (u.pointer[at(0)], u.pointer[at(1)], u.pointer[at(2)], u.pointer[at(3)]) = (Float(row.0), Float(row.1), Float(row.2), Float(row.3))
                    }
                }
            }
        }
        return u
    }

    /// y = act(BN(conv(x)) + add) by Winograd F(2×2, 3×3); shapes and scratch as `forward`.
    func forwardWinograd(_ x: UnsafePointer<Float>, images: Int, size h: Int, into y: UnsafeMutablePointer<Float>,
                         add: UnsafePointer<Float>?, relu: Bool, scratch: UnsafeMutablePointer<Float>, scratchStride: Int,
                         pool: WorkerPool) {
        let u = UnsafePointer(winograd!.pointer.baseAddress!)
        let th = (h + 1) / 2, tiles = images * th * th, (cin, n) = (inChannels, outChannels)
        let perTile = 16 * (cin + n)
        if tiles >= WinogradTiles.minPerWorker * pool.threads {
            // Many tiles: chunks of `size` tiles, a multiple of the thread count of them, each on one worker alone.
            let fit = min(WinogradTiles.maxPerChunk, scratchStride / perTile)
            precondition(fit >= 1, "Winograd scratch of \(scratchStride) floats holds no tile of \(perTile)")
            var chunks = max(pool.threads, (tiles + fit - 1) / fit)
            chunks = (chunks + pool.threads - 1) / pool.threads * pool.threads
            let size = (tiles + chunks - 1) / chunks
            pool.parallelFor(chunks) { k, worker in
                let t0 = k * size, t1 = min(tiles, t0 + size)
                guard t0 < t1 else { return }
                let count = t1 - t0
                let v = scratch + worker * scratchStride, m = v + 16 * count * cin
                winogradInput(x, size: h, tiles: t0..<t1, first: t0, planeRows: count, into: v)
                for xi in 0..<16 {
                    // M_ξ: [count, out] = V_ξ: [count, in] · U_ξᵀ: [in, out]
                    GEMM.matmul(v + xi * count * cin, lda: cin, u + xi * n * cin, ldb: cin, transB: true,
                                m + xi * count * n, ldc: n, m: count, n: n, k: cin)
                }
                winogradOutput(m, size: h, tiles: t0..<t1, first: t0, planeRows: count, into: y, add: add, relu: relu)
            }
            return
        }
        // Few tiles: one chunk in all the workers' scratch; the 16 products (and their columns when there are more
        // than 16 threads) split across the pool.
        let fit = pool.threads * scratchStride / perTile
        precondition(fit >= 1, "Winograd scratch of \(pool.threads)×\(scratchStride) floats holds no tile of \(perTile)")
        let parts = (pool.threads + 15) / 16
        let step = ((n + parts - 1) / parts + 15) / 16 * 16
        var t0 = 0
        while t0 < tiles {
            let count = min(fit, tiles - t0), first = t0
            let v = scratch, m = scratch + 16 * count * cin
            Rows.forEach(count, width: 16 * cin, pool: pool) { r in
                winogradInput(x, size: h, tiles: (first + r)..<(first + r + 1), first: first, planeRows: count, into: v)
            }
            pool.parallelFor(16 * parts) { item in
                let (xi, n0) = (item % 16, item / 16 * step)
                guard n0 < n else { return }
                GEMM.matmul(v + xi * count * cin, lda: cin, u + (xi * n + n0) * cin, ldb: cin, transB: true,
                            m + xi * count * n + n0, ldc: n, m: count, n: min(step, n - n0), k: cin)
            }
            Rows.forEach(count, width: 16 * n, pool: pool) { r in
                winogradOutput(m, size: h, tiles: (first + r)..<(first + r + 1), first: first, planeRows: count, into: y, add: add, relu: relu)
            }
            t0 += count
        }
    }

    /// V_ξ[t − first, c] = (Bᵀ·d·B)_ij for the tiles `tiles`, d the 4×4 patch of channel c whose top-left input pixel
    /// is (2·ty − 1, 2·tx − 1) (zero outside the image); tile t = (image·th + ty)·th + tx, th = ⌈h/2⌉. Plane ξ
    /// starts at v + ξ·planeRows·in. Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
    func winogradInput(_ x: UnsafePointer<Float>, size h: Int, tiles: Range<Int>, first: Int, planeRows: Int,
                       into v: UnsafeMutablePointer<Float>) {
        let th = (h + 1) / 2, c = inChannels, plane = planeRows * c
        let body = c - c % 16
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 16) { off in
            for t in tiles {
                let (img, ty, tx) = (t / (th * th), t / th % th, t % th)
                // offsets of the 16 patch pixels, −1 outside the image
                for i in 0..<4 {
                    let iy = 2 * ty - 1 + i
                    for j in 0..<4 {
                        let ix = 2 * tx - 1 + j
                        off[i * 4 + j] = iy >= 0 && iy < h && ix >= 0 && ix < h ? ((img * h + iy) * h + ix) * c : -1
                    }
                }
                let dst = v + (t - first) * c, offsets = UnsafeBufferPointer(off)
                for cb in Swift.stride(from: 0, to: body, by: 16) {
                    Self.transformInput(x, offsets, cb, 16, dst + cb, plane)
                }
                if body < c { Self.transformInput(x, offsets, body, c - body, dst + body, plane) }
            }
        }
    }

    /// One block of `lanes` (≤ 16) channels from `cb` of one tile: loads the 16 patch pixels, stores the 16 V_ξ.
    @inline(__always) static func transformInput(_ x: UnsafePointer<Float>, _ off: UnsafeBufferPointer<Int>, _ cb: Int, _ lanes: Int,
                                                 _ dst: UnsafeMutablePointer<Float>, _ plane: Int) {
        @inline(__always) func d(_ k: Int) -> V16 { off[k] < 0 ? V16() : loadLanes(x + off[k] + cb, lanes) }
        @inline(__always) func put(_ xi: Int, _ value: V16) { storeLanes(value, dst + xi * plane, lanes) }
        // row i of d·B: (d_i0 − d_i2, d_i1 + d_i2, d_i2 − d_i1, d_i1 − d_i3)
        @inline(__always) func row(_ i: Int) -> (V16, V16, V16, V16) {
            let (a, b, c, e) = (d(4 * i), d(4 * i + 1), d(4 * i + 2), d(4 * i + 3))
            return (a - c, b + c, c - b, b - e)
        }
        // Bᵀ·(d·B): rows (r0 − r2, r1 + r2, r2 − r1, r1 − r3)
        let r1 = row(1), r2 = row(2)
        put(4, r1.0 + r2.0); put(5, r1.1 + r2.1); put(6, r1.2 + r2.2); put(7, r1.3 + r2.3)
        put(8, r2.0 - r1.0); put(9, r2.1 - r1.1); put(10, r2.2 - r1.2); put(11, r2.3 - r1.3)
        let r0 = row(0)
        put(0, r0.0 - r2.0); put(1, r0.1 - r2.1); put(2, r0.2 - r2.2); put(3, r0.3 - r2.3)
        let r3 = row(3)
        put(12, r1.0 - r3.0); put(13, r1.1 - r3.1); put(14, r1.2 - r3.2); put(15, r1.3 - r3.3)
    }

    /// y at the (up to) 2×2 output pixels of each tile = epilogue(Aᵀ·m·A), m_ξ = M_ξ[t − first, :]; outputs past
    /// the image's last row or column (odd sizes) are dropped. Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
    func winogradOutput(_ m: UnsafePointer<Float>, size h: Int, tiles: Range<Int>, first: Int, planeRows: Int,
                        into y: UnsafeMutablePointer<Float>, add: UnsafePointer<Float>?, relu: Bool) {
        let th = (h + 1) / 2, n = outChannels, plane = planeRows * n
        let body = n - n % 16
        let b = UnsafePointer(shift.pointer.baseAddress!), s = scale.map { UnsafePointer($0.pointer.baseAddress!) }
        for t in tiles {
            let (img, ty, tx) = (t / (th * th), t / th % th, t % th)
            // output offsets of the 2×2 pixels, −1 outside the image
            var offsets = (-1, -1, -1, -1)
            let (oy, ox) = (2 * ty, 2 * tx)
            offsets.0 = ((img * h + oy) * h + ox) * n
            if ox + 1 < h { offsets.1 = offsets.0 + n }
            if oy + 1 < h { offsets.2 = offsets.0 + h * n }
            if oy + 1 < h && ox + 1 < h { offsets.3 = offsets.0 + (h + 1) * n }
            let src = m + (t - first) * n
            var cb = 0
            while cb < n {
                let lanes = cb < body ? 16 : n - body
                @inline(__always) func mm(_ xi: Int) -> V16 { loadLanes(src + xi * plane + cb, lanes) }
                // q = Aᵀ·m: rows (m_0j + m_1j + m_2j, m_1j − m_2j − m_3j)
                let (m4, m5, m6, m7, m8, m9, m10, m11) = (mm(4), mm(5), mm(6), mm(7), mm(8), mm(9), mm(10), mm(11))
                let (q00, q01, q02, q03) = (mm(0) + m4 + m8, mm(1) + m5 + m9, mm(2) + m6 + m10, mm(3) + m7 + m11)
                let (q10, q11, q12, q13) = (m4 - m8 - mm(12), m5 - m9 - mm(13), m6 - m10 - mm(14), m7 - m11 - mm(15))
                // q·A: columns (q_i0 + q_i1 + q_i2, q_i1 − q_i2 − q_i3)
                let outs = (q00 + q01 + q02, q01 - q02 - q03, q10 + q11 + q12, q11 - q12 - q13)
                let shiftV = loadLanes(b + cb, lanes), scaleV = s.map { loadLanes($0 + cb, lanes) }
                @inline(__always) func emit(_ off: Int, _ value: V16) {
                    guard off >= 0 else { return }
                    var v = value
                    if let scaleV { v *= scaleV }
                    v += shiftV
                    if let add { v += loadLanes(add + off + cb, lanes) }
                    if relu { v = v.replacing(with: 0, where: v .< 0) }
                    storeLanes(v, y + off + cb, lanes)
                }
                emit(offsets.0, outs.0); emit(offsets.1, outs.1); emit(offsets.2, outs.2); emit(offsets.3, outs.3)
                cb += lanes
            }
        }
    }
}

/// `lanes` (≤ 16) floats as a V16, zeros past them.
@inline(__always) private func loadLanes(_ p: UnsafePointer<Float>, _ lanes: Int) -> V16 {
    if lanes == 16 { return Kernels.load(p) }
    var v = V16()
    for i in 0..<lanes { v[i] = p[i] }
    return v
}

/// The first `lanes` (≤ 16) lanes of `v` to p.
@inline(__always) private func storeLanes(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 16 { return Kernels.store(v, p) }
    for i in 0..<lanes { p[i] = v[i] }
}
