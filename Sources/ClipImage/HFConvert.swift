// Hugging Face's `convert_to_rgb` (transformers 5.25.0, image_transforms.py) on a PIL image, the first
// step of `CLIPImageProcessorPil`: an image with an alpha band is converted to RGBA and composited onto
// opaque white with `Image.alpha_composite` (Pillow's AlphaComposite.c, 7-bit fixed point), then
// converted to RGB; any other image is `convert("RGB")`d. Only then is it resized, as RGB.
// (Transparency kept in `info` — PNG tRNS, GIF transparent index — is only flagged by the decoders, and
// the hf pipeline refuses those images; see docs/preprocessing.md.)

enum HFConvert {
    /// The whole image as an RGB DecodedImage, as `np.array(convert_to_rgb(image))`.
    static func toRGB(_ image: DecodedImage) -> DecodedImage {
        let n = image.width * image.height
        let px = image.pixels
        let rgb: [UInt8]
        switch image.mode {
        case .rgb:
            return image
        case .rgba:
            rgb = [UInt8](unsafeUninitializedCapacity: 3 * n) { o, filled in
                for i in 0..<n {
                    let a = Int(px[4 * i + 3])
                    for ch in 0..<3 { o[3 * i + ch] = overWhite(Int(px[4 * i + ch]), alpha: a) }
                }
                filled = 3 * n
            }
        case .grayAlpha:  // la2rgba (L replicated, alpha kept), then the composite
            rgb = [UInt8](unsafeUninitializedCapacity: 3 * n) { o, filled in
                for i in 0..<n {
                    let v = overWhite(Int(px[2 * i]), alpha: Int(px[2 * i + 1]))
                    o[3 * i] = v; o[3 * i + 1] = v; o[3 * i + 2] = v
                }
                filled = 3 * n
            }
        case .gray16, .gray16B:  // little-endian read, as ResizeCrop's window16 (convert byte-swaps I;16B)
            let wide = (0..<n).map { UInt16(px[2 * $0]) | UInt16(px[2 * $0 + 1]) << 8 }
            rgb = Convert.toRGB([], wide: wide, mode: image.mode, count: n)
        case .int32:
            let wide = px.withUnsafeBytes { raw in
                (0..<n).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
            }
            rgb = Convert.toRGB([], int32: wide, mode: .int32, count: n)
        case .bilevel, .gray, .palette, .cmyk:
            rgb = Convert.toRGB(px, mode: image.mode, count: n)
        }
        return DecodedImage(mode: .rgb, width: image.width, height: image.height, pixels: rgb)
    }

    /// ImagingAlphaComposite of one channel `c` with alpha `a` over an opaque white pixel:
    /// blend = 255·(255 − a), outa255 = 255·a + blend, coef1 = a·255·255·2⁷ / outa255 (integer),
    /// coef2 = 255·2⁷ − coef1, out = SHIFTFORDIV255(c·coef1 + 255·coef2 + (0x80 << 7)) >> 7;
    /// a = 0 copies the background.
    @inline(__always)
    static func overWhite(_ c: Int, alpha a: Int) -> UInt8 {
        if a == 0 { return 255 }
        let dstA = 255, dstC = 255
        let blend = dstA * (255 - a)
        let outa255 = a * 255 + blend
        let coef1 = a * 255 * 255 * (1 << 7) / outa255
        let coef2 = 255 * (1 << 7) - coef1
        let t = c * coef1 + dstC * coef2 + (0x80 << 7)
        return UInt8(truncatingIfNeeded: (((t >> 8) + t) >> 8) >> 7)
    }
}
