// Windows BMP → the mode and bytes Pillow's BmpImagePlugin produces (Pillow 13.0.0, BmpImageFile._bitmap):
// 1/4/8-bit palettes open as "P" — or "1"/"L" when the palette is exactly black/white or the
// identity grey ramp; 16-bit is BGR;15 (or BGR;16 by bitfields), 24-bit BGR, 32-bit BGRX (alpha
// ignored) unless BITFIELDS name an alpha mask (then "RGBA"). Rows bottom-up unless the height is negative.
// RLE8/RLE4 in BMPRLE.swift.
enum BMPDecoder {
    static let format = "BMP"

    @inline(__always) static func u16(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    @inline(__always) static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }

    struct Header {
        var width = 0, height = 0, bits = 0, compression = 0, colors = 0
        var topDown = false
        var paletteOffset = 0, palettePadding = 4, dataOffset = 0
        var masks: [Int] = []   // r, g, b, a (BITFIELDS only)
    }

    static func header(_ b: UnsafeRawBufferPointer, source s: String?) throws -> Header {
        guard b.count >= 18 else { throw ImageError.truncated(s, format, "file header cut short") }
        let offset = u32(b, 10), hsize = u32(b, 14)
        var h = Header()
        guard [12, 40, 52, 56, 64, 108, 124].contains(hsize) else {
            throw ImageError.unsupported(s, format, "BMP header type \(hsize)")
        }
        guard b.count >= 14 + hsize else { throw ImageError.truncated(s, format, "info header cut short") }
        var pos = 14 + hsize
        if hsize == 12 {
            (h.width, h.height, h.bits) = (u16(b, 18), u16(b, 20), u16(b, 24))
            h.palettePadding = 3
        } else {
            h.topDown = b[14 + 4 + 7] == 0xFF
            h.width = u32(b, 18)
            h.height = h.topDown ? (1 << 32) - u32(b, 22) : u32(b, 22)
            h.bits = u16(b, 28)
            h.compression = u32(b, 30)
            h.colors = u32(b, 46)
            if h.compression == 3 {  // BITFIELDS: in the header from v3 on, else right after it
                if hsize >= 52 {
                    h.masks = (0..<(hsize >= 56 ? 4 : 3)).map { u32(b, 54 + 4 * $0) }
                } else {
                    guard b.count >= pos + 12 else { throw ImageError.truncated(s, format, "bitfield masks cut short") }
                    h.masks = (0..<3).map { u32(b, pos + 4 * $0) }
                    pos += 12
                }
                if h.masks.count == 3 { h.masks.append(0) }
            }
        }
        guard h.width > 0, h.height > 0 else { throw ImageError.corrupt(s, format, "size \(h.width)x\(h.height)") }
        guard h.width <= ImageError.maxPixels, h.height <= ImageError.maxPixels, h.width * h.height <= ImageError.maxPixels else {
            throw ImageError.tooLarge(s, h.width, h.height)
        }
        if h.colors == 0 { h.colors = 1 << min(h.bits, 24) }
        h.paletteOffset = pos
        h.dataOffset = offset
        if offset == 14 + hsize && h.bits <= 8 { h.dataOffset += h.palettePadding * h.colors }
        if offset == 0 { h.dataOffset = pos + (h.bits <= 8 ? h.palettePadding * h.colors : 0) }
        guard [1, 4, 8, 16, 24, 32].contains(h.bits) else {
            throw ImageError.unsupported(s, format, "BMP pixel depth \(h.bits)")
        }
        switch h.compression {
        case 0: break
        case 1, 2:
            guard h.bits == (h.compression == 1 ? 8 : 4) else {
                throw ImageError.unsupported(s, format, "RLE\(h.compression == 1 ? 8 : 4) with \(h.bits)-bit pixels")
            }
        case 3:
            let m = h.masks
            let ok: Bool
            switch h.bits {
            case 32: ok = [[0xFF0000, 0xFF00, 0xFF, 0], [0xFF00_0000, 0xFF0000, 0xFF00, 0], [0xFF00_0000, 0xFF00, 0xFF, 0],
                           [0xFF00_0000, 0xFF0000, 0xFF00, 0xFF], [0xFF, 0xFF00, 0xFF0000, 0xFF00_0000],
                           [0xFF0000, 0xFF00, 0xFF, 0xFF00_0000], [0xFF00_0000, 0xFF00, 0xFF, 0xFF0000], [0, 0, 0, 0]].contains(m)
            case 24: ok = Array(m.prefix(3)) == [0xFF0000, 0xFF00, 0xFF]
            case 16: ok = Array(m.prefix(3)) == [0xF800, 0x7E0, 0x1F] || Array(m.prefix(3)) == [0x7C00, 0x3E0, 0x1F]
            default: ok = false
            }
            guard ok else { throw ImageError.unsupported(s, format, "BMP bitfields layout") }
        default:
            throw ImageError.unsupported(s, format, "BMP compression \(h.compression)")
        }
        return h
    }

