// TIFF → the first directory as Pillow's TiffImagePlugin opens it (Pillow 13.0.0, its OPEN_INFO
// table and Unpack.c): bilevel "1" (MinIsWhite inverted), 2/4/8-bit grey "L" (scaled ×0x55/×0x11,
// inverted for MinIsWhite), 16-bit grey "I;16" (big-endian files "I;16B"), signed 16-bit and 32-bit integer grey "I",
// "LA" (or "L" when the extra sample is unspecified), 8/16-bit "RGB"/"RGBA" (16-bit keeps each
// sample's high byte; associated alpha is un-premultiplied as unpackRGBa/unpackRGBa16), palettes "P" (colormap
// entries // 256), "CMYK", and JPEG-compressed YCbCr converted to RGB by libjpeg (JPEGCOLORMODE).
// The EXIF orientation tag is applied afterwards, as Pillow's load_end (exif_transpose) does.
import CTIFF

enum TIFFDecoder {
    static let format = "TIFF"
    static let shim = Shim<ctiff_info>(format: format, empty: ctiff_info(), header: ctiff_read_header, decode: ctiff_decode,
                                       size: { (Int($0.width), Int($0.height)) })

    static func size(_ b: UnsafeRawBufferPointer, source s: String?) throws -> (width: Int, height: Int) {
        let info = try shim.info(b, source: s)
        let (w, h) = shim.size(info)
        return info.orientation >= 5 && info.orientation <= 8 ? (h, w) : (w, h)
    }

    static func decode(_ b: UnsafeRawBufferPointer, source s: String?) throws -> DecodedImage {
        let layout = try Layout(try shim.info(b, source: s), source: s)
        let (info, raw) = try shim.run(b, source: s) { ctiff_row_bytes(&$0) * Int($0.height) }
        return Orientation.apply(Int(info.orientation), to: layout.unpack(raw, info))
    }

    /// Which Pillow mode and unpacker a directory's tags select (OPEN_INFO), or why none does.
    struct Layout {
        enum Unpack { case bits(invert: Bool, bilevel: Bool), gray8(invert: Bool), drop(keep: Int), gray16, gray16B, int16, int32,
                      high16(keep: Int), premultiplied(wide: Bool), palette }
        let mode: PixelMode
        let unpack: Unpack

        init(_ i: ctiff_info, source s: String?) throws {
            let (pm, bps, sf) = (Int(i.photometric), Int(i.bits_per_sample), Int(i.sample_format))
            var spp = Int(i.samples_per_pixel)
            var extra = i.extra_count > 0 ? Int(i.extra_first) : -1
            // _setup: separate planes whose extra samples are unspecified drop those planes
            if i.dropped_planes > 0 {
                guard bps == 8 else { throw no("separate \(bps)-bit planes with unspecified extra samples") }
                spp -= Int(i.dropped_planes)
                extra = -1
            }
            func no(_ what: String) -> ImageError { ImageError.unsupported(s, format, what) }
            switch (pm, spp) {
            case (0, 1), (1, 1):
                switch (bps, sf) {
                case (1, 1): (mode, unpack) = (.bilevel, .bits(invert: pm == 0, bilevel: true))
                case (2, 1), (4, 1): (mode, unpack) = (.gray, .bits(invert: pm == 0, bilevel: false))
                case (8, 1): (mode, unpack) = (.gray, .gray8(invert: pm == 0))
                case (8, 2) where pm == 1: (mode, unpack) = (.gray, .gray8(invert: false))
                case (16, 1) where i.big_endian == 0: (mode, unpack) = (.gray16, .gray16)
                case (16, 1) where pm == 1: (mode, unpack) = (.gray16B, .gray16B)
                case (16, 2) where pm == 1: (mode, unpack) = (.int32, .int16)
                case (32, 1) where pm == 1 && i.big_endian == 0: (mode, unpack) = (.int32, .int32)
                case (32, 2) where pm == 1: (mode, unpack) = (.int32, .int32)
                case (_, 3): throw no("\(bps)-bit floating-point samples (Pillow mode F)")
                default: throw no("\(bps)-bit grey samples (sample format \(sf), photometric \(pm))")
                }
            case (1, 2) where bps == 8 && sf == 1 && (extra == 0 || extra == 2):
                (mode, unpack) = extra == 0 ? (.gray, .drop(keep: 1)) : (.grayAlpha, .drop(keep: 2))
            case (2, 3...6) where sf == 1 && (bps == 8 || bps == 16):
                if spp == 3 || extra == 0 {
                    (mode, unpack) = (.rgb, bps == 8 ? .drop(keep: 3) : .high16(keep: 3))
                } else if extra == 2 || (extra == -1 && spp == 4) || (extra == 999 && spp == 4) {
                    (mode, unpack) = (.rgba, bps == 8 ? .drop(keep: 4) : .high16(keep: 4))
                } else if extra == 1 {
                    (mode, unpack) = (.rgba, .premultiplied(wide: bps == 16))
                } else {
                    throw no("\(bps)-bit RGB with \(spp) samples and extra sample type \(extra)")
                }
            case (3, 1) where [1, 2, 4, 8].contains(bps) && i.palette_count > 0:
                (mode, unpack) = (.palette, .palette)
            case (5, 4) where sf == 1 && (bps == 8 || bps == 16) && i.extra_count == 0:
                (mode, unpack) = (.cmyk, bps == 8 ? .drop(keep: 4) : .high16(keep: 4))
            case (6, _): throw no("YCbCr that is not JPEG-compressed")
            default: throw no("photometric \(pm) with \(spp) samples of \(bps) bits")
            }
        }

