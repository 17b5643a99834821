// Pillow's bicubic and bilinear resampling (src/libImaging/Resample.c, ImagingResampleInner),
// reproduced bit for bit: filter support scaled by the downscale factor, weights normalised in
// double, then rounded to 22-bit fixed point (PRECISION_BITS = 32 − 8 − 2) for 8-bit images;
// horizontal pass first, clip to 8 bits, then vertical pass, clip again. A pass is skipped when
// its dimension is unchanged. Only the output rows/columns a crop keeps are computed: each output
// sample depends on its own coefficients only, so the values are those of the full resize.

/// Pillow's bicubic_filter (a = −0.5), evaluated in the same operation order.
@inline(__always)
func bicubicFilter(_ x0: Double) -> Double {
    let a = -0.5
    let x = x0 < 0 ? -x0 : x0
    if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
    if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
    return 0.0
}

/// Pillow's bilinear_filter (the triangle, support 1).
@inline(__always)
func bilinearFilter(_ x0: Double) -> Double {
    let x = x0 < 0 ? -x0 : x0
    return x < 1.0 ? 1.0 - x : 0.0
}

/// The PIL filters CLIP pipelines use, with Pillow's support radius (`struct filter`).
public enum ResampleFilter: Sendable {
    case bicubic, bilinear

    var support: Double { self == .bicubic ? 2.0 : 1.0 }

    @inline(__always)
    func callAsFunction(_ x: Double) -> Double { self == .bicubic ? bicubicFilter(x) : bilinearFilter(x) }
}

let precisionBits: Int32 = 32 - 8 - 2

/// precompute_coeffs + normalize_coeffs_8bpc for output indices `outputs` of a resize
/// inSize → outSize over the box (0, inSize).
struct ResampleCoefficients {
    let ksize: Int
    let outputs: Range<Int>
    /// Per output index (relative to outputs.lowerBound): first source index and tap count.
    var xmin: [Int]
    var count: [Int]
    /// ksize doubles per output (16-bit path) and their 22-bit fixed-point twins (8-bit path).
    var weights: [Double]
    var fixed: [Int32]

    init(inSize: Int, outSize: Int, outputs: Range<Int>, filter: ResampleFilter = .bicubic) {
        let in0 = Double(Float(0)), in1 = Double(Float(inSize))
        let scale = Double(Float(in1) - Float(in0)) / Double(outSize)
        let filterscale = scale < 1.0 ? 1.0 : scale
        let support = filter.support * filterscale
        ksize = Int(support.rounded(.up)) * 2 + 1
        self.outputs = outputs
        xmin = [Int](repeating: 0, count: outputs.count)
        count = [Int](repeating: 0, count: outputs.count)
        weights = [Double](repeating: 0, count: outputs.count * ksize)
        fixed = [Int32](repeating: 0, count: outputs.count * ksize)
        let invFilterscale = 1.0 / filterscale
        for (i, xx) in outputs.enumerated() {
            let center = in0 + (Double(xx) + 0.5) * scale
            var ww = 0.0
            var lo = Int(center - support + 0.5)
            if lo < 0 { lo = 0 }
            var hi = Int(center + support + 0.5)
            if hi > inSize { hi = inSize }
            let n = hi - lo
            let k = i * ksize
            for x in 0..<max(n, 0) {
                let w = filter((Double(x + lo) - center + 0.5) * invFilterscale)
                weights[k + x] = w
                ww += w
            }
            if ww != 0.0 { for x in 0..<max(n, 0) { weights[k + x] /= ww } }
            xmin[i] = lo
            count[i] = max(n, 0)
        }
        let one = Double(Int32(1) << precisionBits)
        for j in 0..<weights.count {
            let w = weights[j]
            fixed[j] = w < 0 ? Int32(-0.5 + w * one) : Int32(0.5 + w * one)
        }
    }

