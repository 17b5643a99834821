// Each hot kernel against its naive twin.
import ClipCore
import CKernels
import Foundation
import Testing
@testable import ClipModel

@Suite struct KernelTests {
    /// linear (split across the pool, and not) against the naive matmul, plain and accumulating.
    @Test(arguments: [(3, 40, 16), (50, 768, 64), (130, 300, 200), (8, 1536, 96)])
    func linearMatchesNaive(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = randomFloats(m * k, seed: 1), w = randomFloats(n * k, seed: 2), c0 = randomFloats(m * n, seed: 3)
        for accumulate in [false, true] {
            var ours = c0
            a.withUnsafeBufferPointer { ap in
                w.withUnsafeBufferPointer { wp in
                    ours.withUnsafeMutableBufferPointer { cp in
                        GEMM.linear(ap.baseAddress!, lda: k, wp.baseAddress!, ldw: k, cp.baseAddress!, ldc: n,
                                    m: m, n: n, k: k, accumulate: accumulate)
                    }
                }
            }
            var naive = c0
            GEMM.naiveMatmul(a, lda: k, w, ldb: k, transB: true, &naive, ldc: n, m: m, n: n, k: k, beta: accumulate ? 1 : 0)
            #expect(maxAbsDiff(ours, naive) < 1e-4 * Float(k).squareRoot(), "m=\(m) n=\(n) k=\(k) accumulate=\(accumulate)")
        }
    }

    /// linear over float16 weights (`HalfWeights.direct`): the register-widening few-rows kernel (m ≤ 16, and its
    /// scalar path when k % 16 ≠ 0) and the block-widening sgemm path, against the naive product of the widened weight.
    @Test(arguments: [(3, 40, 16), (16, 200, 48), (5, 33, 24), (17, 64, 32), (50, 768, 64), (130, 300, 200), (40, 3000, 400)])
    func halfLinearMatchesNaive(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = randomFloats(m * k, seed: 11), c0 = randomFloats(m * n, seed: 13)
        var halves = [UInt16](repeating: 0, count: n * k), widened = [Float](repeating: 0, count: n * k)
        ck_f32_to_f16(randomFloats(n * k, seed: 12), &halves, n * k)
        ck_f16_to_f32(halves, &widened, n * k)
        for accumulate in [false, true] {
            var ours = c0
            halves.withUnsafeBufferPointer { hp in
                ours.withUnsafeMutableBufferPointer { cp in
                    GEMM.linear(a, lda: k, WeightMatrix.f16(hp.baseAddress!), ldw: k, cp.baseAddress!, ldc: n,
                                m: m, n: n, k: k, accumulate: accumulate)
                }
            }
            var naive = c0
            GEMM.naiveMatmul(a, lda: k, widened, ldb: k, transB: true, &naive, ldc: n, m: m, n: n, k: k, beta: accumulate ? 1 : 0)
            #expect(maxAbsDiff(ours, naive) < 1e-4 * Float(k).squareRoot(), "m=\(m) n=\(n) k=\(k) accumulate=\(accumulate)")
        }
    }

    /// Each few-rows float16 kernel (scalar, AVX2, AVX-512) on every row count 1…16 against the naive product of the
    /// widened weight; the bound is float32 rounding of a k-term sum. Negative control: one weight half with an exponent
    /// bit flipped (the weight doubled or halved) must exceed the bound.
    @Test func halfFewRowsVariantsMatchNaive() {
        let (n, k) = (37, 512)
        var halves = [UInt16](repeating: 0, count: n * k), widened = [Float](repeating: 0, count: n * k)
        ck_f32_to_f16(randomFloats(n * k, seed: 21), &halves, n * k)
        ck_f16_to_f32(halves, &widened, n * k)
        var ran = 0
        for m in 1...16 {
            let a = randomFloats(m * k, seed: UInt64(30 + m)), c0 = randomFloats(m * n, seed: 50)
            for accumulate in [false, true] {
                var naive = c0
                GEMM.naiveMatmul(a, lda: k, widened, ldb: k, transB: true, &naive, ldc: n, m: m, n: n, k: k, beta: accumulate ? 1 : 0)
                for variant in Int32(0)...2 {
                    var ours = c0
                    let status = ck_linear_f16_rows_variant(variant, a, k, halves, k, &ours, n, m, 0, n, k, accumulate ? 1 : 0)
                    guard status == 0 else { continue }
                    ran += 1
                    #expect(maxAbsDiff(ours, naive) < 1e-5 * Float(k).squareRoot(), "variant \(variant) m=\(m) accumulate=\(accumulate)")
                }
            }
        }
        #expect(ran >= 2 * 16 * 2, "at least the scalar and one SIMD kernel ran for every m")
        // Negative control: one changed weight shows beyond the bound.
        var bumped = halves
        bumped[5 * k + 100] ^= 0x0400  // exponent bit: the weight doubles or halves
        let m = 7, a = randomFloats(m * k, seed: 37)
        var ours = [Float](repeating: 0, count: m * n), naive = ours
        GEMM.naiveMatmul(a, lda: k, widened, ldb: k, transB: true, &naive, ldc: n, m: m, n: n, k: k, beta: 0)
        _ = ck_linear_f16_rows_variant(0, a, k, bumped, k, &ours, n, m, 0, n, k, 0)
        #expect(maxAbsDiff(ours, naive) >= 1e-5 * Float(k).squareRoot())
    }

