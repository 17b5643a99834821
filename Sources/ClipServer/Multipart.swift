// Just enough of multipart/form-data (RFC 7578) to take one uploaded file out of a browser form.
// Pure (ClipCore and Foundation only, no HTTP types), so Fuzz/build.sh compiles it on its own; the
// server maps its CoreError "upload.bad-form" (bad input) to a 400.
import ClipCore
import Foundation

enum Multipart {
    /// The content of the first part that carries a filename (or is named image/file).
    static func firstFile(_ body: [UInt8], contentType: String) throws -> [UInt8]? {
        guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty else {
            throw CoreError("upload.bad-form", "the multipart form has no boundary parameter in its Content-Type")
        }
        // RFC 2046 §5.1.1: 1 to 70 characters. Searching a long one costs body × boundary byte comparisons.
        guard boundary.utf8.count <= maxBoundaryLength else {
            throw CoreError("upload.bad-form", "the multipart boundary is \(boundary.utf8.count) bytes long; RFC 2046 allows at most \(maxBoundaryLength)")
        }
        let delimiter = Array(("--" + boundary).utf8)
        var starts = positions(of: delimiter, in: body)
        guard starts.count >= 2 else {
            throw CoreError("upload.bad-form", "the multipart body does not contain its boundary; send a well-formed form")
        }
        starts.append(body.count)
        for i in 0..<(starts.count - 2) {
            let partStart = starts[i] + delimiter.count + 2  // past "\r\n"
            let partEnd = starts[i + 1] - 2                  // before "\r\n--boundary"
            guard partStart < partEnd else { continue }
            let part = body[partStart..<partEnd]
            guard let sep = positions(of: Array("\r\n\r\n".utf8), in: Array(part)).first else { continue }
            let head = String(decoding: part.prefix(sep), as: UTF8.self).lowercased()
            guard let disposition = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-disposition") }) else { continue }
            let named = parameter("name", in: String(disposition)) ?? ""
            if disposition.contains("filename=") || named == "image" || named == "file" {
                return Array(part.dropFirst(sep + 4))
            }
        }
        return nil
    }

    static let maxBoundaryLength = 70

    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let kv = piece.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].lowercased() == name {
                return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// Start offsets of every occurrence of `needle` in `hay`.
    static func positions(of needle: [UInt8], in hay: [UInt8]) -> [Int] {
        guard !needle.isEmpty, hay.count >= needle.count else { return [] }
        var out: [Int] = []
        var i = 0
        let first = needle[0]
        hay.withUnsafeBufferPointer { h in
            while i <= h.count - needle.count {
                if h[i] == first && memcmp(h.baseAddress! + i, needle, needle.count) == 0 {
                    out.append(i)
                    i += needle.count
                } else {
                    i += 1
                }
            }
        }
        return out
    }
}
