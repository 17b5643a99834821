// GIF, BMP, TIFF, WebP and PPM: sniffing, refusals that name the format, and every bad input
// (cut short, bad header, a huge declared size) an ImageError, never a crash. The 8×8 files come
// from notebooks-export/format_images.py (tiny_fixtures); pixels are compared with Pillow by
// Tests/interop/test_preprocess.py.
import Testing
@testable import ClipImage

@Suite struct FormatErrorTests {
    static let files = ["format-8x8.gif", "format-8x8-lossless.webp", "format-8x8-lossy.webp", "format-8x8.tif",
                        "format-8x8-lzw.tif", "format-8x8.bmp", "format-8x8.ppm"]

    @Test(arguments: files) func tinyFilesDecode(_ name: String) throws {
        let image = try ImageDecoder.decode(bytes: try fixtureBytes(name))
        #expect(image.width == 8 && image.height == 8)
        let expected: PixelMode = name.hasSuffix(".gif") ? .palette : .rgb
        #expect(image.mode == expected)
        let size = try fixtureBytes(name).withUnsafeBytes { try ImageDecoder.size(bytes: $0) }
        #expect(size == (8, 8))
    }

    @Test(arguments: files) func everyCutIsAnErrorNotACrash(_ name: String) throws {
        let b = try fixtureBytes(name)
        let format = try #require(ImageDecoder.format(of: b))
        let magic = try #require((1...b.count).first { ImageDecoder.format(of: b.prefix($0)) != nil })
        for n in magic..<b.count {
            do {
                _ = try ImageDecoder.decode(bytes: Array(b.prefix(n)), source: "cut")
            } catch let e as ImageError {
                #expect(["image.truncated", "image.corrupt"].contains(e.code), "\(name) cut at \(n): \(e.message)")
                #expect(e.message.contains(format.name), "\(name) cut at \(n): \(e.message)")
            }
            // Some cuts still decode (GIF data after the last row, TIFF tags after the strips), as in Pillow.
        }
    }

