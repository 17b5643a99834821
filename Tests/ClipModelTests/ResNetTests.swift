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

    /// `conv` on NCHW input (and residual `add`, NCHW like the output) through `forward`, back to NCHW. `scratchFloats`:
    /// per-worker scratch (default: what the convolution asks for; smaller forces more Winograd chunks).
    static func run(_ conv: Conv2d, _ xNCHW: [Float], images: Int, size h: Int, threads: Int, add addNCHW: [Float]? = nil,
                    relu: Bool = false, scratchFloats: Int? = nil) -> [Float] {
        let ho = conv.outputSize(h)
        let x = toNHWC(xNCHW, n: images, c: conv.inChannels, h: h)
        let add = addNCHW.map { toNHWC($0, n: images, c: conv.outChannels, h: ho) }
        var y = [Float](repeating: .nan, count: images * ho * ho * conv.outChannels)
        let stride = max(scratchFloats ?? conv.scratchFloats, 1)
        var scratch = [Float](repeating: .nan, count: threads * stride)
        y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                withOptionalPointer(add) { ap in
                    conv.forward(x, images: images, size: h, into: yp.baseAddress!, add: ap, relu: relu, scratch: sp.baseAddress!,
                                 scratchStride: stride, pool: WorkerPool(threads: threads))
                }
            }
        }
        // back to NCHW for the comparison: y[i, p, o] → [i, o, p]
        var out = y
        for i in 0..<images { for o in 0..<conv.outChannels { for p in 0..<(ho * ho) { out[(i * conv.outChannels + o) * ho * ho + p] = y[(i * ho * ho + p) * conv.outChannels + o] } } }
        return out
    }

    static func withOptionalPointer<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let a else { return body(nil) }
        return a.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// (in, out, size, kernel, stride, padding, images): the stem's stride-2 3×3 on 3 channels, 3×3 and 1×1 in the
    /// row-tiled path (≥ 32 rows per thread) and the few-rows path (a 7×7 grid at batch 1).
    @Test(arguments: [(3, 8, 16, 3, 2, 1, 2), (8, 12, 20, 3, 1, 1, 2), (16, 24, 7, 3, 1, 1, 1), (24, 40, 12, 1, 1, 0, 3), (32, 16, 7, 1, 1, 0, 1)],
          ConvolutionPath.allCases)
    func convolutionMatchesNaive(_ c: (Int, Int, Int, Int, Int, Int, Int), path: ConvolutionPath) throws {
        let (cin, out, h, k, s, p, n) = c
        let layer = Layer(out: out, in: cin, kernel: k, seed: 7)
        let conv = try Conv2d(layer.weights(out: out, in: cin, kernel: k), conv: "c", bn: "b", out: out, in: cin, kernel: k, stride: s, padding: p, path: path)
        #expect((conv.winograd != nil) == (path == .winograd && k == 3 && s == 1 && p == 1))
        let x = randomFloats(n * cin * h * h, seed: 5)
        let bn = (layer.gamma, layer.beta, layer.mean, layer.variance)
        let naive = Conv2d.naive(x, images: n, in: cin, size: h, weight: layer.weight, out: out, kernel: k, stride: s, padding: p, bn: bn)
        let tolerance = 1e-4 * Float(cin * k * k).squareRoot()
        for threads in [1, 2] {
            let ours = Self.run(conv, x, images: n, size: h, threads: threads)
            #expect(maxAbsDiff(ours, naive) < tolerance, "\(c) \(path) threads \(threads): \(maxAbsDiff(ours, naive))")
        }
        // Negative control: the input channels read in reverse order (a layout mix-up) must fail the same tolerance.
        var reversed = layer.weight
        for o in 0..<out { for ch in 0..<cin { for t in 0..<(k * k) { reversed[(o * cin + ch) * k * k + t] = layer.weight[(o * cin + cin - 1 - ch) * k * k + t] } } }
        let wrong = Conv2d.naive(x, images: n, in: cin, size: h, weight: reversed, out: out, kernel: k, stride: s, padding: p, bn: bn)
        #expect(maxAbsDiff(Self.run(conv, x, images: n, size: h, threads: 2), wrong) > tolerance)
    }

    /// The naive twin with the Bottleneck's epilogue: relu(naive + add), in Double, rounded once.
    static func reference(_ naive: [Float], add: [Float]?, relu: Bool) -> [Float] {
        naive.indices.map { i in
            let v = Double(naive[i]) + (add.map { Double($0[i]) } ?? 0)
            return Float(relu ? max(v, 0) : v)
        }
    }

    /// max |ours − reference| / max |reference|: the error on the scale of the layer's outputs (per-element relative
    /// error is meaningless where an output crosses zero). Infinity on a NaN or a length mismatch.
    static func scaledError(_ ours: [Float], _ reference: [Float]) -> Double {
        Double(maxAbsDiff(ours, reference)) / Double(reference.map(abs).max()!)
    }

    /// Winograd F(2×2, 3×3) and im2col against the Double naive convolution on 3×3, stride-1, padding-1 layers:
    /// odd sizes (tiles past the last row and column), 1×1 images, channel counts off the 16-lane blocks, one and
    /// several images, per-worker chunks (≥ 64 tiles per thread) and the shared chunk (fewer), a scratch of 3
    /// tiles (many chunks), with and without residual + ReLU, zero-mean and non-negative input; on 1 and 2 threads.
    /// Measured (scaled error, largest over the shapes, threads, inputs, epilogues and scratch sizes): im2col 4.2e-7,
    /// Winograd 3.7e-7 (docs/parity.md): float32 summation error, the transforms' ±1 and ½ add little to it. The
    /// tolerance 2e-6 is 5× the worst of either path; the smallest negative control below lands at 7.8e-6 (one
    /// weight off by 1e-3), the one-pixel shift at ≥ 0.55.
    static let winogradTolerance = 2e-6

    /// (in, out, size, images)
    static let winogradShapes = [(8, 12, 20, 2), (16, 24, 7, 1), (12, 20, 5, 3), (20, 24, 1, 2), (3, 8, 9, 2), (40, 36, 14, 1),
                                 (24, 16, 15, 2), (32, 64, 28, 1), (64, 48, 16, 4)]

    @Test(arguments: winogradShapes)
    func winogradMatchesNaive(_ shape: (Int, Int, Int, Int)) throws {
        let (cin, out, h, n) = shape
        let layer = Layer(out: out, in: cin, kernel: 3, seed: 31)
        let w = layer.weights(out: out, in: cin, kernel: 3)
        let wino = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, path: .winograd)
        let direct = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, path: .im2col)
        #expect(wino.winograd != nil && direct.winograd == nil)
        let x = randomFloats(n * cin * h * h, seed: 32), residual = randomFloats(n * out * h * h, seed: 33).map { $0 * 4 }
        let bn = (layer.gamma, layer.beta, layer.mean, layer.variance)
        var worst: [ConvolutionPath: Double] = [:]
        // zero-mean input, and a non-negative one as a ReLU leaves it (larger terms, more cancellation in Aᵀ·m·A)
        for (kind, input) in [("signed", x), ("non-negative", x.map(abs))] {
            let naive = Conv2d.naive(input, images: n, in: cin, size: h, weight: layer.weight, out: out, kernel: 3, stride: 1, padding: 1, bn: bn)
            for (add, relu) in [(nil, false), (residual, true)] as [([Float]?, Bool)] {
                let ref = Self.reference(naive, add: add, relu: relu)
                for threads in [1, 2] {
                    for scratch in [nil, 3 * 16 * (cin + out)] {
                        for (path, conv) in [(ConvolutionPath.winograd, wino), (.im2col, direct)] where path == .winograd || scratch == nil {
                            let y = Self.run(conv, input, images: n, size: h, threads: threads, add: add, relu: relu, scratchFloats: scratch)
                            let e = Self.scaledError(y, ref)
                            worst[path] = max(worst[path] ?? 0, e)
                            #expect(e < Self.winogradTolerance, "\(shape) \(kind) \(path) threads \(threads) relu \(relu) scratch \(scratch ?? 0): \(e)")
                        }
                    }
                }
            }
        }
        print("3×3 conv \(shape) scaled error vs Double naive: im2col \(worst[.im2col]!), Winograd \(worst[.winograd]!)")
        // Negative controls, each against the Winograd output (residual + ReLU): one weight off by 1e-3 (of weights
        // in [-1, 1); the centre tap, which every output reads, also on a 1×1 image), and the input shifted by one
        // pixel along x (a tile read one column off).
        let ours = Self.run(wino, x, images: n, size: h, threads: 2, add: residual, relu: true)
        var nudged = layer.weight
        nudged[((out / 2 * cin + cin / 2) * 3 + 1) * 3 + 1] += 1e-3
        let perturbed = Conv2d.naive(x, images: n, in: cin, size: h, weight: nudged, out: out, kernel: 3, stride: 1, padding: 1, bn: bn)
        var shiftedX = x
        for r in 0..<(n * cin * h) { for i in 0..<h { shiftedX[r * h + i] = i + 1 < h ? x[r * h + i + 1] : 0 } }
        let shifted = Conv2d.naive(shiftedX, images: n, in: cin, size: h, weight: layer.weight, out: out, kernel: 3, stride: 1, padding: 1, bn: bn)
        for (name, wrong) in [("weight + 1e-3", perturbed), ("input shifted one pixel", shifted)] {
            let e = Self.scaledError(ours, Self.reference(wrong, add: residual, relu: true))
            print("3×3 conv \(shape) negative control \(name): \(e)")
            #expect(e > Self.winogradTolerance, "\(shape) negative control \(name) passed: \(e)")
        }
    }

    /// Folding BatchNorm into the weights changes one rounding per weight: ≤ 1e-6 of the output scale. The same
    /// bound catches a BatchNorm ε of 1e-3 instead of PyTorch's 1e-5.
    @Test(arguments: ConvolutionPath.allCases)
    func batchNormFoldingIsWithinTolerance(path: ConvolutionPath) throws {
        let (cin, out, h, n) = (16, 32, 10, 2)
        let layer = Layer(out: out, in: cin, kernel: 3, seed: 21)
        let w = layer.weights(out: out, in: cin, kernel: 3)
        let folded = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, path: path)
        let unfolded = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, fold: false, path: path)
        let x = randomFloats(n * cin * h * h, seed: 22)
        let a = Self.run(folded, x, images: n, size: h, threads: 2), b = Self.run(unfolded, x, images: n, size: h, threads: 2)
        let scale = b.map(abs).max()!
        let bound = 1e-6 * scale
        #expect(maxAbsDiff(a, b) <= bound, "\(path) folded vs unfolded: \(maxAbsDiff(a, b)) of \(scale)")
        let eps = try Conv2d(w, conv: "c", bn: "b", out: out, in: cin, kernel: 3, padding: 1, eps: 1e-3, path: path)
        #expect(maxAbsDiff(Self.run(eps, x, images: n, size: h, threads: 2), b) > bound)
    }

    /// CLIPWB_CONV picks the path: unset or empty → Winograd, "im2col" → im2col, anything else is refused by name.
    @Test func convolutionPathFromEnvironment() throws {
        #expect(try ConvolutionPath.parse(nil) == .winograd && ConvolutionPath.parse("") == .winograd)
        #expect(try ConvolutionPath.parse("winograd") == .winograd && ConvolutionPath.parse("im2col") == .im2col)
        #expect(throws: ModelError.self) { try ConvolutionPath.parse("Im2col") }
    }
}
