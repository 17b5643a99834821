import Testing
import Foundation
@testable import ClipCore

@Suite struct NPYTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-npy-\(UUID())").path

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }

    @Test func roundTripFloat32() throws {
        let m = Matrix(rows: 3, cols: 5, data: (0..<15).map { Float($0) * 0.5 - 2 })
        let path = dir + "/m.npy"
        try NPY.write(m, to: path)
        let back = try NPY.readMatrix(path)
        #expect(back == m)
        let f = try NPYFile(path: path)
        #expect(f.dataOffset % 64 == 0)
        #expect(f.shape == [3, 5])
    }

    @Test func rejectsNonNpy() throws {
        let path = dir + "/x.npy"
        try Data("hello world, not numpy".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CoreError.self) { try NPY.readMatrix(path) }
        do { _ = try NPY.readMatrix(path) } catch let e as CoreError { #expect(e.code == "npy.not-npy") }
    }

    @Test func rejectsMissingFile() {
        do { _ = try NPY.readMatrix(dir + "/nope.npy"); Issue.record("no error") } catch let e as CoreError {
            #expect(e.code == "file.missing")
            #expect(e.message.contains("nope.npy"))
        } catch { Issue.record("wrong error \(error)") }
    }

    @Test func sha256KnownVectors() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(SHA256.hexDigest(long) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// A .npy file with `header` as its header dict (version 1.0) and `data` zero bytes.
    func npy(_ header: String, data: Int = 16) throws -> String {
        let path = dir + "/h.npy"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: data)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectCode(_ code: String, _ parts: [String], _ body: () throws -> Void) {
        do { try body(); Issue.record("expected \(code)") } catch let e as CoreError {
            #expect(e.code == code, "\(e.code): \(e.message)")
            for p in parts { #expect(e.message.contains(p), "'\(e.message)' lacks '\(p)'") }
        } catch { Issue.record("wrong error \(error)") }
    }

    // Issue 12, item 6: sizes from the header are checked arithmetic, never a trap.
    @Test func shapeWhoseProductOverflows() throws {
        let p = try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n")
        expectCode("npy.shape", ["(4294967296, 4294967296)", "overflows"]) { _ = try NPYFile(path: p) }
        let q = try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }\n")
        expectCode("npy.shape", ["(4611686018427387904,)", "overflows"]) { _ = try NPYFile(path: q) }
        let r = try npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }\n")
        expectCode("npy.truncated", ["promises 20 bytes", "holds 16"]) { _ = try NPYFile(path: r) }
    }

    @Test func closingParenthesisBeforeOpening() throws {
        let p = try npy("{'descr': '<f4', 'fortran_order': False, 'shape': )2, 2(, }\n")
        expectCode("npy.header", ["shape"]) { _ = try NPYFile(path: p) }
    }

    @Test func unknownDtypeWithHugeShape() throws {
        let p = try npy("{'descr': '|V9999999', 'fortran_order': False, 'shape': (3037000500, 3037000500), }\n")
        expectCode("npy.shape", ["overflows"]) { _ = try NPYFile(path: p) }
    }
}
