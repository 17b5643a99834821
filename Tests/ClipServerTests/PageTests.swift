// The HTML routes: browse, text search, similar, upload search with its pages, and error pages.
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct PageTests {
    let service = Fixtures.shared.service

    func count(_ html: String, _ needle: String) -> Int { html.components(separatedBy: needle).count - 1 }

    @Test func browseAndTextSearchPages() async throws {
        try await withServer(service) { client in
            let home = try await client.execute(uri: "/", method: .get)
            #expect(home.status == .ok)
            #expect(home.headers[.contentType] == "text/html; charset=utf-8")
            #expect(count(home.text, "class=\"result\"") == 16)
            #expect(home.text.contains("rel=\"next\" href=\"/?page=2\""))
            #expect(!home.text.contains("http://") && !home.text.contains("https://"))  // no external assets
            let search = try await client.execute(uri: "/?q=a+wooden+chair&page=2", method: .get)
            #expect(search.status == .ok)
            #expect(count(search.text, "class=\"result\"") == 16)
            #expect(search.text.contains("Images matching “a wooden chair”"))
            #expect(search.text.contains("href=\"/?q=a%20wooden%20chair&page=1\""))
            #expect(search.text.contains("href=\"/?q=a%20wooden%20chair&page=3\""))
            #expect(count(search.text, "href=\"/similar/") == 16)
            let last = try await client.execute(uri: "/?q=a+wooden+chair&page=3", method: .get)
            #expect(count(last.text, "class=\"result\"") == 8)
            let empty = try await client.execute(uri: "/?q=a+wooden+chair&page=4", method: .get)
            #expect(empty.text.contains("id=\"empty\""))
            // Browsing past the last page (40 images are 3 pages) is an empty page, not a crash.
            for uri in ["/?page=3", "/?page=4", "/?page=62"] {
                let past = try await client.execute(uri: uri, method: .get)
                #expect(past.status == .ok, "\(uri)")
                #expect(count(past.text, "class=\"result\"") == (uri == "/?page=3" ? 8 : 0), "\(uri)")
                #expect(past.text.contains("id=\"empty\"") == (uri != "/?page=3"), "\(uri)")
            }
            let alive = try await client.execute(uri: "/healthz", method: .get)
            #expect(alive.status == .ok)
            let escaped = try await client.execute(uri: "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", method: .get)
            #expect(!escaped.text.contains("<script>"))
            #expect(escaped.text.contains("&lt;script&gt;"))
        }
    }

    @Test func similarAndUploadPages() async throws {
        try await withServer(service) { client in
            let sim = try await client.execute(uri: "/similar/2", method: .get)
            #expect(sim.status == .ok)
            #expect(count(sim.text, "class=\"result\"") == 16)
            #expect(!sim.text.contains("data-id=\"2\""))
            let (h, b) = multipart(try Fixtures.sample(9))
            let up = try await client.execute(uri: "/search/image", method: .post, headers: h, body: b)
            #expect(up.status == .ok)
            #expect(count(up.text, "class=\"result\"") == 16)
            #expect(up.text.contains("data-id=\"9\""))
            let next = up.text.range(of: "rel=\"next\" href=\"/upload/")
            #expect(next != nil)
            if let next {
                let href = up.text[next.upperBound...].prefix { $0 != "\"" }
                let p2 = try await client.execute(uri: "/upload/" + href, method: .get)
                #expect(p2.status == .ok)
                #expect(count(p2.text, "class=\"result\"") == 16)
            }
        }
    }

    @Test func errorPagesAreHTML() async throws {
        try await withServer(service) { client in
            let long = try await client.execute(uri: "/?q=" + String(repeating: "b", count: 1001), method: .get)
            #expect(long.status == .badRequest)
            #expect(long.headers[.contentType] == "text/html; charset=utf-8")
            #expect(long.text.contains("at most 1000 are accepted"))
            let missing = try await client.execute(uri: "/no/such/page", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("role=\"alert\""))
            let expired = try await client.execute(uri: "/upload/0123456789abcdef", method: .get)
            #expect(expired.status == .notFound)
            #expect(expired.text.contains("upload the image again"))
            let notImage = try await client.execute(uri: "/search/image", method: .post, body: ByteBuffer(string: "text"))
            #expect(notImage.status == .unsupportedMediaType)
            #expect(notImage.text.contains("not an image clipwb reads"))
            #expect(notImage.text.contains("JPEG, PNG, GIF, BMP, TIFF, WebP and PPM"))
            let badID = try await client.execute(uri: "/similar/999", method: .get)
            #expect(badID.status == .notFound)
        }
    }
}
