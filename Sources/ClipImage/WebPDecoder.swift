// WebP → what Pillow's WebPImagePlugin opens (Pillow 13.0.0, _webp.c): frame 1 from libwebp's
// animation decoder as "RGBA" when WebPGetFeatures reports alpha, else "RGB" (rawmode "RGBX").
// convert("RGB") of the RGBA image drops alpha (no compositing), as for PNG.
import CWEBP

enum WebPDecoder {
    static let shim = Shim<cwebp_info>(format: "WebP", empty: cwebp_info(), header: cwebp_read_header, decode: cwebp_decode,
                                       size: { (Int($0.width), Int($0.height)) })

    static func size(_ b: UnsafeRawBufferPointer, source s: String?) throws -> (width: Int, height: Int) {
        shim.size(try shim.info(b, source: s))
    }

    static func decode(_ b: UnsafeRawBufferPointer, source s: String?) throws -> DecodedImage {
        let (info, rgba) = try shim.run(b, source: s) { 4 * Int($0.width) * Int($0.height) }
        let (w, h) = shim.size(info)
        if info.has_alpha != 0 { return DecodedImage(mode: .rgba, width: w, height: h, pixels: rgba) }
        var rgb = [UInt8](repeating: 0, count: 3 * w * h)
        for i in 0..<(w * h) { rgb[3 * i] = rgba[4 * i]; rgb[3 * i + 1] = rgba[4 * i + 1]; rgb[3 * i + 2] = rgba[4 * i + 2] }
        return DecodedImage(mode: .rgb, width: w, height: h, pixels: rgb)
    }
}
