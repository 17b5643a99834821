// Every matrix product of the encoders goes through this file, and only this file calls cblas_sgemm.
// Layout convention: row-major; a PyTorch `nn.Linear` weight is [out, in], so `y = x·Wᵀ` is
// sgemm(NoTrans, TransB). `proj`/`text_projection` are [in, out] parameters used as `x @ proj`
// (NoTrans, NoTrans). OpenBLAS runs single-threaded; big products are split by output columns across
// the WorkerPool, each thread streaming its own half of the weight matrix. Products of ≤ 16 rows (short
// texts, the last block's read-out rows) are memory-bound: `fewRows` streams each weight row once instead of
// letting sgemm copy (pack) the whole weight matrix first.
// Float16 weights (`HalfWeights.direct`): few rows widen each weight row in registers (ck_linear_f16_rows,
// half the bytes to stream); more rows widen the thread's column block in cache-sized pieces (4 MiB, kept in
// L3) and run sgemm on each piece, so a float32 copy of the whole model never exists.
import CBLAS
import CKernels
import ClipCore
import ClipWeights

public enum GEMM {
    /// Products smaller than this many multiply-adds run on the calling thread only.
    static let splitThreshold = 1 << 20

    /// Makes OpenBLAS single-threaded (the pool owns the cores). Idempotent.
    static let configureBLAS: Void = {
        _ = clipwb_blas_set_num_threads(1)
    }()

    /// c[m, n] (row stride ldc) = a[m, k] (stride lda) · w[n, k]ᵀ (stride ldw) + (accumulate ? c : 0).
    /// `w` is a PyTorch `[out, in]` weight. Splits `n` across the pool when the product is large.
    public static func linear(_ a: UnsafePointer<Float>, lda: Int, _ w: UnsafePointer<Float>, ldw: Int,
                              _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                              accumulate: Bool = false, pool: WorkerPool = .shared) {
        _ = configureBLAS
        if m <= smallRows && k % 16 == 0 {
            // Few rows (text, last blocks): stream each weight row once, no packing copy of the weights.
            let chunk = 64
            pool.parallelFor((n + chunk - 1) / chunk) { p in
                let n0 = p * chunk
                fewRows(a, lda: lda, w, ldw: ldw, c, ldc: ldc, m: m, rows: n0..<min(n, n0 + chunk), k: k, accumulate: accumulate)
            }
            return
        }
        let beta: Float = accumulate ? 1 : 0
        let parts = m * n * k >= splitThreshold ? min(pool.threads, max(1, n / 64)) : 1
        if parts == 1 {
            sgemm(false, true, m, n, k, a, lda, w, ldw, beta, c, ldc)
            return
        }
        // Column blocks rounded to 16 so each thread's kernel sees whole vector panels.
        let block = (n + parts - 1) / parts
        let step = (block + 15) / 16 * 16
        pool.parallelFor(parts) { p in
            let n0 = p * step
            let nb = min(step, n - n0)
            if nb > 0 { sgemm(false, true, m, nb, k, a, lda, w + n0 * ldw, ldw, beta, c + n0, ldc) }
        }
    }

    /// `linear` over a weight that is float32 or float16.
    static func linear(_ a: UnsafePointer<Float>, lda: Int, _ w: WeightMatrix, ldw: Int,
                       _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                       accumulate: Bool = false, pool: WorkerPool = .shared) {
        switch w {
        case .f32(let p):
            linear(a, lda: lda, p, ldw: ldw, c, ldc: ldc, m: m, n: n, k: k, accumulate: accumulate, pool: pool)
        case .f16(let p):
            linearHalf(a, lda: lda, p, ldw: ldw, c, ldc: ldc, m: m, n: n, k: k, accumulate: accumulate, pool: pool)
        }
    }

    /// Floats of float32 weight rows one worker widens at a time before handing them to sgemm (4 MiB).
    static let halfBlockFloats = 1 << 20

    /// c[m, n] (+)= a[m, k] · half(w[n, k])ᵀ.
    static func linearHalf(_ a: UnsafePointer<Float>, lda: Int, _ w: UnsafePointer<UInt16>, ldw: Int,
                           _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                           accumulate: Bool, pool: WorkerPool) {
        _ = configureBLAS
        if m <= smallRows {
            let chunk = 64
            pool.parallelFor((n + chunk - 1) / chunk) { p in
                let n0 = p * chunk
                ck_linear_f16_rows(a, lda, w, ldw, c, ldc, m, n0, min(n, n0 + chunk), k, accumulate ? 1 : 0)
            }
            return
        }
        let beta: Float = accumulate ? 1 : 0
        let parts = m * n * k >= splitThreshold ? min(pool.threads, max(1, n / 64)) : 1
        let block = (n + parts - 1) / parts
        let step = (block + 15) / 16 * 16
        let pieceRows = max(16, halfBlockFloats / max(k, 1) / 16 * 16)
        pool.parallelFor(parts) { p in
            let n0 = p * step, end = min(n, n0 + step)
            guard n0 < end else { return }
            let scratch = HalfScratch.shared.take(floats: min(pieceRows, end - n0) * k)
            defer { HalfScratch.shared.giveBack(scratch) }
            var r0 = n0
            while r0 < end {
                let rows = min(pieceRows, end - r0)
                if ldw == k {
                    ck_f16_to_f32(w + r0 * k, scratch.pointer, rows * k)
                } else {
                    for r in 0..<rows { ck_f16_to_f32(w + (r0 + r) * ldw, scratch.pointer + r * k, k) }
                }
                sgemm(false, true, m, rows, k, a, lda, scratch.pointer, k, beta, c + r0, ldc)
                r0 += rows
            }
        }
    }

