// The JSON API: search by text, by uploaded image, by indexed image; the image files; health and
// stats; additions behind a bearer token. Documented in docs/api.md and docs/openapi.yaml.
import ClipCore
import ClipSearch
import Foundation
import Hummingbird

struct ApiRoutes: Sendable {
    let service: SearchService
    let uploadToken: String?
    let authThrottle = FailureThrottle(budget: 10, window: 60)

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            json(["status": "ok", "images": service.count, "indexed": service.indexedCount])
        }
        router.get("/api") { _, _ in json(["routes": Self.routes]) }
        router.get("/api/stats") { _, _ in json(stats()) }
        router.get("/api/search") { request, _ in
            let p = HTTPInput.formDecode(request.uri.query)
            guard let q = p["q"] else {
                throw ApiError(.badRequest, "query.missing", "pass the text to search for as ?q=… (at most \(SearchLimits.maxQueryCharacters) characters)")
            }
            let (offset, k) = try paging(p)
            let t0 = Clock.now()
            let page = try await service.search(text: q, offset: offset, limit: k)
            return json(body(page, query: ["text": q], seconds: Clock.now() - t0))
        }
        router.post("/api/search/image") { request, _ in
            let p = HTTPInput.formDecode(request.uri.query)
            let (offset, k) = try paging(p)
            let bytes = try await HTTPInput.imageBytes(request)
            let t0 = Clock.now()
            let (page, _) = try await service.search(imageBytes: bytes, offset: offset, limit: k)
            return json(body(page, query: ["image_bytes": bytes.count], seconds: Clock.now() - t0))
        }
        router.get("/api/images/:id/similar") { request, context in
            let id = try HTTPInput.id(context.parameters.get("id"))
            let (offset, k) = try paging(HTTPInput.formDecode(request.uri.query))
            let t0 = Clock.now()
            let page = try service.similar(to: id, offset: offset, limit: k)
            return json(body(page, query: ["image_id": id], seconds: Clock.now() - t0))
        }
        router.get("/images/:id") { request, context in try await imageFile(request, context) }
        if let token = uploadToken {
            router.post("/api/images") { request, _ in
                try authorize(request, token: token)
                let bytes = try await HTTPInput.imageBytes(request)
                let added = try await service.add(imageBytes: bytes)
                var out = try jsonObject(added)
                out["url"] = "/images/\(added.id)"
                out["rebuilding"] = service.isRebuilding
                return json(out, status: added.created ? .accepted : .ok)
            }
        }
    }

    static let routes = [
        "GET /api/search?q=TEXT&k=16&page=1", "POST /api/search/image?k=16&page=1 (multipart field 'image' or raw image body)",
        "GET /api/images/{id}/similar?k=16&page=1", "GET /images/{id}", "GET /healthz", "GET /api/stats",
        "POST /api/images (Authorization: Bearer TOKEN; multipart or raw body)",
    ]

    func paging(_ p: [String: String]) throws -> (offset: Int, k: Int) {
        let k = try HTTPInput.int(p, "k", default: 16, range: 1...SearchLimits.maxPageSize)
        let page = try HTTPInput.int(p, "page", default: 1, range: 1...SearchLimits.maxResults)
        guard (page - 1) * k + k <= SearchLimits.maxResults else {
            throw ApiError(.badRequest, "query.bad-page", "page \(page) of \(k) is past the first \(SearchLimits.maxResults) results; ask for an earlier page")
        }
        return ((page - 1) * k, k)
    }

    func body(_ page: SearchPage, query: [String: Any], seconds: Double) -> [String: Any] {
        [
            "query": query, "page": page.offset / page.limit + 1, "k": page.limit, "has_more": page.hasMore,
            "took_ms": (seconds * 1e5).rounded() / 100,
            "results": page.results.map { h -> [String: Any] in
                ["id": h.id, "score": (Double(h.score) * 1e6).rounded() / 1e6, "path": h.path, "width": h.width,
                 "height": h.height, "url": "/images/\(h.id)", "similar": "/api/images/\(h.id)/similar"]
            },
        ]
    }

    func stats() -> [String: Any] {
        let meta = (try? service.catalog.state().meta) ?? [:]
        return [
            "count": service.count, "indexed": service.indexedCount, "rebuilding": service.isRebuilding,
            "model": ["name": service.embedder.modelName, "dimension": service.embedder.dimension],
            "index": indexStats(meta),
            "batching": ["text_batches": service.worker.textBatches, "texts_encoded": service.worker.textsEncoded,
                         "image_batches": service.worker.imageBatches, "images_encoded": service.worker.imagesEncoded,
                         "max_batch": service.worker.maxTextBatch],
        ]
    }

    /// The index in use: its kind and only that kind's parameters, where the setting came from.
    func indexStats(_ meta: [String: String]) -> [String: Any] {
        let p = service.parameters
        var out: [String: Any] = ["kind": p.kind.rawValue, "metric": "angular", "generation": service.indexGeneration,
                                  "file": meta["index_file"].map { $0 as Any } ?? NSNull(), "origin": p.origin]
        switch p.kind {
        case .annoy: out.merge(["trees": p.trees, "seed": p.seed, "search_k": service.searchK]) { $1 }
        case .hnsw: out.merge(["m": p.m, "ef_construction": p.efConstruction, "ef": p.ef, "seed": p.seed]) { $1 }
        case .exact: break
        }
        return out
    }

    func imageFile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try HTTPInput.id(context.parameters.get("id"))
        guard let rec = try service.catalog.image(id: id) else {
            throw ApiError(.notFound, "image.not-found", "there is no image with id \(id)")
        }
        let etag = "\"\(rec.sha256)\""
        var headers: HTTPFields = [.cacheControl: "public, max-age=31536000, immutable", .eTag: etag]
        if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
        // Read with RegularFile: a FIFO put in the image's place must not block the request forever.
        guard let bytes = try? RegularFile.contents(service.catalog.filePath(of: rec)) else {
            throw ApiError(.notFound, "image.file-missing", "image \(id) is in the catalog but its file '\(rec.path)' is gone from '\(rec.root)' (or is no longer a regular file)")
        }
        headers[.contentType] = ImageFormat(magic: bytes)?.contentType ?? "application/octet-stream"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Checks `Authorization: Bearer TOKEN` (the scheme is case-insensitive, RFC 9110 §11.1). Wrong
    /// tokens are rate-limited: past the throttle's budget every attempt is refused with 429 unchecked.
    func authorize(_ request: Request, token: String) throws {
        let given = request.headers[.authorization] ?? ""
        let parts = given.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let scheme = parts.first.map { $0.lowercased() } ?? ""
        let presented = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        if let wait = authThrottle.refusal() {
            throw ApiError(.tooManyRequests, "auth.throttled",
                           "too many wrong tokens in the last minute; try again in \(wait) s")
        }
        guard scheme == "bearer", constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            authThrottle.recordFailure()
            throw ApiError(.unauthorized, "auth.required", given.isEmpty
                ? "adding images needs the token given to `clipwb serve --token`: send 'Authorization: Bearer TOKEN'"
                : "the bearer token is wrong; use the one given to `clipwb serve --token`")
        }
    }

    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<min(a.count, b.count) { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// Counts failures in a sliding window; once `budget` failures fall inside it, refuses until the
/// oldest ages out. One budget for the whole server: a guesser cannot spread over connections.
public final class FailureThrottle: @unchecked Sendable {
    private let budget: Int
    private let window: Double
    private let lock = NSLockLike()
    private var failures: [Double] = []

    public init(budget: Int, window: Double) {
        (self.budget, self.window) = (budget, window)
    }

    /// Seconds to wait, or nil when an attempt may be checked.
    public func refusal(now: Double = Clock.now()) -> Int? {
        lock.locked {
            failures.removeAll { now - $0 >= window }
            guard failures.count >= budget, let oldest = failures.first else { return nil }
            return max(1, Int((window - (now - oldest)).rounded(.up)))
        }
    }

    public func recordFailure(now: Double = Clock.now()) { lock.locked { failures.append(now) } }
}

func jsonObject<T: Encodable>(_ v: T) throws -> [String: Any] {
    let enc = JSONEncoder()
    enc.keyEncodingStrategy = .convertToSnakeCase
    return (try JSONSerialization.jsonObject(with: enc.encode(v)) as? [String: Any]) ?? [:]
}

func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
