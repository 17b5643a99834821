// Resize + CenterCrop + convert("RGB") — the uint8 stage of CLIP's transform, computing only the
// n_px × n_px window the crop keeps (see Resample.swift for why that is exact).
import ClipCore

extension CLIPPreprocess {
    /// The uint8 RGB image CLIP's transform produces before ToTensor.
    public func resizedCropped(_ image: DecodedImage) throws -> RGBImage {
        let s = resolution
        let (w, h) = (image.width, image.height)
        let (nw, nh) = Self.resizedSize(width: w, height: h, resolution: s)
        guard nw <= Int(Int32.max), nh <= Int(Int32.max) else {
            throw ImageError("image.aspect", "the image is \(w)x\(h); resizing its short side to \(s) gives \(nw)x\(nh), beyond what Pillow can resize; crop it to a less extreme aspect ratio")
        }
        let cols = Self.cropOffset(size: nw, crop: s) ..< Self.cropOffset(size: nw, crop: s) + s
        let rows = Self.cropOffset(size: nh, crop: s) ..< Self.cropOffset(size: nh, crop: s) + s
        let resize = nw != w || nh != h
        let c = image.mode.bytesPerPixel
        if image.mode == .gray16 || image.mode == .gray16B {
            let wide = Self.window16(image, nw: nw, nh: nh, cols: cols, rows: rows)
            return RGBImage(width: s, height: s, pixels: Convert.toRGB([], wide: wide, mode: image.mode, count: s * s))
        }
        if image.mode == .int32 {
            let wide = Self.window32(image, nw: nw, nh: nh, cols: cols, rows: rows)
            return RGBImage(width: s, height: s, pixels: Convert.toRGB([], int32: wide, mode: .int32, count: s * s))
        }
        var window: [UInt8]
        if !resize {
            window = Self.copyWindow(image.pixels, width: w, channels: c, cols: cols, rows: rows)
        } else if image.mode.resizesNearest {
            window = [UInt8](repeating: 0, count: s * s * c)
            image.pixels.withUnsafeBufferPointer { src in
                window.withUnsafeMutableBufferPointer { dst in
                    Nearest.resize(src.baseAddress!, width: w, height: h, channels: c, newWidth: nw, newHeight: nh,
                                   cols: cols, rows: rows, into: dst.baseAddress!)
                }
            }
        } else if image.mode == .rgba || image.mode == .grayAlpha {
            var pre = image.pixels
            Convert.premultiply(&pre, channels: c)
            window = Self.bicubic8(pre, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows)
            Convert.unpremultiply(&window, channels: c)
        } else {
            window = Self.bicubic8(image.pixels, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows)
        }
        return RGBImage(width: s, height: s, pixels: Convert.toRGB(window, mode: image.mode, count: s * s))
    }

    static func copyWindow<T>(_ px: [T], width: Int, channels c: Int, cols: Range<Int>, rows: Range<Int>) -> [T] {
        var out: [T] = []
        out.reserveCapacity(cols.count * rows.count * c)
        for y in rows { out.append(contentsOf: px[((y * width + cols.lowerBound) * c)..<((y * width + cols.upperBound) * c)]) }
        return out
    }

    /// Pillow 13's ImagingResampleInner pass order: vertical first when the height shrinks by more
    /// than twice as many pixels as the width does, else horizontal first.
    static func horizontalFirst(width w: Int, height h: Int, nw: Int, nh: Int) -> Bool {
        !((h - nh) > 0 && (h - nh) > (w - nw) * 2)
    }

    typealias HorizontalPass<T> = (UnsafePointer<T>, _ stride: Int, _ colOffset: Int, _ rows: Range<Int>,
                                   ResampleCoefficients, UnsafeMutablePointer<T>) -> Void
    typealias VerticalPass<T> = (UnsafePointer<T>, _ stride: Int, _ rowLength: Int, _ rowOffset: Int,
                                 ResampleCoefficients, UnsafeMutablePointer<T>) -> Void

