// The small row kernels around the GEMMs: LayerNorm (fp32, ε from the spec, 1e-5 for OpenAI), QuickGELU
// `x·σ(1.702x)`, exact GELU, softmax; each SIMD16 with a scalar tail, each with a naive Double twin for the tests.
import Foundation

typealias V16 = SIMD16<Float>

enum Kernels {
    static let layerNormEps: Float = 1e-5
    static let quickGELUAlpha: Float = 1.702

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V16 {
        UnsafeRawPointer(p).loadUnaligned(as: V16.self)
    }

    @inline(__always) static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
    }

    /// e^x for 16 lanes (Cephes expf: x = n·ln2 + r, degree-6 polynomial in r, 2ⁿ by exponent bits); ≤ 2 ulp.
    @inline(__always) static func exp(_ x0: V16) -> V16 {
        // Mask-and-replace compiles to compare + blend; `clamped` does not vectorize.
        var x = x0.replacing(with: -87.3, where: x0 .< -87.3)
        x = x.replacing(with: 88.0, where: x .> 88.0)
        // Adding 1.5·2²³ rounds x·log2(e) to the nearest integer n and leaves n in the low mantissa bits.
        let magic = V16(repeating: 12582912)
        let t = x * 1.44269504088896341 + magic
        let n = t - magic
        var r = x - n * 0.693359375
        r = r + n * 2.12194440e-4
        var y = V16(repeating: 1.9875691500e-4)
        y = y * r + 1.3981999507e-3
        y = y * r + 8.3334519073e-3
        y = y * r + 4.1665795894e-2
        y = y * r + 1.6666665459e-1
        y = y * r + 5.0000001201e-1
        y = y * (r * r) + r + 1
        let bits = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127
        return y * unsafeBitCast(bits &<< 23, to: V16.self)
    }

    /// out[0..<w] = (x − mean) / sqrt(var + ε) · gamma + beta over one row (biased variance, as torch).
    static func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, width w: Int,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float = layerNormEps) {
        let body = w - w % 16
        var acc = V16()
        for i in stride(from: 0, to: body, by: 16) { acc += load(x + i) }
        var total = acc.sum()
        for i in body..<w { total += x[i] }
        let mean = total / Float(w)
        var sq = V16()
        for i in stride(from: 0, to: body, by: 16) {
            let d = load(x + i) - mean
            sq += d * d
        }
        var sqTotal = sq.sum()
        for i in body..<w { sqTotal += (x[i] - mean) * (x[i] - mean) }
        let inv = 1 / (sqTotal / Float(w) + eps).squareRoot()
        for i in stride(from: 0, to: body, by: 16) {
            store((load(x + i) - mean) * inv * load(gamma + i) + load(beta + i), out + i)
        }
        for i in body..<w { out[i] = (x[i] - mean) * inv * gamma[i] + beta[i] }
    }

    /// x += bias, then x = x·σ(1.702x), over one row (c_fc's output; bias fused here, not in the GEMM).
    static func biasQuickGELU(_ x: UnsafeMutablePointer<Float>, width w: Int, bias: UnsafePointer<Float>) {
        eachBlock(x, width: w, bias: bias) { v in v / (1 + exp(v * -quickGELUAlpha)) }
    }

    /// x += bias, then x = GELU(x) = x·Φ(x) with the exact erf (torch's nn.GELU(), HF "gelu"), over one row.
    /// Φ comes from erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2) (Numerical Recipes' erfcc, relative error
    /// < 1.2e-7): GELU(x) = x − x·erfc(x/√2)/2 for x ≥ 0 and x·erfc(|x|/√2)/2 below.
    static func biasGELU(_ x: UnsafeMutablePointer<Float>, width w: Int, bias: UnsafePointer<Float>) {
        eachBlock(x, width: w, bias: bias) { v in
            let z = v.replacing(with: -v, where: v .< 0) * 0.70710678118654752
            let t = 1 / (1 + 0.5 * z)
            var p = V16(repeating: 0.17087277)
            p = p * t - 0.82215223
            p = p * t + 1.48851587
            p = p * t - 1.13520398
            p = p * t + 0.27886807
            p = p * t - 0.18628806
            p = p * t + 0.09678418
            p = p * t + 0.37409196
            p = p * t + 1.00002368
            let half = 0.5 * v * t * exp(p * t - 1.26551223 - z * z)
            return (v - half).replacing(with: half, where: v .< 0)
        }
    }

    /// x[0..<w] = f(x + bias) in 16-lane blocks; the tail goes through one padded block.
    @inline(__always) static func eachBlock(_ x: UnsafeMutablePointer<Float>, width w: Int, bias: UnsafePointer<Float>, _ f: (V16) -> V16) {
        let body = w - w % 16
        for i in stride(from: 0, to: body, by: 16) { store(f(load(x + i) + load(bias + i)), x + i) }
        guard body < w else { return }
        var tail = V16()
        for j in body..<w { tail[j - body] = x[j] + bias[j] }
        let r = f(tail)
        for j in body..<w { x[j] = r[j - body] }
    }

    /// In-place softmax over one row of `n` scores (max subtracted first, as torch).
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var m = -Float.infinity
        for i in 0..<n { m = max(m, x[i]) }
        var total: Float = 0
        var i = 0
        while i + 16 <= n {
            let e = exp(load(x + i) - m)
            store(e, x + i)
            total += e.sum()
            i += 16
        }
        if i < n {
            var tail = V16(repeating: -Float.infinity)
            for j in i..<n { tail[j - i] = x[j] }
            let e = exp(tail - m)
            for j in i..<n { x[j] = e[j - i]; total += e[j - i] }
        }
        let inv = 1 / total
        for j in 0..<n { x[j] *= inv }
    }

    // MARK: naive twins (Double, libm) for the kernel tests

    static func naiveGELU(_ x: [Float]) -> [Float] {
        x.map { v in Float(0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))) }
    }

    static func naiveLayerNorm(_ x: [Float], gamma: [Float], beta: [Float], eps: Float = layerNormEps) -> [Float] {
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return x.indices.map { Float((Double(x[$0]) - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[$0]) + Double(beta[$0])) }
    }

    static func naiveQuickGELU(_ x: [Float]) -> [Float] {
        x.map { v in Float(Double(v) / (1 + Foundation.exp(-Double(quickGELUAlpha) * Double(v)))) }
    }

    static func naiveSoftmax(_ x: [Float]) -> [Float] {
        let m = Double(x.max() ?? 0)
        let e = x.map { Foundation.exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }
}
