// Every bad input is a clear ImageError (code + message naming the file), never a crash.
import Foundation
import Testing
@testable import ClipImage

func fixtureBytes(_ name: String) throws -> [UInt8] {
    let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
}

func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

/// First index of `pattern` in `b` at or after `from`.
func find(_ pattern: [UInt8], in b: [UInt8], from: Int = 0) -> Int? {
    guard b.count >= pattern.count else { return nil }
    for i in from...(b.count - pattern.count) where Array(b[i..<(i + pattern.count)]) == pattern { return i }
    return nil
}

func expectError(_ bytes: [UInt8], code: String, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try ImageDecoder.decode(bytes: bytes, source: "bad.img")
        Issue.record("decoded without error; expected \(code)", sourceLocation: sourceLocation)
    } catch let e as ImageError {
        #expect(e.code == code, "message: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains(needle), "message: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.message.contains("'bad.img'"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct ErrorTests {
    let jpeg = "00-jpeg-rgb-420-96x64.jpg"
    let png = "14-png-rgb8-230x224.png"

    @Test func zeroBytes() { expectError([], code: "image.empty", "is empty (0 bytes)") }

    @Test func nonImageBytes() {
        expectError(Array("just some text, not a picture\n".utf8), code: "image.unknown-format", "not an image format clipwb reads")
        expectError(Array("just some text, not a picture\n".utf8), code: "image.unknown-format", "judged by its first bytes")
    }

    @Test func truncatedJPEG() throws {
        let b = try fixtureBytes(jpeg)
        expectError(Array(b.prefix(b.count / 2)), code: "image.truncated", "truncated JPEG")
        expectError(Array(b.prefix(3)), code: "image.truncated", "truncated JPEG")
    }

    @Test func everyJPEGCutPointIsAnErrorNotACrash() throws {
        let b = try fixtureBytes("05-jpeg-progressive-120x90.jpg")
        for n in Swift.stride(from: 3, to: b.count - 2, by: 7) {
            #expect(throws: ImageError.self) { try ImageDecoder.decode(bytes: Array(b.prefix(n))) }
        }
    }

    @Test func corruptJPEG() throws {
        var b = try fixtureBytes(jpeg)
        // Replace the frame header marker (SOF0) with an undefined marker: libjpeg rejects it.
        let sof = try #require(find([0xFF, 0xC0], in: b, from: 2))
        b[sof + 1] = 0x01
        expectError(b, code: "image.corrupt", "corrupt JPEG")
    }

    @Test func truncatedPNG() throws {
        let b = try fixtureBytes(png)
        expectError(Array(b.prefix(b.count / 2)), code: "image.truncated", "truncated PNG")
        expectError(Array(b.prefix(20)), code: "image.truncated", "truncated PNG")
    }

    @Test func corruptPNG() throws {
        var b = try fixtureBytes(png)
        b[20] ^= 0x55  // inside IHDR: its CRC no longer matches (Pillow: "broken PNG file")
        expectError(b, code: "image.corrupt", "bad header checksum in IHDR")
        var d = try fixtureBytes(png)
        // Garbage inside the compressed image data (IDAT CRCs are not checked, as in Pillow; zlib fails).
        let idat = try #require(find(Array("IDAT".utf8), in: d))
        for i in (idat + 4)..<(idat + 40) { d[i] = 0xFF }
        expectError(d, code: "image.corrupt", "corrupt PNG")
    }

    @Test func headerAbove50MegapixelsIsRejectedBeforeDecoding() throws {
        // PNG: rewrite IHDR to 10000×5001 with a valid CRC; no pixel data needs to exist.
        var p = try fixtureBytes(png)
        let dims: [UInt8] = [0, 0, 0x27, 0x10, 0, 0, 0x13, 0x89]  // 10000, 5001
        p.replaceSubrange(16..<24, with: dims)
        let crc = crc32(p[12..<29])
        p.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)])
        expectError(Array(p.prefix(200)), code: "image.too-large", "10000x5001 = 50010000 pixels")
        // JPEG: rewrite SOF0 to 8000×7000.
        var j = try fixtureBytes(jpeg)
        let sof = try #require(find([0xFF, 0xC0], in: j, from: 2))
        j.replaceSubrange((sof + 5)..<(sof + 9), with: [0x1B, 0x58, 0x1F, 0x40])  // height 7000, width 8000
        expectError(j, code: "image.too-large", "8000x7000")
        // Exactly 50 MP is still accepted by the header check.
        #expect(ImageError.maxPixels == 50_000_000)
    }

    @Test func unreadableFile() {
        do {
            _ = try ImageDecoder.decode(path: "/nonexistent/clipwb/image.jpg")
            Issue.record("no error")
        } catch let e as ImageError {
            #expect(e.code == "image.unreadable")
            #expect(e.message.contains("/nonexistent/clipwb/image.jpg"))
        } catch { Issue.record("unexpected \(error)") }
        do {
            _ = try ImageDecoder.decode(path: FileManager.default.temporaryDirectory.path)
            Issue.record("no error for a directory")
        } catch let e as ImageError {
            #expect(e.code == "image.unreadable")
            #expect(e.message.contains("not a regular file"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func preprocessSurfacesDecodeErrors() {
        #expect(throws: ImageError.self) { try CLIPPreprocess().preprocess(bytes: [0xFF, 0xD8, 0xFF, 0xE0]) }
    }
}