        /// Raw contiguous rows (ctiff_row_bytes each, host byte order) → Pillow's pixel bytes.
        func unpack(_ raw: [UInt8], _ i: ctiff_info) -> DecodedImage {
            let (w, h) = (Int(i.width), Int(i.height))
            let n = w * h
            let spp = Int(i.samples_per_pixel), bps = Int(i.bits_per_sample)
            let rowBytes = (w * spp * bps + 7) / 8
            var out = [UInt8](repeating: 0, count: n * mode.bytesPerPixel)
            switch unpack {
            case .bits(let invert, let bilevel):  // "1", "1;I", "L;2", "L;2I", "L;4", "L;4I"
                let scale = bps == 1 ? 255 : (bps == 2 ? 0x55 : 0x11), mask = (1 << bps) - 1
                for y in 0..<h {
                    for x in 0..<w {
                        let bit = x * bps
                        let v = (Int(raw[y * rowBytes + bit / 8]) >> (8 - bps - bit % 8)) & mask
                        let g = bilevel ? (v != 0 ? 255 : 0) : v * scale
                        out[y * w + x] = UInt8(invert ? 255 - g : g)
                    }
                }
            case .gray8(let invert):  // the first sample of each pixel (planes dropped above are skipped)
                for k in 0..<n { out[k] = invert ? ~raw[k * spp] : raw[k * spp] }
            case .drop(let keep):  // "LX", "RGBX", "RGBXX"…: the first `keep` samples of each pixel
                for k in 0..<n { for c in 0..<keep { out[k * keep + c] = raw[k * spp + c] } }
            case .high16(let keep):  // "RGB;16N", "RGBA;16N", "CMYK;16N": the high byte of each sample
                for k in 0..<n { for c in 0..<keep { out[k * keep + c] = raw[2 * (k * spp + c) + 1] } }
            case .gray16:  // "I;16N": host (little-endian) order is Pillow's I;16 layout
                for k in 0..<(2 * n) { out[k] = raw[k] }
            case .gray16B:  // "I;16B": Pillow keeps the file's big-endian bytes
                for k in 0..<n { out[2 * k] = raw[2 * k + 1]; out[2 * k + 1] = raw[2 * k] }
            case .int16:  // "I;16S" → "I": sign-extended to Int32, little-endian
                for k in 0..<n {
                    let v = Int32(Int16(bitPattern: UInt16(raw[2 * k]) | UInt16(raw[2 * k + 1]) << 8))
                    withUnsafeBytes(of: v.littleEndian) { for c in 0..<4 { out[4 * k + c] = $0[c] } }
                }
            case .int32:
                for k in 0..<(4 * n) { out[k] = raw[k] }
            case .premultiplied(let wide):  // unpackRGBa(16N): high bytes; a = 0 → all 0; a = 255 → as is; else CLIP8(v · 255 / a)
                func sample(_ k: Int, _ c: Int) -> Int { wide ? Int(raw[2 * (k * spp + c) + 1]) : Int(raw[k * spp + c]) }
                for k in 0..<n {
                    let a = sample(k, 3)
                    out[4 * k + 3] = UInt8(a)
                    guard a != 0 else { continue }
                    for c in 0..<3 {
                        let v = sample(k, c)
                        out[4 * k + c] = a == 255 ? UInt8(v) : clipByte(v * 255 / a)
                    }
                }
            case .palette:  // "P;1"… then the colormap, 16-bit entries // 256; entries past it black
                let count = Int(i.palette_count)
                var table = [UInt8](repeating: 0, count: 768)
                withUnsafeBytes(of: i.colormap) { cm in
                    let map = cm.bindMemory(to: UInt16.self)
                    for e in 0..<min(count, 256) { for c in 0..<3 { table[3 * e + c] = UInt8(map[c * count + e] >> 8) } }
                }
                let mask = (1 << bps) - 1
                for y in 0..<h {
                    for x in 0..<w {
                        let bit = x * bps
                        let v = (Int(raw[y * rowBytes + bit / 8]) >> (8 - bps - bit % 8)) & mask
                        for c in 0..<3 { out[3 * (y * w + x) + c] = table[3 * v + c] }
                    }
                }
            }
            return DecodedImage(mode: mode, width: w, height: h, pixels: out)
        }
    }
}

/// ImageOps.exif_transpose's methods for EXIF orientations 2…8 (Image.transpose), on any mode.
enum Orientation {
    static func apply(_ o: Int, to im: DecodedImage) -> DecodedImage {
        guard (2...8).contains(o) else { return im }
        let (w, h, c) = (im.width, im.height, im.mode.bytesPerPixel)
        let swap = o >= 5
        let (nw, nh) = swap ? (h, w) : (w, h)
        var out = [UInt8](repeating: 0, count: im.pixels.count)
        for y in 0..<nh {
            for x in 0..<nw {
                // (sx, sy): the source pixel shown at (x, y)
                let (sx, sy): (Int, Int)
                switch o {
                case 2: (sx, sy) = (w - 1 - x, y)            // FLIP_LEFT_RIGHT
                case 3: (sx, sy) = (w - 1 - x, h - 1 - y)    // ROTATE_180
                case 4: (sx, sy) = (x, h - 1 - y)            // FLIP_TOP_BOTTOM
                case 5: (sx, sy) = (y, x)                    // TRANSPOSE
                case 6: (sx, sy) = (y, h - 1 - x)            // ROTATE_270
                case 7: (sx, sy) = (w - 1 - y, h - 1 - x)    // TRANSVERSE
                default: (sx, sy) = (w - 1 - y, x)           // 8: ROTATE_90
                }
                let d = (y * nw + x) * c, src = (sy * w + sx) * c
                for k in 0..<c { out[d + k] = im.pixels[src + k] }
            }
        }
        return DecodedImage(mode: im.mode, width: nw, height: nh, pixels: out)
    }
}
