import ClipCore
@testable import ClipWeights
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

    /// Datasets stored in one piece are read with pread at the address libhdf5 reports: the same values, and
    /// the same bytes read raw, as through H5Dread; chunked (gzip) ones still go through H5Dread.
    @Test func directReadsEqualLibhdf5Reads() throws {
        var checked = 0
        for path in [reference, Self.root.appendingPathComponent("weights/tiny/clip-tiny.h5").path] {
            let direct = try HDF5File(path: path), viaLibhdf5 = try HDF5File(path: path)
            viaLibhdf5.directReads = false
            for name in try direct.datasets(under: "/") {
                let d = try direct.info(name)
                guard d.kind == .float || d.kind == .integer, !d.isNullSpace else { continue }
                #expect(try viaLibhdf5.info(name).contiguousAt == nil)
                if d.kind == .float {
                    let a = try direct.readFloats(name), b = try viaLibhdf5.readFloats(name)
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(name)")
                }
                var raw = [[UInt8]](repeating: [UInt8](repeating: 0, count: d.count * d.elementSize), count: 2)
                try raw[0].withUnsafeMutableBytes { try direct.readRaw(name, into: $0) }
                try raw[1].withUnsafeMutableBytes { try viaLibhdf5.readRaw(name, into: $0) }
                #expect(raw[0] == raw[1], "\(name)")
                if d.contiguousAt != nil { checked += 1 }
            }
            if path == reference { #expect(try direct.info("/images/pixels").contiguousAt == nil) }  // gzip-chunked
        }
        #expect(checked > 20)
        // Negative control: a buffer of another size is refused, not written past.
        let f = try HDF5File(path: reference)
        var small = [Float](repeating: 0, count: 3)
        #expect(throws: WeightsError.self) { try small.withUnsafeMutableBufferPointer { try f.readFloat("/texts/embeddings", into: $0) } }
    }

    /// A variable-length string dataset's global heap ids are checked before libhdf5 follows them (H5HG_read reads
    /// an absent object's slot and copies an object into a buffer sized by the value's length, both unchecked).
    @Test func stringDatasetHeapIdsAreCheckedBeforeLibhdf5ReadsThem() throws {
        let original = try HDF5File(path: reference)
        let strings = try original.readStrings("/texts/strings")
        let at = Int(try original.rawInfo("/texts/strings").offset)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: reference))
        let dir = Fixture.tempDir()
        func variant(_ name: String, value: Int, field: Int, _ change: (UInt32) -> UInt32) throws -> HDF5File {
            var b = bytes
            let o = at + value * 16 + field
            let old = b[o..<(o + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            withUnsafeBytes(of: change(old).littleEndian) { b.replaceSubrange(o..<(o + 4), with: $0) }
            try b.write(to: URL(fileURLWithPath: dir + "/" + name))
            return try HDF5File(path: dir + "/" + name, containment: nil)  // the check, not the child, under test
        }
        for (name, value, field, change, says) in [
            ("index-high-byte.h5", 1, 12, { (x: UInt32) in x | 0x0100_0000 }, "which holds no such object"),
            ("index-absent.h5", 2, 12, { (x: UInt32) in x + 900 }, "which holds no such object"),
            ("length-longer.h5", 3, 0, { (x: UInt32) in x + 40 }, "elements (\(strings[3].utf8.count + 40) bytes)"),
        ] {
            let f = try variant(name, value: value, field: field, change)
            let e = #expect(throws: WeightsError.self) { _ = try f.readStrings("/texts/strings") }
            #expect(e?.code == "hdf5.corrupt" && e?.message.contains("variable-length value \(value)") == true
                    && e?.message.contains(says) == true, "\(name): \(e?.message ?? "")")
        }
        // Negative control: a change that leaves every id as it was (the length of value 3 rewritten) reads the same.
        #expect(try variant("same.h5", value: 3, field: 0) { $0 }.readStrings("/texts/strings") == strings)
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
