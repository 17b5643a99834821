// The ModifiedResNet's kernels against their naive twins (convolution + BatchNorm, folding), and the tower against
// PyTorch on the committed rn-tiny fixture (weights/zoo/rn-tiny.h5: openai/CLIP's ModifiedResNet, one Bottleneck
// per stage, width 8, float16 weights and BatchNorm statistics, reference computed in float32 from those values).
import ClipCore
import ClipWeights
import Foundation
import Testing
@testable import ClipModel

@Suite struct ResNetTests {
    /// A conv + BatchNorm of random values: weight [out, in, k, k] in [-1, 1), γ, β, mean in [-1, 1), var in [0.5, 1.5).
    struct Layer {
        let weight, gamma, beta, mean, variance: [Float]
        init(out: Int, in cin: Int, kernel k: Int, seed: UInt64) {
            weight = randomFloats(out * cin * k * k, seed: seed)
            (gamma, beta, mean) = (randomFloats(out, seed: seed + 1), randomFloats(out, seed: seed + 2), randomFloats(out, seed: seed + 3))
            variance = randomFloats(out, seed: seed + 4).map { 1 + $0 / 2 }
        }
        func weights(out: Int, in cin: Int, kernel k: Int) -> CLIPWeights {
            CLIPWeights(spec: .vitB32, source: "test", arrays: [
                "c.weight": ([out, cin, k, k], weight), "b.weight": ([out], gamma), "b.bias": ([out], beta),
                "b.running_mean": ([out], mean), "b.running_var": ([out], variance)])
        }
    }

    /// NCHW [n, c, h, w] ↔ NHWC [n, h, w, c] for square images.
    static func toNHWC(_ x: [Float], n: Int, c: Int, h: Int) -> [Float] {
        var y = x
        for i in 0..<n { for ch in 0..<c { for p in 0..<(h * h) { y[(i * h * h + p) * c + ch] = x[(i * c + ch) * h * h + p] } } }
        return y
    }

    static func run(_ conv: Conv2d, _ xNCHW: [Float], images: Int, size h: Int, threads: Int) -> [Float] {
        let ho = conv.outputSize(h)
        let x = toNHWC(xNCHW, n: images, c: conv.inChannels, h: h)
        var y = [Float](repeating: .nan, count: images * ho * ho * conv.outChannels)
        let stride = ConvTiles.rowsPerTile * conv.patchLength
        var scratch = [Float](repeating: 0, count: threads * stride)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                conv.forward(x, images: images, size: h, into: yp.baseAddress!, relu: false, scratch: sp.baseAddress!,
                             scratchStride: stride, pool: WorkerPool(threads: threads))
            }
        }
        // back to NCHW for the comparison: y[i, p, o] → [i, o, p]
        var out = y
        for i in 0..<images { for o in 0..<conv.outChannels { for p in 0..<(ho * ho) { out[(i * conv.outChannels + o) * ho * ho + p] = y[(i * ho * ho + p) * conv.outChannels + o] } } }
        return out
    }

    /// (in, out, size, kernel, stride, padding, images): the stem's stride-2 3×3 on 3 channels, 3×3 and 1×1 in the
    /// row-tiled path (≥ 32 rows per thread) and the few-rows path (a 7×7 grid at batch 1).
    @Test(arguments: [(3, 8, 16, 3, 2, 1, 2), (8, 12, 20, 3, 1, 1, 2), (16, 24, 7, 3, 1, 1, 1), (24, 40, 12, 1, 1, 0, 3), (32, 16, 7, 1, 1, 0, 1)])
    func convolutionMatchesNaive(_ c: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (cin, out, h, k, s, p, n) = c
        let layer = Layer(out: out, in: cin, kernel: k, seed: 7)
        let conv = try Conv2d(layer.weights(out: out, in: cin, kernel: k), conv: "c", bn: "b", out: out, in: cin, kernel: k, stride: s, padding: p)
        let x = randomFloats(n * cin * h * h, seed: 5)
        let bn = (layer.gamma, layer.beta, layer.mean, layer.variance)
        let naive = Conv2d.naive(x, images: n, in: cin, size: h, weight: layer.weight, out: out, kernel: k, stride: s, padding: p, bn: bn)
        let tolerance = 1e-4 * Float(cin * k * k).squareRoot()
        for threads in [1, 2] {
            let ours = Self.run(conv, x, images: n, size: h, threads: threads)
            #expect(maxAbsDiff(ours, naive) < tolerance, "\(c) threads \(threads): \(maxAbsDiff(ours, naive))")
        }
        // Negative control: the input channels read in reverse order (a layout mix-up) must fail the same tolerance.
        var reversed = layer.weight
        for o in 0..<out { for ch in 0..<cin { for t in 0..<(k * k) { reversed[(o * cin + ch) * k * k + t] = layer.weight[(o * cin + cin - 1 - ch) * k * k + t] } } }
        let wrong = Conv2d.naive(x, images: n, in: cin, size: h, weight: reversed, out: out, kernel: k, stride: s, padding: p, bn: bn)
        #expect(maxAbsDiff(Self.run(conv, x, images: n, size: h, threads: 2), wrong) > tolerance)
    }

    /// Folding BatchNorm into the weights changes one rounding per weight: ≤ 1e-6 of the output scale. The same
    /// bound catches a BatchNorm ε of 1e-3 instead of PyTorch's 1e-5.
    @Test func batchNormFoldingIsWithinTolerance() throws {
        let (cin, out, h, n) = (16, 32, 10, 2)
        let layer = Layer(out: out, in: cin, kernel: 3, seed: 21)
        let w = layer.weights(out: out, in: cin, kernel: 3)
        let folded = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1)
        let unfolded = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, fold: false)
        let x = randomFloats(n * cin * h * h, seed: 22)
        let a = Self.run(folded, x, images: n, size: h, threads: 2), b = Self.run(unfolded, x, images: n, size: h, threads: 2)
        let scale = b.map(abs).max()!
        let bound = 1e-6 * scale
        #expect(maxAbsDiff(a, b) <= bound, "folded vs unfolded: \(maxAbsDiff(a, b)) of \(scale)")
        let eps = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, eps: 1e-3)
        #expect(maxAbsDiff(Self.run(eps, x, images: n, size: h, threads: 2), b) > bound)
    }
}
