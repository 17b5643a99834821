// The small row kernels around the GEMMs: LayerNorm (openai/CLIP's fp32 LayerNorm, ε = 1e-5), QuickGELU
// `x·σ(1.702x)`, softmax; each SIMD16 with a scalar tail, each with a naive Double twin for the tests.
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
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>) {
        precondition(w % 16 == 0, "layer width must be a multiple of 16")
        var acc = V16()
        for i in stride(from: 0, to: w, by: 16) { acc += load(x + i) }
        let mean = acc.sum() / Float(w)
        var sq = V16()
        for i in stride(from: 0, to: w, by: 16) {
            let d = load(x + i) - mean
            sq += d * d
        }
        let inv = 1 / (sq.sum() / Float(w) + layerNormEps).squareRoot()
        for i in stride(from: 0, to: w, by: 16) {
            store((load(x + i) - mean) * inv * load(gamma + i) + load(beta + i), out + i)
        }
    }

    /// x += bias, then x = x·σ(1.702x), over one row (c_fc's output; bias fused here, not in the GEMM).
    static func biasQuickGELU(_ x: UnsafeMutablePointer<Float>, width w: Int, bias: UnsafePointer<Float>) {
        precondition(w % 16 == 0, "MLP width must be a multiple of 16")
        for i in stride(from: 0, to: w, by: 16) {
            let v = load(x + i) + load(bias + i)
            store(v / (1 + exp(v * -quickGELUAlpha)), x + i)
        }
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

    static func naiveLayerNorm(_ x: [Float], gamma: [Float], beta: [Float]) -> [Float] {
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return x.indices.map { Float((Double(x[$0]) - mean) / (variance + Double(layerNormEps)).squareRoot() * Double(gamma[$0]) + Double(beta[$0])) }
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
