// nn.Conv2d (no bias) followed by nn.BatchNorm2d in eval mode, as openai/CLIP's ModifiedResNet uses them, on
// NHWC activations [images, h, w, channels]: im2col + sgemm (GEMM.matmul; 1×1 convolutions need no im2col), the
// BatchNorm folded into the convolution once at load, and an epilogue (+ residual, ReLU) on the rows just made.
//
// Folding: BN(conv(x)) = s·(W∗x) − s·mean + β with s = γ/√(running_var + ε) per output channel, so W' = s·W and
// b' = β − s·mean (computed in Double, rounded once to float32). The only change against PyTorch is where one
// rounding happens (s·W rounded per weight vs s·(W∗x) rounded per output): relative ~6e-8 per term, far inside
// the verifier's image cosine ≥ 0.99999; docs/parity.md has the figure measured on the rn-tiny fixture.
//
// Winograd: the 3×3, stride-1, padding-1 convolutions (the stem's conv2/conv3, every Bottleneck's conv2; ~60% of
// RN50's multiply-adds) run Winograd F(2×2, 3×3) instead (Winograd.swift: 2.25× fewer multiplies); every other
// shape runs im2col, which stays the reference path (`CLIPWB_CONV=im2col`, or `path: .im2col`). Measured against a
// Double naive convolution, scaled error (max |diff| / max |output|) ≤ 3.7e-7 for Winograd, ≤ 4.2e-7 for im2col
// (tests' tolerance 2e-6); RN50 embeddings of the two paths: min cosine 1 − 1.3e-13 (docs/parity.md).
import ClipCore
import ClipWeights

struct Conv2d {
    let outChannels, inChannels, kernel, stride, padding: Int
    /// [out, ky, kx, in]: PyTorch's [out, in, ky, kx] reordered so an im2col row is kernel² contiguous channel runs;
    /// BatchNorm's scale folded in when `scale` is nil. Empty when `winograd` holds the weights.
    let weight: FloatBuffer
    /// Winograd F(2×2, 3×3) weights U_ξ = (G·g·Gᵀ)_ij, [16, out, in] (Winograd.swift); nil on the im2col path.
    let winograd: FloatBuffer?
    /// Unfolded BatchNorm only (for measuring folding): s per output channel, applied after the product.
    let scale: FloatBuffer?
    /// β − s·mean per output channel.
    let shift: FloatBuffer

    var patchLength: Int { inChannels * kernel * kernel }
    func outputSize(_ h: Int) -> Int { (h + 2 * padding - kernel) / stride + 1 }
    /// Multiply-adds for one image of input size h (the direct convolution's count, whichever path runs).
    func multiplyAdds(_ h: Int) -> Double { Double(outputSize(h) * outputSize(h)) * Double(outChannels * patchLength) }
    /// Floats of per-worker scratch `forward` asks for: ConvTiles.rowsPerTile im2col rows, or the V and M of a chunk
    /// of Winograd tiles (WinogradTiles.scratchFloats; any scratch of ≥ 1 tile works, a larger one takes larger
    /// chunks); 0 for a 1×1 convolution without padding.
    var scratchFloats: Int {
        if winograd != nil { return WinogradTiles.scratchFloats(in: inChannels, out: outChannels) }
        return kernel == 1 && stride == 1 && padding == 0 ? 0 : ConvTiles.rowsPerTile * patchLength
    }

