// Inputs that made the multipart parser slow (Tests/Fixtures/fuzz/multipart/, in Fuzz/FuzzMultipart.swift's
// format: the first line is the Content-Type, the rest the body), run through the same call: each must be
// refused, quickly. The 64 KiB one took 6.3 s under the fuzz harness (a boundary of 30,000 dashes over a
// body of dashes: every position compared 30,000 bytes, each time into a fresh array); at the server's
// 16 MiB body limit it would have taken hours.
import ClipCore
@testable import ClipServer
import Foundation
import Testing

@Suite struct MultipartFuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz/multipart")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).sorted().map { fixtures.path + "/" + $0 }
    }

    @Test func thereAreFixtures() { #expect(!Self.files.isEmpty) }

    @Test(arguments: files)
    func slowInputIsRefused(_ path: String) throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
        let e = #expect(throws: CoreError.self) { _ = try Multipart.firstFile(Array(bytes.dropFirst(newline + 1)), contentType: contentType) }
        #expect(e?.code == "upload.bad-form")
        #expect(e?.message.contains("RFC 2046 allows at most 70") == true, "\(e?.message ?? "")")
    }

    /// The longest boundary RFC 2046 allows still works, over a body made to compare it at every byte.
    @Test func seventyCharacterBoundaryOverADashedBody() throws {
        let boundary = String(repeating: "-", count: 70)
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n".utf8)
        body += [UInt8]((0..<(1 << 20)).map { $0 % 72 == 71 ? UInt8(ascii: "x") : UInt8(ascii: "-") })
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        let file = try Multipart.firstFile(body, contentType: "multipart/form-data; boundary=\(boundary)")
        #expect(file?.count == 1 << 20)
    }
}