    /// The source range the chosen outputs read.
    var sourceRange: Range<Int> {
        var lo = Int.max, hi = 0
        for i in 0..<xmin.count {
            lo = min(lo, xmin[i])
            hi = max(hi, xmin[i] + count[i])
        }
        return lo >= hi ? 0..<0 : lo..<hi
    }
}

/// clip8: `ss >> PRECISION_BITS` clamped to 0…255 (Pillow's lookup table covers −640…639).
@inline(__always)
func clip8(_ ss: Int32) -> UInt8 {
    let v = ss >> precisionBits
    return v < 0 ? 0 : (v > 255 ? 255 : UInt8(v))
}

// The passes read a source window: `src` points at element (row 0, column 0) of the buffer,
// `stride` is its row length in elements, and `colOffset` / `rowOffset` say which source
// column / row that buffer starts at, so coefficient bounds (absolute source indices) can be used.

enum Resample8 {
    /// _ImagingResampleHorizontal_8bpc for buffer rows `rows`: out [rows.count, outputs, C].
    /// The fast path transposes the window so that every output column becomes a sum of whole
    /// source columns (the vertical kernel, which vectorises); integer sums are order-free, so the
    /// values are Pillow's. `horizontalNaive` is the literal loop it is tested against.
    static func horizontal(_ src: UnsafePointer<UInt8>, stride: Int, colOffset: Int, channels c: Int,
                           rows: Range<Int>, _ co: ResampleCoefficients, into out: UnsafeMutablePointer<UInt8>) {
        let cols = co.sourceRange
        let len = rows.count * c
        let n = co.outputs.count
        // t: [cols, rows·C], column-major view of the window
        var t = [UInt8](repeating: 0, count: cols.count * len)
        var acc = [Int32](repeating: 0, count: len)
        t.withUnsafeMutableBufferPointer { tp in
            let tb = tp.baseAddress!
            for (r, y) in rows.enumerated() {
                let line = src + y * stride + (cols.lowerBound - colOffset) * c
                for x in 0..<cols.count {
                    for ch in 0..<c { tb[x * len + r * c + ch] = line[x * c + ch] }
                }
            }
            co.fixed.withUnsafeBufferPointer { kk in
                acc.withUnsafeMutableBufferPointer { a in
                    for i in 0..<n {
                        convolve(tb, stride: len, first: co.xmin[i] - cols.lowerBound, taps: co.count[i],
                                 k: kk.baseAddress! + i * co.ksize, length: len, acc: a.baseAddress!)
                        for r in 0..<rows.count {
                            for ch in 0..<c { out[(r * n + i) * c + ch] = clip8(a[r * c + ch]) }
                        }
                    }
                }
            }
        }
    }

    /// acc[j] = 2^21 + Σ_y line(first + y)[j] · k[y]: one output line of a pass, Pillow's
    /// fixed-point sum with its rounding bias.
    @inline(__always)
    static func convolve(_ base: UnsafePointer<UInt8>, stride: Int, first: Int, taps: Int,
                         k: UnsafePointer<Int32>, length: Int, acc: UnsafeMutablePointer<Int32>) {
        let bias = Int32(1) << (precisionBits - 1)
        let start = UnsafeRawPointer(base + first * stride)
        var j = 0
        // 16 columns at a time, the sum kept in registers across taps
        while j + 16 <= length {
            var s = SIMD16<Int32>(repeating: bias)
            for y in 0..<taps {
                let v = start.loadUnaligned(fromByteOffset: y * stride + j, as: SIMD16<UInt8>.self)
                s &+= SIMD16<Int32>(truncatingIfNeeded: v) &* k[y]
            }
            UnsafeMutableRawPointer(acc + j).storeBytes(of: s, as: SIMD16<Int32>.self)
            j += 16
        }
        while j < length {
            var s = bias
            for y in 0..<taps { s = s &+ Int32(start.load(fromByteOffset: y * stride + j, as: UInt8.self)) &* k[y] }
            acc[j] = s
            j += 1
        }
    }

