// The committed fixtures (notebooks-export/image_fixtures.py): every mode Pillow opens from
// JPEG/PNG (the other formats are compared with Pillow by Tests/interop/test_preprocess.py), and Pillow's own uint8 result of CLIP's resize → crop → convert("RGB") for each.
import ClipCore
import Foundation
import Testing
@testable import ClipImage

struct FixtureManifest: Decodable {
    struct Entry: Decodable {
        let file: String, kind: String, pil_mode: String, width: Int, height: Int
        let sha256: String, sum: Int, first: [Int]
    }
    let images: [Entry]
    let pillow: String

    static func load() throws -> (URL, FixtureManifest) {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return (dir, try JSONDecoder().decode(FixtureManifest.self, from: data))
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

@Suite struct FixtureTests {
    @Test func manifestCoversEveryMode() throws {
        let (_, m) = try FixtureManifest.load()
        #expect(m.pillow == "13.0.0")
        // "I" (16-bit PGM, integer TIFF) and "I;16B" (big-endian TIFF) never come from JPEG/PNG;
        // Tests/interop/test_preprocess.py compares them with Pillow.
        let fromJPEGOrPNG = PixelMode.allCases.filter { $0 != .int32 && $0 != .gray16B }
        #expect(Set(m.images.map(\.pil_mode)) == Set(fromJPEGOrPNG.map(\.rawValue)))
    }

    @Test func everyFixtureEqualsPillow() throws {
        let (dir, m) = try FixtureManifest.load()
        let pre = CLIPPreprocess()
        for e in m.images {
            let image = try ImageDecoder.decode(path: dir.appendingPathComponent(e.file).path)
            #expect(image.mode.rawValue == e.pil_mode, "\(e.file): mode")
            #expect(image.width == e.width && image.height == e.height, "\(e.file): size")
            let rgb = try pre.resizedCropped(image)
            #expect(rgb.width == 224 && rgb.height == 224)
            var h = SHA256()
            h.update(rgb.pixels)
            let digest = hex(h.finalize())
            let sum = rgb.pixels.reduce(0) { $0 + Int($1) }
            #expect(Array(rgb.pixels.prefix(12).map(Int.init)) == e.first, "\(e.file): first values")
            #expect(sum == e.sum, "\(e.file) (\(e.kind)): byte sum \(sum), Pillow \(e.sum)")
            #expect(digest == e.sha256, "\(e.file) (\(e.kind)): uint8 stage differs from Pillow")
        }
    }

    @Test func pathBytesAndBatchAgree() throws {
        let (dir, m) = try FixtureManifest.load()
        let pre = CLIPPreprocess()
        let paths = m.images.prefix(3).map { dir.appendingPathComponent($0.file).path }
        var batch = [Float](repeating: .nan, count: paths.count * pre.count)
        try batch.withUnsafeMutableBufferPointer { try pre.preprocess(paths: paths, into: $0) }
        for (i, p) in paths.enumerated() {
            let one = try pre.preprocess(path: p)
            let bytes = try pre.preprocess(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: p))))
            #expect(one.count == 3 * 224 * 224)
            #expect(one == bytes)
            let prepared = try pre.prepare(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: p))))
            #expect(prepared.pixels == one)
            #expect(prepared.width == m.images[i].width && prepared.height == m.images[i].height)
            #expect(Array(batch[(i * pre.count)..<((i + 1) * pre.count)]) == one)
        }
    }
}
