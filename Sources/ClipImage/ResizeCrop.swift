// Resize + CenterCrop (or pad) + convert("RGB") — the uint8 stage of every pipeline, computing only
// the part of the resized image the crop keeps (see Resample.swift for why that is exact).
import ClipCore

extension CLIPPreprocess {
    /// The uint8 RGB image the spec's pipeline produces before ToTensor / rescale.
    public func resizedCropped(_ image: DecodedImage) throws -> RGBImage {
        // HF converts to RGB (alpha onto white) first; torchvision pipelines convert after the crop.
        guard spec.pipeline == .hf else { return try window(image) }
        if image.transparencyInInfo {
            throw ImageError("image.unsupported", "this \(image.mode.rawValue) image keeps its transparency outside an alpha band (PNG tRNS or a GIF transparent index); Hugging Face's processor composites that onto white, which clipwb does not reproduce yet; convert the image to RGBA or RGB first")
        }
        return try window(HFConvert.toRGB(image))
    }

    /// Resize to the spec's geometry, crop or pad to size × size, convert("RGB") from the image's mode.
    func window(_ image: DecodedImage) throws -> RGBImage {
        let s = resolution
        let (w, h) = (image.width, image.height)
        let g = PreprocessGeometry.of(spec, width: w, height: h)
        let (nw, nh) = (g.resizedWidth, g.resizedHeight)
        guard nw >= 1, nh >= 1 else {
            throw ImageError("image.aspect", "the image is \(w)x\(h); the \(spec.resizeMode.rawValue) resize gives \(nw)x\(nh), and Pillow refuses a side of 0 (\"height and width must be > 0\"); crop it to a less extreme aspect ratio")
        }
        guard nw <= Int(Int32.max), nh <= Int(Int32.max) else {
            throw ImageError("image.aspect", "the image is \(w)x\(h); resizing its short side to \(spec.resizeTarget) gives \(nw)x\(nh), beyond what Pillow can resize; crop it to a less extreme aspect ratio")
        }
        let (oc, or) = (g.outputCols(crop: s), g.outputRows(crop: s))
        let cols = (oc.lowerBound + g.x0)..<(oc.upperBound + g.x0)
        let rows = (or.lowerBound + g.y0)..<(or.upperBound + g.y0)
        let inner = windowRGB(image, nw: nw, nh: nh, cols: cols, rows: rows)
        if oc.count == s && or.count == s { return RGBImage(width: s, height: s, pixels: inner) }
        // padding (torchvision F.pad / ImageOps.expand in the image's mode; HF np.zeros on RGB)
        let fill = try Self.fillRGB(mode: image.mode, fill: spec.pipeline == .openai && spec.resizeMode == .longest ? spec.fillColor : 0)
        var out = [UInt8](repeating: 0, count: s * s * 3)
        for i in 0..<(s * s) { out[3 * i] = fill.0; out[3 * i + 1] = fill.1; out[3 * i + 2] = fill.2 }
        let line = oc.count * 3
        for (r, y) in or.enumerated() {
            let dst = (y * s + oc.lowerBound) * 3
            out.replaceSubrange(dst..<(dst + line), with: inner[(r * line)..<(r * line + line)])
        }
        return RGBImage(width: s, height: s, pixels: out)
    }

    /// The RGB colour a pad of `fill` in `mode` becomes after convert("RGB") (checked against Pillow 13:
    /// "1" stores the byte and bit2rgb makes any non-zero white; CMYK (f, f, f, f) goes through cmyk2rgb).
    static func fillRGB(mode: PixelMode, fill f: Int) throws -> (UInt8, UInt8, UInt8) {
        switch mode {
        case .palette:
            throw ImageError("image.unsupported", "this palette (P) image would be padded with palette entry \(f), and clipwb keeps no palette after decoding; use a resize mode or size that needs no padding")
        case .bilevel:
            let v: UInt8 = f != 0 ? 255 : 0
            return (v, v, v)
        case .cmyk:
            let v = Convert.toRGB([UInt8](repeating: UInt8(f), count: 4), mode: .cmyk, count: 1)
            return (v[0], v[1], v[2])
        default:
            return (UInt8(f), UInt8(f), UInt8(f))
        }
    }