    /// `conv`: "visual.layer1.0.conv2" (its `.weight`), `bn`: "visual.layer1.0.bn2" (BatchNorm2d, ε 1e-5).
    /// `path`: how a 3×3, stride-1, padding-1 convolution runs; every other shape runs im2col.
    init(_ weights: CLIPWeights, conv: String, bn: String, out: Int, in cin: Int, kernel k: Int, stride: Int = 1,
         padding: Int = 0, fold: Bool = true, eps: Double = 1e-5, path: ConvolutionPath = .winograd) throws {
        (outChannels, inChannels, kernel, self.stride, self.padding) = (out, cin, k, stride, padding)
        let w = try ModelTensors.matrix(weights, conv + ".weight", [out, cin, k, k])
        func vector(_ n: String) throws -> UnsafePointer<Float> { try ModelTensors.pointer(weights, "\(bn).\(n)", [out]) }
        let (gamma, beta, mean, variance) = (try vector("weight"), try vector("bias"), try vector("running_mean"), try vector("running_var"))
        let plen = cin * k * k
        let useWinograd = path == .winograd && Self.winogradApplies(kernel: k, stride: stride, padding: padding)
        let weight = FloatBuffer(count: useWinograd ? 0 : out * plen)
        shift = FloatBuffer(count: out)
        scale = fold ? nil : FloatBuffer(count: out)
        // PyTorch's rows [out][in, ky, kx] and each output channel's BatchNorm scale, in Double
        var rows = [Float](repeating: 0, count: out * plen)
        var scales = [Double](repeating: 1, count: out)
        for o in 0..<out {
            let s = Double(gamma[o]) / (Double(variance[o]) + eps).squareRoot()
            shift.pointer[o] = Float(Double(beta[o]) - s * Double(mean[o]))
            scale?.pointer[o] = Float(s)
            scales[o] = fold ? s : 1
            rows.withUnsafeMutableBufferPointer { w.row(o, width: plen, into: $0.baseAddress! + o * plen) }
            guard !useWinograd else { continue }
            // row: [in, ky, kx] → weight[o]: [ky, kx, in]
            for c in 0..<cin {
                for t in 0..<(k * k) {
                    let v = rows[o * plen + c * k * k + t]
                    weight.pointer[o * plen + t * cin + c] = fold ? Float(s * Double(v)) : v
                }
            }
        }
        self.weight = weight
        winograd = useWinograd
            ? Self.winogradWeights(out: out, in: cin) { o, c, g in for t in 0..<9 { g[t] = scales[o] * Double(rows[o * plen + c * 9 + t]) } }
            : nil
    }

    /// y: [images, h', h', out] = act(BN(conv(x)) + add), x: [images, h, h, in]. `add` (same shape as y, not
    /// aliasing it) is the Bottleneck's identity. `scratch`: `threads` blocks of `scratchStride` floats.
    func forward(_ x: UnsafePointer<Float>, images: Int, size h: Int, into y: UnsafeMutablePointer<Float>,
                 add: UnsafePointer<Float>? = nil, relu: Bool, scratch: UnsafeMutablePointer<Float>, scratchStride: Int,
                 pool: WorkerPool) {
        if winograd != nil {
            forwardWinograd(x, images: images, size: h, into: y, add: add, relu: relu, scratch: scratch, scratchStride: scratchStride, pool: pool)
            return
        }
        let ho = outputSize(h), rows = images * ho * ho, n = outChannels, kk = patchLength
        let direct = kernel == 1 && stride == 1 && padding == 0
        if rows < ConvTiles.minRows * pool.threads {
            // Few rows (the last stage at batch 1): one im2col, and the product split by output channels.
            let a = direct ? x : { im2col(x, size: h, rows: 0..<rows, into: scratch); return UnsafePointer(scratch) }()
            // y: [rows, out] = cols: [rows, in·k²] · weightᵀ: [in·k², out]
            GEMM.linear(a, lda: kk, UnsafePointer(weight.pointer.baseAddress!), ldw: kk, y, ldc: n, m: rows, n: n, k: kk, pool: pool)
            Rows.forEach(rows, width: n, pool: pool) { r in epilogue(y + r * n, add: add.map { $0 + r * n }, relu: relu) }
            return
        }
        let tiles = ConvTiles.count(rows: rows, threads: pool.threads)
        let size = (rows + tiles - 1) / tiles
        pool.parallelFor(tiles) { t, worker in
            let r0 = t * size, r1 = min(rows, r0 + size)
            guard r0 < r1 else { return }
            var a = x + r0 * kk
            if !direct {
                im2col(x, size: h, rows: r0..<r1, into: scratch + worker * scratchStride)
                a = UnsafePointer(scratch + worker * scratchStride)
            }
            // y[r0..<r1]: [tile, out] = cols: [tile, in·k²] · weightᵀ: [in·k², out], on this worker alone
            GEMM.matmul(a, lda: kk, weight.pointer.baseAddress!, ldb: kk, transB: true, y + r0 * n, ldc: n, m: r1 - r0, n: n, k: kk)
            for r in r0..<r1 { epilogue(y + r * n, add: add.map { $0 + r * n }, relu: relu) }
        }
    }