    @Test func matmulBothLayoutsMatchNaive() {
        let (m, n, k) = (7, 19, 33)
        let a = randomFloats(m * k, seed: 4), b = randomFloats(n * k, seed: 5)
        for transB in [false, true] {
            var ours = [Float](repeating: 0, count: m * n), naive = ours
            GEMM.matmul(a, lda: k, b, ldb: transB ? k : n, transB: transB, &ours, ldc: n, m: m, n: n, k: k, alpha: 0.5)
            GEMM.naiveMatmul(a, lda: k, b, ldb: transB ? k : n, transB: transB, &naive, ldc: n, m: m, n: n, k: k, alpha: 0.5)
            #expect(maxAbsDiff(ours, naive) < 1e-5, "transB=\(transB)")
        }
    }

    @Test func expIsWithinTwoUlps() {
        var worst: Float = 0
        for i in 0..<4000 {
            let x = Float(i - 2000) * 0.0435  // −87 … 87
            let lanes = Kernels.exp(V16(repeating: x))
            let truth = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(lanes[0] - truth) / truth.ulp)
        }
        #expect(worst <= 2, "worst error \(worst) ulp")
    }

    @Test func layerNormMatchesNaive() {
        let w = 768
        let x = randomFloats(w, seed: 6).map { $0 * 3 + 0.5 }, g = randomFloats(w, seed: 7), b = randomFloats(w, seed: 8)
        var out = [Float](repeating: 0, count: w)
        Kernels.layerNorm(x, &out, width: w, gamma: g, beta: b)
        #expect(maxAbsDiff(out, Kernels.naiveLayerNorm(x, gamma: g, beta: b)) < 2e-6)
    }

    @Test func quickGELUMatchesNaive() {
        let x = randomFloats(3072, seed: 9).map { $0 * 12 }
        let bias = randomFloats(3072, seed: 10)
        var ours = x
        Kernels.biasQuickGELU(&ours, width: x.count, bias: bias)
        let naive = Kernels.naiveQuickGELU(zip(x, bias).map { $0 + $1 })
        #expect(maxAbsDiff(ours, naive) < 2e-6)
    }

    @Test(arguments: [1, 5, 16, 50, 77])
    func softmaxMatchesNaive(_ n: Int) {
        let x = randomFloats(n, seed: UInt64(n)).map { $0 * 20 }
        var ours = x
        Kernels.softmax(&ours, count: n)
        #expect(maxAbsDiff(ours, Kernels.naiveSoftmax(x)) < 1e-6)
        #expect(abs(ours.reduce(0, +) - 1) < 1e-5)
    }

    /// Many short jobs in a row: every item runs exactly once (the pool's claim protocol).
    @Test func poolRunsEachItemOnce() {
        let pool = WorkerPool(threads: 3)
        for job in 0..<2000 {
            let count = 1 + job % 37
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            pool.parallelFor(count) { i in hits[i] += 1 }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "job \(job)")
            hits.deallocate()
        }
    }

    /// Widths that are not multiples of 16 (HF configs allow any) and another ε go through the scalar tails.
    @Test(arguments: [(768, Float(1e-5)), (100, Float(1e-6)), (7, Float(1e-5)), (1664, Float(1e-6))])
    func layerNormAnyWidthAndEpsilon(_ c: (Int, Float)) {
        let (w, eps) = c
        let x = randomFloats(w, seed: 16).map { $0 * 0.01 + 0.2 }, g = randomFloats(w, seed: 17), b = randomFloats(w, seed: 18)
        var out = [Float](repeating: 0, count: w)
        Kernels.layerNorm(x, &out, width: w, gamma: g, beta: b, eps: eps)
        #expect(maxAbsDiff(out, Kernels.naiveLayerNorm(x, gamma: g, beta: b, eps: eps)) < 2e-5)
        // Negative control: with a small variance, ε matters; the other ε must be visibly different.
        let other = Kernels.naiveLayerNorm(x, gamma: g, beta: b, eps: eps == 1e-5 ? 1e-6 : 1e-5)
        #expect(maxAbsDiff(out, other) > 1e-4)
    }

    @Test(arguments: [3072, 5120, 100])
    func geluMatchesNaiveErf(_ n: Int) {
        let x = randomFloats(n, seed: 19).map { $0 * 12 }
        let bias = randomFloats(n, seed: 20)
        var ours = x
        Kernels.biasGELU(&ours, width: n, bias: bias)
        let inputs = zip(x, bias).map { $0 + $1 }
        let naive = Kernels.naiveGELU(inputs)
        // relative to the value's size: erfc's approximation is good to ~1.2e-7 relative
        let worst = zip(ours, naive).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
        #expect(worst < 2e-6)
        // Negative control: QuickGELU (the activation a wrong port would run) is far from GELU.
        #expect(maxAbsDiff(Kernels.naiveQuickGELU(inputs), naive) > 1e-2)
    }

    @Test func maxAbsDiffFailsOnNaNAndLength() {
        #expect(maxAbsDiff([1, 2, .nan], [1, 2, 3]) == .infinity)
        #expect(maxAbsDiff([1, 2], [1, 2, 3]) == .infinity)
        #expect(maxAbsDiff([1, 2, 3], [1, 2, 3.5]) == 0.5)
    }
}
