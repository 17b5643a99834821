// Raw PNG samples → the mode and bytes Pillow's PngImagePlugin produces (its _MODES table and
// Unpack.c): 16-bit colour keeps each sample's high byte, 16-bit gray stays 16-bit ("I;16"),
// 16-bit gray+alpha opens as RGBA, 2/4-bit gray is scaled (×0x55, ×0x11), 1-bit gray is "1".
import CPNG

enum PNGSamples {
    static func image(raw: [UInt8], info: cpng_info, source: String?) throws -> DecodedImage {
        let (w, h) = (Int(info.width), Int(info.height))
        let n = w * h
        let depth = Int(info.bit_depth)
        switch (Int(info.color_type), depth) {
        case (0, 1):
            return DecodedImage(mode: .bilevel, width: w, height: h, pixels: raw.map { $0 != 0 ? 255 : 0 })
        case (0, 2), (0, 4), (0, 8):
            let scale: UInt8 = depth == 2 ? 0x55 : (depth == 4 ? 0x11 : 1)
            return DecodedImage(mode: .gray, width: w, height: h, pixels: scale == 1 ? raw : raw.map { $0 &* scale })
        case (0, 16):  // I;16B → I;16: big-endian samples to little-endian storage
            var px = [UInt8](repeating: 0, count: 2 * n)
            for i in 0..<n { px[2 * i] = raw[2 * i + 1]; px[2 * i + 1] = raw[2 * i] }
            return DecodedImage(mode: .gray16, width: w, height: h, pixels: px)
        case (2, 8), (4, 8), (6, 8):
            let mode: PixelMode = info.color_type == 2 ? .rgb : (info.color_type == 4 ? .grayAlpha : .rgba)
            return DecodedImage(mode: mode, width: w, height: h, pixels: raw)
        case (2, 16), (6, 16):  // RGB;16B / RGBA;16B: high bytes
            let c = info.color_type == 2 ? 3 : 4
            var px = [UInt8](repeating: 0, count: c * n)
            for i in 0..<(c * n) { px[i] = raw[2 * i] }
            return DecodedImage(mode: c == 3 ? .rgb : .rgba, width: w, height: h, pixels: px)
        case (4, 16):  // LA;16B → RGBA (gray high byte ×3, alpha high byte)
            var px = [UInt8](repeating: 0, count: 4 * n)
            for i in 0..<n {
                let g = raw[4 * i], a = raw[4 * i + 2]
                px[4 * i] = g; px[4 * i + 1] = g; px[4 * i + 2] = g; px[4 * i + 3] = a
            }
            return DecodedImage(mode: .rgba, width: w, height: h, pixels: px)
        case (3, 1), (3, 2), (3, 4), (3, 8):
            return DecodedImage(mode: .palette, width: w, height: h, pixels: lookUp(raw, info))
        default:
            throw ImageError.unsupported(source, "PNG", "colour type \(info.color_type) with bit depth \(depth)")
        }
    }

    /// convert("RGB") of a "P" image (Convert.c p2rgb). Entries past the PLTE are black, as in
    /// Pillow's zero-initialised palette.
    static func lookUp(_ indices: [UInt8], _ info: cpng_info) -> [UInt8] {
        var table = [UInt8](repeating: 0, count: 768)
        withUnsafeBytes(of: info.palette) { p in
            for i in 0..<(3 * Int(info.palette_count)) { table[i] = p[i] }
        }
        var out = [UInt8](repeating: 0, count: indices.count * 3)
        for (i, v) in indices.enumerated() {
            let j = Int(v) * 3
            out[3 * i] = table[j]; out[3 * i + 1] = table[j + 1]; out[3 * i + 2] = table[j + 2]
        }
        return out
    }
}