    /// cols[r − rows.lowerBound, (ky·k + kx)·in + c] = x[image, oy·stride + ky − pad, ox·stride + kx − pad, c]
    /// (zero outside the image), r = (image·h' + oy)·h' + ox: the patch under output pixel r, in weight's order.
    func im2col(_ x: UnsafePointer<Float>, size h: Int, rows: Range<Int>, into cols: UnsafeMutablePointer<Float>) {
        let ho = outputSize(h), c = inChannels, k = kernel
        for r in rows {
            let (img, oy, ox) = (r / (ho * ho), r / ho % ho, r % ho)
            var dst = cols + (r - rows.lowerBound) * patchLength
            for ky in 0..<k {
                let iy = oy * stride + ky - padding
                for kx in 0..<k {
                    let ix = ox * stride + kx - padding
                    if iy < 0 || iy >= h || ix < 0 || ix >= h {
                        dst.update(repeating: 0, count: c)
                    } else {
                        dst.update(from: x + ((img * h + iy) * h + ix) * c, count: c)
                    }
                    dst += c
                }
            }
        }
    }

    /// One output row: y = y·scale + shift (+ add), then ReLU; 16 lanes at a time, a scalar tail.
    @inline(__always) func epilogue(_ y: UnsafeMutablePointer<Float>, add: UnsafePointer<Float>?, relu: Bool) {
        let n = outChannels, b = UnsafePointer(shift.pointer.baseAddress!), s = scale.map { UnsafePointer($0.pointer.baseAddress!) }
        let body = n - n % 16
        for j in Swift.stride(from: 0, to: body, by: 16) {
            var v = Kernels.load(y + j)
            if let s { v *= Kernels.load(s + j) }
            v += Kernels.load(b + j)
            if let add { v += Kernels.load(add + j) }
            if relu { v = v.replacing(with: 0, where: v .< 0) }
            Kernels.store(v, y + j)
        }
        for j in body..<n {
            var v = s.map { y[j] * $0[j] } ?? y[j]
            v += b[j]
            if let add { v += add[j] }
            y[j] = relu ? max(v, 0) : v
        }
    }
}

/// How the rows of a convolution are split: tiles of at most `rowsPerTile` rows, a multiple of the thread count.
enum ConvTiles {
    static let rowsPerTile = 256
    /// Below this many rows per thread, the product is split by output channels instead.
    static let minRows = 32

    static func count(rows: Int, threads: Int) -> Int {
        let tiles = max(threads, (rows + rowsPerTile - 1) / rowsPerTile)
        return (tiles + threads - 1) / threads * threads
    }
}

extension Conv2d {
    /// The naive twin the tests compare against: PyTorch's direct convolution on NCHW, then BatchNorm2d (eval)
    /// unfolded, sums in Double. x: [images, in, h, h], weight: [out, in, k, k] → [images, out, h', h'].
    static func naive(_ x: [Float], images: Int, in cin: Int, size h: Int, weight: [Float], out: Int, kernel k: Int,
                      stride: Int, padding: Int, bn: (gamma: [Float], beta: [Float], mean: [Float], variance: [Float]),
                      eps: Double = 1e-5) -> [Float] {
        let ho = (h + 2 * padding - k) / stride + 1
        var y = [Float](repeating: 0, count: images * out * ho * ho)
        for img in 0..<images {
            for o in 0..<out {
                let s = Double(bn.gamma[o]) / (Double(bn.variance[o]) + eps).squareRoot()
                for oy in 0..<ho {
                    for ox in 0..<ho {
                        var sum = 0.0
                        for c in 0..<cin {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let (iy, ix) = (oy * stride + ky - padding, ox * stride + kx - padding)
                                    guard iy >= 0, iy < h, ix >= 0, ix < h else { continue }
                                    sum += Double(x[((img * cin + c) * h + iy) * h + ix]) * Double(weight[((o * cin + c) * k + ky) * k + kx])
                                }
                            }
                        }
                        y[((img * out + o) * ho + oy) * ho + ox] = Float((sum - Double(bn.mean[o])) * s + Double(bn.beta[o]))
                    }
                }
            }
        }
        return y
    }
}