    /// ImagingResampleInner restricted to the crop window: px [h, w, c] → [rows, cols, c].
    static func resample<T: FixedWidthInteger>(_ px: [T], width w: Int, height h: Int, channels c: Int,
                                              nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>,
                                              horizontal: HorizontalPass<T>, vertical: VerticalPass<T>) -> [T] {
        let hco = nw != w ? ResampleCoefficients(inSize: w, outSize: nw, outputs: cols) : nil
        let vco = nh != h ? ResampleCoefficients(inSize: h, outSize: nh, outputs: rows) : nil
        let srcCols = hco?.sourceRange ?? cols
        let srcRows = vco?.sourceRange ?? rows
        let (s, t) = (cols.count, rows.count)
        if horizontalFirst(width: w, height: h, nw: nw, nh: nh) {
            // [srcRows, s, c] then [t, s, c]
            var tmp: [T]
            if let hco {
                tmp = [T](repeating: 0, count: srcRows.count * s * c)
                px.withUnsafeBufferPointer { src in
                    tmp.withUnsafeMutableBufferPointer { horizontal(src.baseAddress!, w * c, 0, srcRows, hco, $0.baseAddress!) }
                }
            } else {
                tmp = copyWindow(px, width: w, channels: c, cols: cols, rows: srcRows)
            }
            guard let vco else { return tmp }
            var out = [T](repeating: 0, count: t * s * c)
            tmp.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer {
                    vertical(src.baseAddress!, s * c, s * c, srcRows.lowerBound, vco, $0.baseAddress!)
                }
            }
            return out
        }
        // Vertical first: [t, srcCols, c] then [t, s, c]
        var tmp: [T]
        if let vco {
            tmp = [T](repeating: 0, count: t * srcCols.count * c)
            px.withUnsafeBufferPointer { src in
                tmp.withUnsafeMutableBufferPointer {
                    vertical(src.baseAddress! + srcCols.lowerBound * c, w * c, srcCols.count * c, 0, vco, $0.baseAddress!)
                }
            }
        } else {
            tmp = copyWindow(px, width: w, channels: c, cols: srcCols, rows: rows)
        }
        guard let hco else { return tmp }
        var out = [T](repeating: 0, count: t * s * c)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer {
                horizontal(src.baseAddress!, srcCols.count * c, srcCols.lowerBound, 0..<t, hco, $0.baseAddress!)
            }
        }
        return out
    }

    static func bicubic8(_ px: [UInt8], width w: Int, height h: Int, channels c: Int, nw: Int, nh: Int,
                         cols: Range<Int>, rows: Range<Int>) -> [UInt8] {
        resample(px, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows,
                 horizontal: { src, stride, off, r, co, out in
                     Resample8.horizontal(src, stride: stride, colOffset: off, channels: c, rows: r, co, into: out)
                 },
                 vertical: { src, stride, len, off, co, out in
                     Resample8.vertical(src, stride: stride, rowLength: len, rowOffset: off, co, into: out)
                 })
    }

    /// The same for "I;16" (double arithmetic, ROUND_UP, CLIP16): pixel bytes read little-endian,
    /// also for "I;16B", as Pillow 13 does on little-endian hosts.
    static func window16(_ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>) -> [UInt16] {
        let n = image.width * image.height
        var px = [UInt16](repeating: 0, count: n)
        for i in 0..<n { px[i] = UInt16(image.pixels[2 * i]) | UInt16(image.pixels[2 * i + 1]) << 8 }
        return windowWide(px, image, nw: nw, nh: nh, cols: cols, rows: rows, round: ResampleWide.round16)
    }

    /// The same for "I" (double arithmetic, ROUND_UP, no clip): Int32 pixels stored little-endian.
    static func window32(_ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>) -> [Int32] {
        let n = image.width * image.height
        var px = [Int32](repeating: 0, count: n)
        image.pixels.withUnsafeBytes { raw in
            for i in 0..<n { px[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        }
        return windowWide(px, image, nw: nw, nh: nh, cols: cols, rows: rows, round: ResampleWide.round32)
    }

    static func windowWide<T: FixedWidthInteger>(_ px: [T], _ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>,
                                                 rows: Range<Int>, round: @escaping (Double) -> T) -> [T] {
        let (w, h) = (image.width, image.height)
        if nw == w && nh == h { return copyWindow(px, width: w, channels: 1, cols: cols, rows: rows) }
        return resample(px, width: w, height: h, channels: 1, nw: nw, nh: nh, cols: cols, rows: rows,
                        horizontal: { src, stride, off, r, co, out in
                            ResampleWide.horizontal(src, stride: stride, colOffset: off, rows: r, co, into: out, round: round)
                        },
                        vertical: { src, stride, len, off, co, out in
                            ResampleWide.vertical(src, stride: stride, rowLength: len, rowOffset: off, co, into: out, round: round)
                        })
    }
}
