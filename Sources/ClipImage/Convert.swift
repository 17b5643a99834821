// Pillow's pixel conversions on the preprocessing path (src/libImaging/Convert.c):
// premultiplying alpha before a resize and undoing it after (Image.resize converts
// RGBA→RGBa and LA→La), and convert("RGB") from every mode clipwb decodes.

/// MULDIV255(a, b): (a·b + 128) then ((t >> 8) + t) >> 8.
@inline(__always)
func mulDiv255(_ a: Int, _ b: Int) -> Int {
    let t = a * b + 128
    return ((t >> 8) + t) >> 8
}

@inline(__always)
func clipByte(_ v: Int) -> UInt8 { v <= 0 ? 0 : (v < 256 ? UInt8(v) : 255) }

enum Convert {
    /// rgbA2rgba / lA2la in place: colour channels (all but the last) times alpha/255.
    static func premultiply(_ px: inout [UInt8], channels c: Int) {
        px.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                let a = Int(p[i + c - 1])
                for ch in 0..<(c - 1) { p[i + ch] = UInt8(truncatingIfNeeded: mulDiv255(Int(p[i + ch]), a)) }
                i += c
            }
        }
    }

    /// rgba2rgbA / la2lA in place: alpha 0 or 255 untouched, else CLIP8(255·v / alpha).
    static func unpremultiply(_ px: inout [UInt8], channels c: Int) {
        px.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                let a = Int(p[i + c - 1])
                if a != 0 && a != 255 {
                    for ch in 0..<(c - 1) { p[i + ch] = clipByte(255 * Int(p[i + ch]) / a) }
                }
                i += c
            }
        }
    }

    /// convert("RGB"): src pixels of `mode` (n of them) → n·3 bytes.
    /// "I;16" values arrive as UInt16 in `wide` (I16_RGB: v < 256 ? v : 255).
    /// "I" values arrive as Int32 in `int32` (i2rgb: CLIP8).
    static func toRGB(_ src: [UInt8], wide: [UInt16] = [], int32: [Int32] = [], mode: PixelMode, count n: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: n * 3) { o, filled in
            filled = n * 3
            switch mode {
            case .rgb, .palette:
                src.withUnsafeBufferPointer { s in o.baseAddress!.update(from: s.baseAddress!, count: n * 3) }
            case .gray, .bilevel:
                for i in 0..<n { o[3 * i] = src[i]; o[3 * i + 1] = src[i]; o[3 * i + 2] = src[i] }
            case .grayAlpha:  // la2rgb
                for i in 0..<n { let v = src[2 * i]; o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v }
            case .rgba:  // rgba2rgb drops alpha
                for i in 0..<n { for ch in 0..<3 { o[3 * i + ch] = src[4 * i + ch] } }
            case .cmyk:  // cmyk2rgb: nk = 255 − k; CLIP8(nk − MULDIV255(c, nk))
                for i in 0..<n {
                    let nk = 255 - Int(src[4 * i + 3])
                    for ch in 0..<3 { o[3 * i + ch] = clipByte(nk - mulDiv255(Int(src[4 * i + ch]), nk)) }
                }
            case .int32:
                for i in 0..<n {
                    let v = clipByte(Int(int32[i]))
                    o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v
                }
            case .gray16B:  // the window holds the bytes read little-endian; convert reads them big-endian
                for i in 0..<n {
                    let w = wide[i].byteSwapped
                    let v: UInt8 = w < 256 ? UInt8(w) : 255
                    o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v
                }
            case .gray16:
                for i in 0..<n {
                    let v: UInt8 = wide[i] < 256 ? UInt8(wide[i]) : 255
                    o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v
                }
            }
        }
    }
}
