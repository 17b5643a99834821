// Every JSON route and every error code, against a live server over a real catalog.
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ApiTests {
    let service = Fixtures.shared.service

    @Test func healthAndStats() async throws {
        try await withServer(service) { client in
            let h = try await client.execute(uri: "/healthz", method: .get)
            #expect(h.status == .ok)
            #expect(h.object["images"] as? Int == 40)
            #expect(h.object["indexed"] as? Int == 40)
            let s = try await client.execute(uri: "/api/stats", method: .get)
            #expect(s.status == .ok)
            #expect(s.object["count"] as? Int == 40)
            let model = s.object["model"] as? [String: Any]
            #expect(model?["dimension"] as? Int == 64)
            let index = s.object["index"] as? [String: Any]
            #expect(index?["trees"] as? Int == 10)
            #expect(index?["metric"] as? String == "angular")
        }
    }

    @Test func textSearchRanksLikeExactSearch() async throws {
        let q = try Fixtures.embedder.embedTexts(["a red shoe"])
        let all = try service.catalog.loadEmbeddings(try service.catalog.state())
        let exact = try ExactNeighbors(all).nearest(to: Array(q.row(0)), n: 32).map(\.id)
        try await withServer(service) { client in
            let p1 = try await client.execute(uri: "/api/search?q=a+red+shoe", method: .get)
            #expect(p1.status == .ok)
            #expect(p1.headers[.contentType] == "application/json; charset=utf-8")
            #expect(p1.resultIDs == Array(exact.prefix(16)))
            #expect(p1.scores == p1.scores.sorted(by: >))
            #expect(p1.object["has_more"] as? Bool == true)
            let p2 = try await client.execute(uri: "/api/search?q=a%20red%20shoe&page=2", method: .get)
            #expect(p2.resultIDs == Array(exact[16..<32]))
            let k5 = try await client.execute(uri: "/api/search?q=a+red+shoe&k=5&page=3", method: .get)
            #expect(k5.resultIDs == Array(exact[10..<15]))
            let last = try await client.execute(uri: "/api/search?q=a+red+shoe&page=3", method: .get)
            #expect(last.resultIDs.count == 8)
            #expect(last.object["has_more"] as? Bool == false)
        }
    }

    /// Paging 16 at a time walks one ranked list: no id twice, none skipped. One tree makes Annoy's
    /// candidate set depend on how many results are asked for, so re-searching per page would drift.
    @Test func pagesNeverOverlapOrSkip() async throws {
        let (cat, _, _) = try Fixtures.catalog(count: 120, trees: 1)
        let service = try SearchService(catalog: cat, embedder: Fixtures.embedder)
        try await withServer(service) { client in
            for route in ["/api/search?q=a+blue+lamp", "/api/images/3/similar?x=1"] {
                var seen: [Int] = []
                for page in 1...9 {
                    let r = try await client.execute(uri: "\(route)&page=\(page)", method: .get)
                    #expect(r.status == .ok)
                    seen += r.resultIDs
                    if r.object["has_more"] as? Bool != true { break }
                }
                let expected = route.contains("similar") ? 119 : 120
                #expect(seen.count == expected, "\(route)")
                #expect(Set(seen).count == seen.count, "\(route): an id appeared on two pages")
                let one = try await client.execute(uri: "\(route)&k=100", method: .get)
                #expect(Array(seen.prefix(100)) == one.resultIDs, "\(route): pages of 16 disagree with one page of 100")
            }
        }
    }

    @Test func searchParameterErrors() async throws {
        try await withServer(service) { client in
            let cases: [(String, String)] = [
                ("/api/search", "query.missing"), ("/api/search?q=", "query.empty"), ("/api/search?q=+++", "query.empty"),
                ("/api/search?q=" + String(repeating: "a", count: 1001), "query.too-long"),
                ("/api/search?q=shoe&k=0", "query.bad-parameter"), ("/api/search?q=shoe&k=101", "query.bad-parameter"),
                ("/api/search?q=shoe&k=ten", "query.bad-parameter"), ("/api/search?q=shoe&page=0", "query.bad-parameter"),
                ("/api/search?q=shoe&page=64", "query.bad-page"),
            ]
            for (uri, code) in cases {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .badRequest, "\(uri)")
                #expect(r.errorCode == code, "\(uri): \(r.text)")
                #expect(!(r.object["message"] as? String ?? "").isEmpty)
            }
            let longest = try await client.execute(uri: "/api/search?q=" + String(repeating: "a", count: 1000), method: .get)
            #expect(longest.status == .ok)
        }
    }

    @Test func imageSearchFindsTheImageItself() async throws {
        let bytes = try Fixtures.sample(7)
        try await withServer(service) { client in
            let raw = try await client.execute(uri: "/api/search/image?k=4", method: .post,
                                               headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: bytes))
            #expect(raw.status == .ok)
            #expect(raw.resultIDs.first == 7)
            #expect(abs((raw.scores.first ?? 0) - 1) < 1e-4)
            let (h, b) = multipart(bytes)
            let form = try await client.execute(uri: "/api/search/image?k=4", method: .post, headers: h, body: b)
            #expect(form.status == .ok)
            #expect(form.resultIDs == raw.resultIDs)
        }
    }

    @Test func uploadErrors() async throws {
        // A body over the limit is answered 413 and the connection closed: HardeningTests reads that
        // over a raw socket (this client fails on the close while it is still sending).
        let cases: [(ByteBuffer?, HTTPResponse.Status, String)] = [
            (ByteBuffer(string: "just some text"), .unsupportedMediaType, "image.unsupported-type"),
            // an ICO header: recognised, not decoded
            (ByteBuffer(bytes: [0, 0, 1, 0, 1, 0, 16, 16, 0, 0]), .unsupportedMediaType, "image.unsupported-type"),
            // a GIF cut inside its screen descriptor: a GIF clipwb cannot read
            (ByteBuffer(bytes: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0]), .unprocessableContent, "image.truncated"),
            (nil, .badRequest, "upload.empty"),
            (ByteBuffer(bytes: [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3]), .unprocessableContent, "image.truncated"),
            (ByteBuffer(bytes: pngHeader(width: 10_000, height: 5_001)), .contentTooLarge, "image.too-large"),
        ]
        try await withServer(service) { client in
            for (body, status, code) in cases {
                let r = try await client.execute(uri: "/api/search/image", method: .post, body: body)
                #expect(r.status == status, "\(code): \(r.text)")
                #expect(r.errorCode == code, "\(r.text)")
            }
            let boundary = "b0undary"
            let onlyText = "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--\(boundary)--\r\n"
            let form: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
            let noFile = try await client.execute(uri: "/api/search/image", method: .post, headers: form, body: ByteBuffer(string: onlyText))
            #expect(noFile.status == .badRequest)
            #expect(noFile.errorCode == "upload.no-file")
            let broken = try await client.execute(uri: "/api/search/image", method: .post, headers: form, body: ByteBuffer(string: "no boundary here"))
            #expect(broken.status == .badRequest)
            #expect(broken.errorCode == "upload.bad-form")
        }
    }

    @Test func similarAndImageFiles() async throws {
        try await withServer(service) { client in
            let s = try await client.execute(uri: "/api/images/3/similar", method: .get)
            #expect(s.status == .ok)
            #expect(s.resultIDs.count == 16)
            #expect(!s.resultIDs.contains(3))
            let all = try await client.execute(uri: "/api/images/3/similar?k=50", method: .get)
            #expect(all.resultIDs.count == 39)
            for (uri, status, code) in [("/api/images/40/similar", HTTPResponse.Status.notFound, "image.not-found"),
                                        ("/api/images/abc/similar", .badRequest, "image.bad-id"),
                                        ("/api/images/-1/similar", .badRequest, "image.bad-id"),
                                        ("/images/40", .notFound, "image.not-found"),
                                        ("/images/..%2F..%2Fetc%2Fpasswd", .badRequest, "image.bad-id"),
                                        ("/images/1.jpg", .badRequest, "image.bad-id"),
                                        ("/api/nothing-here", .notFound, "not-found")] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == status, "\(uri)")
                #expect(r.errorCode == code, "\(uri): \(r.text)")
            }
            let img = try await client.execute(uri: "/images/5", method: .get)
            #expect(img.status == .ok)
            #expect(img.headers[.contentType] == "image/jpeg")
            #expect(img.headers[.cacheControl]?.contains("max-age") == true)
            #expect(Array(img.body.readableBytesView) == (try Fixtures.sample(5)))
            let etag = img.headers[.eTag] ?? ""
            let again = try await client.execute(uri: "/images/5", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
        }
    }

    @Test func addingImagesIsOffWithoutAToken() async throws {
        try await withServer(service) { client in
            let r = try await client.execute(uri: "/api/images", method: .post, body: ByteBuffer(bytes: try Fixtures.sample(50)))
            #expect(r.status == .notFound)
            #expect(r.errorCode == "not-found")
        }
    }
}

/// A PNG signature and IHDR chunk declaring `width`×`height` (8-bit RGB), a stub IDAT, IEND.
func pngHeader(width: Int, height: Int) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let td = Array(type.utf8) + data
        return be32(data.count) + td + be32(Int(crc32(td)))
    }
    let ihdr = be32(width) + be32(height) + [8, 2, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]) + chunk("IEND", [])
}

/// zlib's CRC-32 (the PNG chunk checksum).
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}