    @Test func sniffing() {
        let cases: [([UInt8], ImageDecoder.Format?)] = [
            (Array("GIF89a".utf8), .gif), (Array("GIF87a".utf8), .gif), (Array("BM".utf8), .bmp),
            ([0x49, 0x49, 0x2A, 0], .tiff), ([0x4D, 0x4D, 0, 0x2A], .tiff), (Array("RIFF\0\0\0\0WEBPVP8 ".utf8), .webp),
            (Array("P6\n".utf8), .ppm), (Array("P1 ".utf8), .ppm), (Array("P7\n".utf8), nil), (Array("Pizza".utf8), nil),
            (Array("RIFF\0\0\0\0WAVE".utf8), nil),
        ]
        for (bytes, f) in cases { #expect(ImageDecoder.format(of: bytes) == f, "\(bytes)") }
    }

    @Test func recognisedButUnsupportedFormatsAreNamed() {
        let cases: [([UInt8], String)] = [
            ([0, 0, 0, 0x1C] + Array("ftypavif".utf8) + [0, 0, 0, 0], "is an AVIF file"),
            ([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0], "is a HEIC file"),
            ([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A], "is a JPEG 2000 file"),
            ([0, 0, 1, 0, 1, 0, 16, 16, 0, 0], "is an ICO file"),
            (Array("8BPS\0\u{1}".utf8), "is a PSD file"),
            (Array("Pf\n8 8\n-1\n".utf8), "is a PFM file"),
        ]
        for (bytes, needle) in cases {
            expectError(bytes, code: "image.unknown-format", needle)
            expectError(bytes, code: "image.unknown-format", "clipwb decodes JPEG, PNG, GIF, BMP, TIFF, WebP and PPM")
        }
        expectError(Array("plain text\n".utf8), code: "image.unknown-format", "not an image format clipwb reads")
    }

    // MARK: PPM

    @Test func ppmHeaders() {
        expectError(Array("P6\n8 8\n255\n".utf8) + [UInt8](repeating: 1, count: 100), code: "image.truncated", "truncated PPM")
        expectError(Array("P5\n8".utf8), code: "image.truncated", "reached EOF while reading header")
        expectError(Array("P5\n8 x8 255\n".utf8), code: "image.corrupt", "is not a number")
        expectError(Array("P5\n8 8 0\n".utf8) + [0], code: "image.corrupt", "maxval must be greater than 0")
        expectError(Array("P5\n8 8 65536\n".utf8) + [0], code: "image.corrupt", "less than 65536")
        expectError(Array("P5\n0 8 255\n".utf8), code: "image.corrupt", "size 0x8")
        expectError(Array("P5\n12345678901 8 255\n".utf8), code: "image.corrupt", "token too long")
        expectError(Array("P2\n2 1 9\n3 10\n".utf8), code: "image.corrupt", "channel value too large")
        expectError(Array("P1\n2 1\n0 2\n".utf8), code: "image.corrupt", "invalid token")
        expectError(Array("P2\n2 2 9\n3 4 5\n".utf8), code: "image.truncated", "not enough image data")
    }

    @Test func ppmHugeSizeIsRefusedFromTheHeader() {
        expectError(Array("P6\n10000 5001\n255\n".utf8), code: "image.too-large", "10000x5001")
        expectError(Array("P4 99999999 99999999\n".utf8), code: "image.too-large", "99999999x99999999")
    }

    @Test func ppmSamples() throws {
        // 16-bit PGM opens as "I"; other maxvals are rescaled with round-half-even (Pillow's round()).
        let i = try ImageDecoder.decode(bytes: Array("P5 1 1 65535\n".utf8) + [0x12, 0x34])
        #expect(i.mode == .int32 && i.pixels == [0x34, 0x12, 0, 0])
        let l = try ImageDecoder.decode(bytes: Array("P2 3 1 2\n0 1 2\n".utf8))
        #expect(l.mode == .gray && l.pixels == [0, 128, 255])  // 127.5 → 128
        let b = try ImageDecoder.decode(bytes: Array("P1 3 1\n0#c\n1 0\n".utf8))
        #expect(b.mode == .bilevel && b.pixels == [255, 0, 255])
    }

    // MARK: BMP

    @Test func bmpHeaders() throws {
        let good = try fixtureBytes("format-8x8.bmp")
        expectError(Array(good.prefix(10)), code: "image.truncated", "file header cut short")
        expectError(Array(good.prefix(30)), code: "image.truncated", "info header cut short")
        expectError(Array(good.prefix(good.count - 5)), code: "image.truncated", "image file is truncated")
        var odd = good
        odd[14] = 20  // a header size Pillow does not know
        expectError(odd, code: "image.unsupported", "BMP header type 20")
        var rle = good
        rle[30] = 1
        expectError(rle, code: "image.unsupported", "RLE8 with 24-bit pixels")
        var depth = good
        depth[28] = 2
        expectError(depth, code: "image.unsupported", "BMP pixel depth 2")
        var jpeg = good
        jpeg[30] = 4
        expectError(jpeg, code: "image.unsupported", "BMP compression 4")
    }

    @Test func bmpHugeSizeIsRefusedFromTheHeader() throws {
        var b = try fixtureBytes("format-8x8.bmp")
        b.replaceSubrange(18..<26, with: [0x10, 0x27, 0, 0, 0x89, 0x13, 0, 0])  // 10000 × 5001
        expectError(Array(b.prefix(60)), code: "image.too-large", "10000x5001")
        b.replaceSubrange(18..<26, with: [0xFF, 0xFF, 0xFF, 0x7F, 1, 0, 0, 0])
        expectError(b, code: "image.too-large", "2147483647x1")
    }

    @Test func bmpRLE() throws {
        // 4×2 RLE8, bottom row first: a run of three 1s + one 2, end of line; absolute 3 4 5 + pad, a 6, end of bitmap.
        var pal: [UInt8] = []
        for i in 0..<7 { pal += [UInt8(10 * i), UInt8(20 * i), UInt8(30 * i), 0] }  // B, G, R, 0
        let data: [UInt8] = [3, 1, 1, 2, 0, 0, 0, 3, 3, 4, 5, 0, 1, 6, 0, 1]
        func bmp(_ d: [UInt8]) -> [UInt8] {
            var info: [UInt8] = [40, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 8, 0, 1, 0, 0, 0]
            info += [UInt8](repeating: 0, count: 12) + [7, 0, 0, 0, 0, 0, 0, 0]
            let offset = 14 + 40 + pal.count
            let size = offset + d.count
            var file: [UInt8] = Array("BM".utf8)
            file += [UInt8(size & 0xFF), UInt8(size >> 8), 0, 0, 0, 0, 0, 0, UInt8(offset), 0, 0, 0]
            file += info
            file += pal
            return file + d
        }
        let image = try ImageDecoder.decode(bytes: bmp(data))
        #expect(image.mode == .palette && image.width == 4 && image.height == 2)
        let idx = stride(from: 0, to: image.pixels.count, by: 3).map { Int(image.pixels[$0]) / 30 }  // R = 30·index
        #expect(idx == [3, 4, 5, 6, 1, 1, 1, 2])  // top row is the second in the file
        expectError(bmp(Array(data.prefix(6))), code: "image.truncated", "RLE data gives 4 of 8 pixels")
        expectError(bmp([0, 1]), code: "image.truncated", "RLE data gives 0 of 8 pixels")  // end of bitmap at once
    }

    // MARK: GIF, WebP, TIFF

    @Test func gifHeaders() throws {
        var g = try fixtureBytes("format-8x8.gif")
        g.replaceSubrange(6..<10, with: [0x60, 0xEA, 0x60, 0xEA])  // screen 60000 × 60000
        expectError(g, code: "image.too-large", "60000x60000")
        expectError(Array("GIF89a".utf8) + [8, 0, 8, 0, 0, 0, 0, 0x3B], code: "image.corrupt", "image not found")
    }

    @Test func webpHeaders() throws {
        // A VP8X header declaring a 16384 × 16384 canvas, nothing else.
        var v: [UInt8] = Array("RIFF".utf8) + [0xE8, 3, 0, 0]  // RIFF size 1000: the frames would follow
            + Array("WEBPVP8X".utf8) + [10, 0, 0, 0, 0, 0, 0, 0]
        v += [0xFF, 0x3F, 0, 0xFF, 0x3F, 0]
        expectError(v, code: "image.too-large", "16384x16384")
        var w = try fixtureBytes("format-8x8-lossy.webp")
        for i in 30..<w.count { w[i] ^= 0x5A }
        #expect(throws: ImageError.self) { try ImageDecoder.decode(bytes: w) }
        expectError(Array("RIFF\u{4}\0\0\0WEBP".utf8), code: "image.corrupt", "corrupt WebP")
    }

    @Test func tiffHeaders() throws {
        // II*\0, one IFD: width 100000, height 100000, 8-bit grey, one (absent) strip.
        func tiff(_ entries: [(UInt16, UInt16, UInt32)]) -> [UInt8] {
            var b: [UInt8] = [0x49, 0x49, 0x2A, 0, 8, 0, 0, 0]
            b += [UInt8(entries.count), 0]
            for (tag, type, value) in entries {
                b += [UInt8(tag & 0xFF), UInt8(tag >> 8), UInt8(type), 0, 1, 0, 0, 0]
                b += withUnsafeBytes(of: value.littleEndian, Array.init)
            }
            return b + [0, 0, 0, 0]
        }
        let huge = tiff([(256, 4, 100_000), (257, 4, 100_000), (258, 3, 8), (262, 3, 1), (273, 4, 200), (279, 4, 10)])
        expectError(huge, code: "image.too-large", "100000x100000")
        let float = tiff([(256, 4, 2), (257, 4, 2), (258, 3, 32), (262, 3, 1), (273, 4, 200), (279, 4, 16), (339, 3, 3)])
        expectError(float, code: "image.unsupported", "floating-point")
        let lab = tiff([(256, 4, 2), (257, 4, 2), (258, 3, 8), (262, 3, 8), (273, 4, 200), (277, 3, 3), (279, 4, 12)])
        expectError(lab, code: "image.unsupported", "photometric 8")
        let stripPastTheEnd = tiff([(256, 4, 2), (257, 4, 2), (258, 3, 8), (262, 3, 1), (273, 4, 5000), (279, 4, 4)])
        #expect(throws: ImageError.self) { try ImageDecoder.decode(bytes: stripPastTheEnd) }
        expectError([0x49, 0x49, 0x2A, 0, 0xFF, 0xFF, 0, 0], code: "image.truncated", "truncated TIFF")  // IFD past the end
    }
}