    /// The resized pixels of `cols` × `rows` (resized coordinates) converted to RGB: [rows, cols, 3].
    func windowRGB(_ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>) -> [UInt8] {
        let (w, h) = (image.width, image.height)
        let n = cols.count * rows.count
        let resize = nw != w || nh != h
        let c = image.mode.bytesPerPixel
        if image.mode == .gray16 || image.mode == .gray16B {
            let wide = Self.window16(image, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter)
            return Convert.toRGB([], wide: wide, mode: image.mode, count: n)
        }
        if image.mode == .int32 {
            let wide = Self.window32(image, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter)
            return Convert.toRGB([], int32: wide, mode: .int32, count: n)
        }
        var window: [UInt8]
        if !resize {
            window = Self.copyWindow(image.pixels, width: w, channels: c, cols: cols, rows: rows)
        } else if image.mode.resizesNearest {
            window = [UInt8](repeating: 0, count: n * c)
            image.pixels.withUnsafeBufferPointer { src in
                window.withUnsafeMutableBufferPointer { dst in
                    Nearest.resize(src.baseAddress!, width: w, height: h, channels: c, newWidth: nw, newHeight: nh,
                                   cols: cols, rows: rows, into: dst.baseAddress!)
                }
            }
        } else if image.mode == .rgba || image.mode == .grayAlpha {
            var pre = image.pixels
            Convert.premultiply(&pre, channels: c)
            window = Self.resample8(pre, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter)
            Convert.unpremultiply(&window, channels: c)
        } else {
            window = Self.resample8(image.pixels, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter)
        }
        return Convert.toRGB(window, mode: image.mode, count: n)
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
                                              nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>, filter: ResampleFilter,
                                              horizontal: HorizontalPass<T>, vertical: VerticalPass<T>) -> [T] {
        let hco = nw != w ? ResampleCoefficients(inSize: w, outSize: nw, outputs: cols, filter: filter) : nil
        let vco = nh != h ? ResampleCoefficients(inSize: h, outSize: nh, outputs: rows, filter: filter) : nil
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

    static func resample8(_ px: [UInt8], width w: Int, height h: Int, channels c: Int, nw: Int, nh: Int,
                          cols: Range<Int>, rows: Range<Int>, filter: ResampleFilter) -> [UInt8] {
        resample(px, width: w, height: h, channels: c, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter,
                 horizontal: { src, stride, off, r, co, out in
                     Resample8.horizontal(src, stride: stride, colOffset: off, channels: c, rows: r, co, into: out)
                 },
                 vertical: { src, stride, len, off, co, out in
                     Resample8.vertical(src, stride: stride, rowLength: len, rowOffset: off, co, into: out)
                 })
    }

    /// The same for "I;16" (double arithmetic, ROUND_UP, CLIP16): pixel bytes read little-endian,
    /// also for "I;16B", as Pillow 13 does on little-endian hosts.
    static func window16(_ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>,
                         filter: ResampleFilter) -> [UInt16] {
        let n = image.width * image.height
        var px = [UInt16](repeating: 0, count: n)
        for i in 0..<n { px[i] = UInt16(image.pixels[2 * i]) | UInt16(image.pixels[2 * i + 1]) << 8 }
        return windowWide(px, image, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter, round: ResampleWide.round16)
    }

    /// The same for "I" (double arithmetic, ROUND_UP, no clip): Int32 pixels stored little-endian.
    static func window32(_ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>, rows: Range<Int>,
                         filter: ResampleFilter) -> [Int32] {
        let n = image.width * image.height
        var px = [Int32](repeating: 0, count: n)
        image.pixels.withUnsafeBytes { raw in
            for i in 0..<n { px[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        }
        return windowWide(px, image, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter, round: ResampleWide.round32)
    }

    static func windowWide<T: FixedWidthInteger>(_ px: [T], _ image: DecodedImage, nw: Int, nh: Int, cols: Range<Int>,
                                                 rows: Range<Int>, filter: ResampleFilter,
                                                 round: @escaping (Double) -> T) -> [T] {
        let (w, h) = (image.width, image.height)
        if nw == w && nh == h { return copyWindow(px, width: w, channels: 1, cols: cols, rows: rows) }
        return resample(px, width: w, height: h, channels: 1, nw: nw, nh: nh, cols: cols, rows: rows, filter: filter,
                        horizontal: { src, stride, off, r, co, out in
                            ResampleWide.horizontal(src, stride: stride, colOffset: off, rows: r, co, into: out, round: round)
                        },
                        vertical: { src, stride, len, off, co, out in
                            ResampleWide.vertical(src, stride: stride, rowLength: len, rowOffset: off, co, into: out, round: round)
                        })
    }
}
