// GIF → frame 0 as Pillow's GifImagePlugin opens it (Pillow 13.0.0, default LOADING_STRATEGY
// RGB_AFTER_FIRST): "P" with the frame's palette (local, else global), or "L" when there is no
// palette or it is the identity ramp (entry i = (i, i, i) for every entry: _is_palette_needed).
// The canvas is the logical screen grown to hold the frame; pixels outside the frame hold the
// transparent index if the frame has one, else 0. convert("RGB") drops transparency, so a
// transparent pixel gets its palette entry's colour (or the index as grey in "L").
import CGIF

enum GIFDecoder {
    static let shim = Shim<cgif_info>(format: "GIF", empty: cgif_info(), header: cgif_read_header, decode: cgif_decode,
                                      size: { (Int($0.width), Int($0.height)) })

    static func size(_ b: UnsafeRawBufferPointer, source s: String?) throws -> (width: Int, height: Int) {
        shim.size(try shim.info(b, source: s))
    }

    static func decode(_ b: UnsafeRawBufferPointer, source s: String?) throws -> DecodedImage {
        let (info, indices) = try shim.run(b, source: s) { Int($0.width) * Int($0.height) }
        let (w, h) = shim.size(info)
        var table = [UInt8](repeating: 0, count: 768)  // Pillow's palette: entries past the map are black
        withUnsafeBytes(of: info.palette) { p in for i in 0..<(3 * Int(info.palette_count)) { table[i] = p[i] } }
        let n = Int(info.palette_count)
        let identity = (0..<n).allSatisfy { i in (0..<3).allSatisfy { table[3 * i + $0] == UInt8(i) } }
        if n == 0 || identity {
            var image = DecodedImage(mode: .gray, width: w, height: h, pixels: indices)
            image.transparencyInInfo = info.transparency >= 0
            return image
        }
        var out = [UInt8](repeating: 0, count: 3 * w * h)
        for (i, v) in indices.enumerated() {
            let j = 3 * Int(v)
            out[3 * i] = table[j]; out[3 * i + 1] = table[j + 1]; out[3 * i + 2] = table[j + 2]
        }
        var image = DecodedImage(mode: .palette, width: w, height: h, pixels: out)
        image.transparencyInInfo = info.transparency >= 0  // Pillow's info["transparency"]
        return image
    }
}