    static func decode(_ b: UnsafeRawBufferPointer, source s: String?) throws -> DecodedImage {
        let h = try header(b, source: s)
        let (w, ht) = (h.width, h.height)
        let stride = ((w * h.bits + 31) >> 3) & ~3
        if h.compression == 1 || h.compression == 2 {
            let indices = try BMPRLE.decode(b, from: h.dataOffset, width: w, height: ht, rle4: h.compression == 2, source: s)
            // rows as stored: bottom-up unless top-down
            let rows = h.topDown ? indices : (0..<ht).reversed().flatMap { indices[($0 * w)..<($0 * w + w)] }
            return try palette(b, h, indices: rows, source: s)
        }
        // The last row read needs its pixels, not its padding (Pillow's raw decoder).
        guard h.dataOffset <= b.count, b.count - h.dataOffset >= stride * (ht - 1) + (w * h.bits + 7) / 8 else {
            throw ImageError.truncated(s, format, "image file is truncated")
        }
        /// File row of image row y.
        func row(_ y: Int) -> Int { h.dataOffset + (h.topDown ? y : ht - 1 - y) * stride }
        if h.bits <= 8 {  // "P;1", "P;4", "P"
            var indices = [UInt8](repeating: 0, count: w * ht)
            let perByte = 8 / h.bits, mask = (1 << h.bits) - 1
            for y in 0..<ht {
                let r = row(y)
                for x in 0..<w {
                    indices[y * w + x] = UInt8(Int(b[r + x / perByte]) >> ((perByte - 1 - x % perByte) * h.bits) & mask)
                }
            }
            return try palette(b, h, indices: indices, source: s)
        }
        let n = w * ht
        var mode = PixelMode.rgb
        // byte index of R, G, B (and A) inside a 32-bit pixel
        var idx = [2, 1, 0, -1]
        if h.bits == 32, h.compression == 3 {
            idx = h.masks == [0, 0, 0, 0] ? [2, 1, 0, 3] : h.masks.map { $0 == 0 ? -1 : $0.trailingZeroBitCount / 8 }
            if idx[3] >= 0 { mode = .rgba }
        }
        let c = mode.bytesPerPixel
        var out = [UInt8](repeating: 0, count: n * c)
        let is565 = h.bits == 16 && h.compression == 3 && h.masks[0] == 0xF800
        for y in 0..<ht {
            let r = row(y)
            for x in 0..<w {
                let o = (y * w + x) * c
                switch h.bits {
                case 16:  // ImagingUnpackBGR15 / BGR16: v · 255 / 31 (or 63), integer division
                    let p = u16(b, r + 2 * x)
                    out[o + 2] = UInt8((p & 31) * 255 / 31)
                    if is565 {
                        out[o + 1] = UInt8((p >> 5 & 63) * 255 / 63); out[o] = UInt8((p >> 11 & 31) * 255 / 31)
                    } else {
                        out[o + 1] = UInt8((p >> 5 & 31) * 255 / 31); out[o] = UInt8((p >> 10 & 31) * 255 / 31)
                    }
                case 24:
                    out[o] = b[r + 3 * x + 2]; out[o + 1] = b[r + 3 * x + 1]; out[o + 2] = b[r + 3 * x]
                default:
                    for ch in 0..<c { out[o + ch] = b[r + 4 * x + idx[ch]] }
                }
            }
        }
        return DecodedImage(mode: mode, width: w, height: ht, pixels: out)
    }

    /// 1/4/8-bit indices (top row first), then Pillow's grey-palette shortcut or the lookup.
    static func palette(_ b: UnsafeRawBufferPointer, _ h: Header, indices: [UInt8], source s: String?) throws -> DecodedImage {
        let (w, ht) = (h.width, h.height)
        let pad = h.palettePadding
        guard h.colors > 0, h.colors <= 65536 else { throw ImageError.unsupported(s, format, "BMP palette size \(h.colors)") }
        let available = max(0, min(pad * h.colors, b.count - h.paletteOffset))
        let pal = UnsafeRawBufferPointer(rebasing: b[h.paletteOffset..<(h.paletteOffset + available)])
        let ramp = h.colors == 2 ? [0, 255] : Array(0..<h.colors)
        let grey = ramp.enumerated().allSatisfy { i, v in
            i * pad + 3 <= pal.count && (0..<3).allSatisfy { pal[i * pad + $0] == UInt8(v & 0xFF) }
        }
        if grey {
            // Pillow then reads the rows with rawmode "1" or "L" whatever the depth; only the
            // depths where that is what the file means are accepted.
            let rle = h.compression == 1 || h.compression == 2
            // (RLE hands "1" images its indices as rawmode "L": every non-zero index is white.)
            if h.colors <= 2, h.bits == 1 || rle {
                return DecodedImage(mode: .bilevel, width: w, height: ht, pixels: indices.map { $0 != 0 ? 255 : 0 })
            }
            if h.colors > 2, h.bits == 8 || rle { return DecodedImage(mode: .gray, width: w, height: ht, pixels: indices) }
            throw ImageError.unsupported(s, format, "\(h.bits)-bit\(rle ? " RLE" : "") BMP with a \(h.colors)-entry grey palette (Pillow misreads it)")
        }
        let entries = available * 8 / (pad * 8)
        guard entries <= 256 else { throw ImageError.corrupt(s, format, "wrong palette size (\(h.colors) entries)") }
        var table = [UInt8](repeating: 0, count: 768)  // entries past the palette are black
        for i in 0..<entries { for ch in 0..<3 { table[3 * i + ch] = pal[i * pad + 2 - ch] } }
        var out = [UInt8](repeating: 0, count: 3 * w * ht)
        for (i, v) in indices.enumerated() {
            let j = 3 * Int(v)
            out[3 * i] = table[j]; out[3 * i + 1] = table[j + 1]; out[3 * i + 2] = table[j + 2]
        }
        return DecodedImage(mode: .palette, width: w, height: ht, pixels: out)
    }
}
