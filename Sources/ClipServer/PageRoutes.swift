// The browser routes: the search page (browse, text search, similar-to-an-image, uploaded-image
// search), each a server-rendered page of 16 results with pagination.
import ClipCore
import ClipSearch
import Foundation
import Hummingbird

struct PageRoutes: Sendable {
    let service: SearchService
    let renderer: PageRenderer
    /// Query vectors of recent uploads, so their result pages can be paged without re-uploading.
    let uploads = RecentVectors(capacity: 64)
    static let perPage = 16

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in
            let p = HTTPInput.formDecode(request.uri.query)
            let page = try HTTPInput.int(p, "page", default: 1, range: 1...(SearchLimits.maxResults / Self.perPage))
            let q = p["q"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            var model = PageModel(query: q, page: page)
            if q.isEmpty {
                model.heading = "Browse the collection"
                model.hits = try browse(page: page, hasMore: &model.hasMore)
                model.link = { "/?page=\($0)" }
            } else {
                let r = try await service.search(text: q, offset: (page - 1) * Self.perPage, limit: Self.perPage)
                model.heading = "Images matching “\(q)”"
                (model.hits, model.hasMore) = (r.results, r.hasMore)
                model.link = { "/?q=\(Self.urlEncode(q))&page=\($0)" }
            }
            return html(renderer.render(model))
        }
        router.get("/similar/:id") { request, context in
            let id = try HTTPInput.id(context.parameters.get("id"))
            let p = HTTPInput.formDecode(request.uri.query)
            let page = try HTTPInput.int(p, "page", default: 1, range: 1...(SearchLimits.maxResults / Self.perPage - 1))
            let r = try service.similar(to: id, offset: (page - 1) * Self.perPage, limit: Self.perPage)
            var model = PageModel(page: page)
            model.heading = "Images similar to #\(id)"
            model.queryImage = "/images/\(id)"
            model.queryImageAbsent = renderer.absentFiles([id]).contains(id)
            (model.hits, model.hasMore) = (r.results, r.hasMore)
            model.link = { "/similar/\(id)?page=\($0)" }
            return html(renderer.render(model))
        }
        router.post("/search/image") { request, _ in
            let bytes = try await HTTPInput.imageBytes(request)
            let (r, vector) = try await service.search(imageBytes: bytes, offset: 0, limit: Self.perPage)
            let key = String(SHA256.hexDigest(bytes).prefix(16))
            uploads.put(key, vector)
            return html(renderer.render(uploadModel(key: key, page: 1, r)))
        }
        router.get("/upload/:key") { request, context in
            let key = context.parameters.get("key") ?? ""
            let p = HTTPInput.formDecode(request.uri.query)
            let page = try HTTPInput.int(p, "page", default: 1, range: 1...(SearchLimits.maxResults / Self.perPage))
            guard let vector = uploads.get(key) else {
                throw ApiError(.notFound, "upload.expired", "this uploaded-image search has expired (the server keeps the last 64); upload the image again")
            }
            let r = try service.page(for: vector, offset: (page - 1) * Self.perPage, limit: Self.perPage, excluding: nil)
            return html(renderer.render(uploadModel(key: key, page: page, r)))
        }
    }

    func uploadModel(key: String, page: Int, _ r: SearchPage) -> PageModel {
        var model = PageModel(page: page)
        model.heading = "Images similar to your upload"
        (model.hits, model.hasMore) = (r.results, r.hasMore)
        model.link = { "/upload/\(key)?page=\($0)" }
        return model
    }

    /// The collection in id order, for the landing page.
    func browse(page: Int, hasMore: inout Bool) throws -> [SearchHit] {
        let total = service.count
        let first = (page - 1) * Self.perPage
        // A page past the end is an empty page (the template says so), never an inverted range.
        let ids = first < total ? Array(first..<min(first + Self.perPage, total)) : []
        hasMore = first + Self.perPage < total
        let recs = try service.catalog.images(ids: ids)
        return ids.compactMap { id in recs[id].map { SearchHit(id: id, score: .nan, path: $0.path, width: $0.width, height: $0.height) } }
    }

    static func urlEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
             body: .init(byteBuffer: ByteBuffer(string: text)))
}
