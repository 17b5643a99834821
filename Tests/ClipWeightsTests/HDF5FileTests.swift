import ClipCore
import ClipWeights
import Foundation
import Testing

/// The committed reference fixture read through HDF5File: variable-length strings, gzip-chunked pixels,
/// int32 tokens, attributes.
@Suite struct HDF5FileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let reference = root.appendingPathComponent("weights/tiny/clip-tiny-reference.h5").path

    @Test func readsTheReferenceFixture() throws {
        let f = try HDF5File(path: reference)
        guard case .string("clip-reference")? = try f.attributes(of: "/")["format"] else {
            Issue.record("format attribute missing"); return
        }
        let names = try f.readStrings("/images/names")
        let pixels = try f.info("/images/pixels")
        #expect(pixels.shape == [names.count, 3, 224, 224])
        #expect(pixels.dtypeName == "float32")
        let px = try f.readFloats("/images/pixels")
        #expect(px.count == names.count * 3 * 224 * 224)
        #expect(px.allSatisfy { $0.isFinite && abs($0) < 3 })
        let strings = try f.readStrings("/texts/strings")
        let tokens = try f.readInt32s("/texts/tokens")
        #expect(tokens.count == strings.count * 77)
        for i in 0..<strings.count {
            #expect(tokens[i * 77] == 49406)
            #expect(tokens[(i * 77)..<((i + 1) * 77)].contains(49407))
        }
        #expect(strings.contains { $0.unicodeScalars.contains { $0.value > 0x1F000 } }, "emoji text survives UTF-8 round trip")
    }

    @Test func sniffsFileKinds() throws {
        #expect(FileSniffer.kind(of: try MappedFile(path: reference)) == .hdf5)
        let dir = Fixture.tempDir()
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2]).write(to: URL(fileURLWithPath: dir + "/a"))
        #expect(FileSniffer.kind(of: try MappedFile(path: dir + "/a")) == .jpeg)
        try Data().write(to: URL(fileURLWithPath: dir + "/e"))
        #expect(FileSniffer.kind(of: try MappedFile(path: dir + "/e")) == .empty)
        #expect(FileSniffer.describe(try MappedFile(path: dir + "/e")) == "it is empty")
    }
}
