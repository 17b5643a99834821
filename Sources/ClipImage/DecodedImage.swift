// A decoded image in the PIL mode Pillow would open it in. Preprocessing depends on the mode
// (which resampler, premultiplied alpha or not, how it becomes RGB), so the mode is kept.

/// Pillow's image modes for the files clipwb reads (JPEG, PNG, GIF, BMP, TIFF, WebP, PPM).
public enum PixelMode: String, Sendable, CaseIterable {
    /// "1": 1-bit PNG; stored one byte per pixel, 0 or 255. Resized with NEAREST.
    case bilevel = "1"
    /// "L": 8-bit gray (JPEG, PNG gray 2/4/8-bit scaled to 0…255 as Pillow's L;2/L;4 unpackers).
    case gray = "L"
    /// "LA": gray + alpha, two bytes per pixel.
    case grayAlpha = "LA"
    /// "I;16": 16-bit gray PNG, two bytes per pixel, little-endian (Pillow's in-memory layout).
    case gray16 = "I;16"
    /// "I;16B": 16-bit gray stored big-endian (big-endian 16-bit TIFF). Pillow 13's resize reads
    /// these bytes as little-endian on little-endian hosts (Resample.c only honours I;16B under
    /// WORDS_BIGENDIAN) while convert("RGB") reads them big-endian; both are reproduced.
    case gray16B = "I;16B"
    /// "I": 32-bit signed gray (PGM with maxval > 255), four bytes per pixel, little-endian.
    case int32 = "I"
    /// "P": palette image (PNG, GIF, BMP, TIFF), stored already looked up as RGB (NEAREST resampling commutes with the lookup).
    case palette = "P"
    /// "RGB": three bytes per pixel (16-bit PNGs keep each sample's high byte, as Pillow).
    case rgb = "RGB"
    /// "RGBA": four bytes per pixel (also 16-bit gray+alpha PNGs, as Pillow opens them).
    case rgba = "RGBA"
    /// "CMYK": four bytes per pixel, Adobe inversion already undone (Pillow's "CMYK;I").
    case cmyk = "CMYK"

    /// Bytes per pixel in `DecodedImage.pixels`.
    public var bytesPerPixel: Int {
        switch self {
        case .bilevel, .gray: 1
        case .grayAlpha, .gray16, .gray16B: 2
        case .palette, .rgb: 3
        case .rgba, .cmyk, .int32: 4
        }
    }

    /// Pillow's Image.resize forces NEAREST for modes "1" and "P".
    var resizesNearest: Bool { self == .bilevel || self == .palette }
}

/// Pixels row-major, top row first, channels interleaved (`mode.bytesPerPixel` bytes per pixel).
public struct DecodedImage: Sendable, Equatable {
    public let mode: PixelMode
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]
    /// Pillow keeps a transparency outside the bands in `info["transparency"]` (PNG tRNS on gray, RGB and
    /// palette images; a GIF's transparent index). convert("RGB") ignores it; HF's convert_to_rgb composites it
    /// onto white, which clipwb does not reproduce, so the hf pipeline refuses such images.
    public var transparencyInInfo = false

    public init(mode: PixelMode, width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * mode.bytesPerPixel, "pixel buffer does not match the size")
        self.mode = mode
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// An 8-bit RGB image (the uint8 stage after resize, crop and convert("RGB")).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// width·height·3 bytes, HWC.
    public var pixels: [UInt8]
}