    /// The literal Pillow loop (naive twin of `horizontal`).
    static func horizontalNaive(_ src: UnsafePointer<UInt8>, stride: Int, colOffset: Int, channels c: Int,
                                rows: Range<Int>, _ co: ResampleCoefficients, into out: UnsafeMutablePointer<UInt8>) {
        let n = co.outputs.count
        for (r, y) in rows.enumerated() {
            for i in 0..<n {
                for ch in 0..<c {
                    var ss: Int32 = 1 << (precisionBits - 1)
                    for x in 0..<co.count[i] {
                        let v = src[y * stride + (co.xmin[i] + x - colOffset) * c + ch]
                        ss = ss &+ Int32(v) &* co.fixed[i * co.ksize + x]
                    }
                    out[(r * n + i) * c + ch] = clip8(ss)
                }
            }
        }
    }

    /// _ImagingResampleVertical_8bpc: out [outputs, rowLength] from buffer rows that start at
    /// source row `rowOffset` (rowLength = columns·C elements are read from each row).
    static func vertical(_ src: UnsafePointer<UInt8>, stride: Int, rowLength: Int, rowOffset: Int,
                         _ co: ResampleCoefficients, into out: UnsafeMutablePointer<UInt8>) {
        var acc = [Int32](repeating: 0, count: rowLength)
        co.fixed.withUnsafeBufferPointer { kk in
            acc.withUnsafeMutableBufferPointer { a in
                for i in 0..<co.outputs.count {
                    convolve(src, stride: stride, first: co.xmin[i] - rowOffset, taps: co.count[i],
                             k: kk.baseAddress! + i * co.ksize, length: rowLength, acc: a.baseAddress!)
                    let dst = out + i * rowLength
                    for j in 0..<rowLength { dst[j] = clip8(a[j]) }
                }
            }
        }
    }
}

/// The double-precision passes of "I;16" (_16bpc: ROUND_UP then CLIP16) and "I" (_32bpc,
/// IMAGING_TYPE_INT32: ROUND_UP, no clip), one channel; `round` is what differs.
enum ResampleWide {
    @inline(__always)
    static func roundUp(_ ss: Double) -> Int { Int(ss >= 0.0 ? ss + 0.5 : ss - 0.5) }

    /// CLIP16(ROUND_UP(ss)).
    @inline(__always)
    static func round16(_ ss: Double) -> UInt16 {
        let v = roundUp(ss)
        return v <= 0 ? 0 : (v < 65536 ? UInt16(v) : 65535)
    }

    /// ROUND_UP(ss) stored in an INT32 pixel.
    @inline(__always)
    static func round32(_ ss: Double) -> Int32 { Int32(clamping: roundUp(ss)) }

    /// _ImagingResampleHorizontal_16bpc / _32bpc.
    static func horizontal<T: FixedWidthInteger>(_ src: UnsafePointer<T>, stride: Int, colOffset: Int, rows: Range<Int>,
                                                 _ co: ResampleCoefficients, into out: UnsafeMutablePointer<T>,
                                                 round: (Double) -> T) {
        let n = co.outputs.count
        for (r, y) in rows.enumerated() {
            let line = src + y * stride - colOffset
            for i in 0..<n {
                var ss = 0.0
                for x in 0..<co.count[i] { ss += Double(line[co.xmin[i] + x]) * co.weights[i * co.ksize + x] }
                out[r * n + i] = round(ss)
            }
        }
    }

    /// _ImagingResampleVertical_16bpc / _32bpc.
    static func vertical<T: FixedWidthInteger>(_ src: UnsafePointer<T>, stride: Int, rowLength: Int, rowOffset: Int,
                                               _ co: ResampleCoefficients, into out: UnsafeMutablePointer<T>,
                                               round: (Double) -> T) {
        for i in 0..<co.outputs.count {
            for x in 0..<rowLength {
                var ss = 0.0
                for y in 0..<co.count[i] {
                    ss += Double(src[(co.xmin[i] + y - rowOffset) * stride + x]) * co.weights[i * co.ksize + y]
                }
                out[i * rowLength + x] = round(ss)
            }
        }
    }
}