    /// Products with at most this many rows use `fewRows` instead of sgemm.
    static let smallRows = 16

    /// c[0..<m, rows] (+)= a[m, k] · w[rows, k]ᵀ, four activation rows per pass over each weight row (k % 16 == 0).
    static func fewRows(_ a: UnsafePointer<Float>, lda: Int, _ w: UnsafePointer<Float>, ldw: Int,
                        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, rows: Range<Int>, k: Int, accumulate: Bool) {
        for j in rows {
            let wr = w + j * ldw
            var i = 0
            while i + 4 <= m {
                let a0 = a + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
                var s0 = V16(), s1 = V16(), s2 = V16(), s3 = V16()
                for p in stride(from: 0, to: k, by: 16) {
                    let wv = Kernels.load(wr + p)
                    s0 = s0.addingProduct(wv, Kernels.load(a0 + p))
                    s1 = s1.addingProduct(wv, Kernels.load(a1 + p))
                    s2 = s2.addingProduct(wv, Kernels.load(a2 + p))
                    s3 = s3.addingProduct(wv, Kernels.load(a3 + p))
                }
                for (r, s) in [(i, s0), (i + 1, s1), (i + 2, s2), (i + 3, s3)] {
                    c[r * ldc + j] = s.sum() + (accumulate ? c[r * ldc + j] : 0)
                }
                i += 4
            }
            while i < m {
                let a0 = a + i * lda
                var s0 = V16()
                for p in stride(from: 0, to: k, by: 16) { s0 = s0.addingProduct(Kernels.load(wr + p), Kernels.load(a0 + p)) }
                c[i * ldc + j] = s0.sum() + (accumulate ? c[i * ldc + j] : 0)
                i += 1
            }
        }
    }

    /// c[m, n] = alpha · a[m, k] · (transB ? b[n, k]ᵀ : b[k, n]) + beta · c, on the calling thread.
    /// For the small per-head products of attention and the final projections.
    public static func matmul(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                              transB: Bool, _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                              alpha: Float = 1, beta: Float = 0) {
        _ = configureBLAS
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @inline(__always)
    private static func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                              _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                              _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The sgemm rate OpenBLAS reaches on an n×n×n product with its own `threads` threads (GFLOP/s, best of
    /// repeated runs over `seconds`): the ceiling the encoders' GEMM-bound work is judged against.
    public static func peakGFLOPS(n: Int = 2048, threads: Int, seconds: Double = 1) -> Double {
        _ = configureBLAS
        let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
        for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
        _ = clipwb_blas_set_num_threads(Int32(threads))
        defer { _ = clipwb_blas_set_num_threads(1) }
        var best = 0.0
        let start = Clock.now()
        repeat {
            let t0 = Clock.now()
            sgemm(false, true, n, n, n, a.pointer.baseAddress!, n, b.pointer.baseAddress!, n, 0, c.pointer.baseAddress!, n)
            best = max(best, 2 * Double(n * n * n) / (Clock.now() - t0) / 1e9)
        } while Clock.now() - start < seconds
        return best
    }

    /// The naive twin kernel tests compare against: c = alpha·a·op(b) + beta·c, sums in Double.
    public static func naiveMatmul(_ a: [Float], lda: Int, _ b: [Float], ldb: Int, transB: Bool,
                                   _ c: inout [Float], ldc: Int, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, beta: Float = 0) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j]) }
                c[i * ldc + j] = alpha * Float(s) + beta * c[i * ldc + j]
            }
        }
    }
}

/// Float32 blocks the half-precision GEMM widens into, reused across calls (no page faults per product).
final class HalfScratch: @unchecked Sendable {
    static let shared = HalfScratch()

    final class Block {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(_ capacity: Int) {
            self.capacity = capacity
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64).bindMemory(to: Float.self, capacity: capacity)
        }
        deinit { pointer.deallocate() }
    }

    private var free: [Block] = []
    private let lock = NSLockLike()

    func take(floats: Int) -> Block {
        lock.locked {
            if let i = free.lastIndex(where: { $0.capacity >= floats }) { return free.remove(at: i) }
            return Block(max(floats, GEMM.halfBlockFloats))
        }
    }

    func giveBack(_ b: Block) { lock.locked { free.append(b) } }
}
