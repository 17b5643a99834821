// libFuzzer target over the multipart/form-data parser (compiled together with Sources/ClipServer/Multipart.swift).
// The input's first line is the Content-Type header, the rest the body.
import ClipCore

func fuzzSeeds() throws -> [String: [UInt8]] {
    let boundary = "----clipwbFuzzBoundary"
    let type = Array("multipart/form-data; boundary=\"\(boundary)\"\n".utf8)
    func part(_ disposition: String, _ content: String) -> String {
        "--\(boundary)\r\nContent-Disposition: form-data; \(disposition)\r\nContent-Type: image/jpeg\r\n\r\n\(content)\r\n"
    }
    return [
        "form.txt": type + Array((part("name=\"note\"", "hello") + part("name=\"image\"; filename=\"q.jpg\"", "\u{FF}\u{D8}jpeg")
            + "--\(boundary)--\r\n").utf8),
        "file-field.txt": type + Array((part("name=\"file\"", "data") + "--\(boundary)--\r\n").utf8),
        "no-file.txt": type + Array((part("name=\"a\"", "") + part("name=\"b\"", "x") + "--\(boundary)--").utf8),
        "no-boundary.txt": Array("multipart/form-data\n--x\r\n\r\n".utf8),
    ]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { bytes in
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = Array(bytes.dropFirst(newline + 1))
        if let file = try Multipart.firstFile(body, contentType: contentType) {
            precondition(file.count <= body.count, "the file part is longer than the body")
        }
    }
}
