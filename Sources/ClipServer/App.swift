// The search server as a function tests call: buildApplication(service:configuration:) wires the
// JSON API, the HTML page and the error middleware over one SearchService.
import ClipCore
import ClipSearch
import Foundation
import Hummingbird
import Logging

public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Bearer token for POST /api/images; nil turns the route off.
    public var uploadToken: String?
    /// Per-connection timeouts and the cap on open connections.
    public var limits: ConnectionLimits

    public init(host: String = "127.0.0.1", port: Int = 8080, uploadToken: String? = nil, limits: ConnectionLimits = .init()) {
        self.host = host
        self.port = port
        self.uploadToken = uploadToken
        self.limits = limits
    }
}

public func buildApplication(service: SearchService, configuration: ServerConfiguration,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
    // HEAD routes come from the GET ones (the router), their Content-Length from HeadMiddleware.
    let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
    let page = PageRenderer(service: service)
    router.add(middleware: HeadMiddleware())
    router.add(middleware: ErrorMiddleware(page: page))
    ApiRoutes(service: service, uploadToken: configuration.uploadToken).register(on: router)
    PageRoutes(service: service, renderer: page).register(on: router)
    var logger = Logger(label: "clipwb-serve")
    logger.logLevel = .warning
    let (limits, counter) = (configuration.limits, ConnectionCounter())
    return Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(limits: limits, counter: counter)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "clipwb"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// HEAD on every GET route: the GET answer's status and headers (with its Content-Length), no body.
struct HeadMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .head else { return try await next(request, context) }
        var head = request.head
        head.method = .get
        let response = try await next(Request(head: head, body: request.body), context)
        var headers = response.headers
        if headers[.contentLength] == nil, let n = response.body.contentLength { headers[.contentLength] = String(n) }
        return Response(status: response.status, headers: headers, body: .init())
    }
}

/// Small helpers shared by both route sets.
enum HTTPInput {
    /// Decodes an application/x-www-form-urlencoded string ('+' is a space, %XX bytes as UTF-8).
    static func formDecode(_ query: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(kv[0]), value = kv.count > 1 ? decode(kv[1]) : ""
            if out[key] == nil { out[key] = value }
        }
        return out
    }

    static func decode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") { bytes.append(32); continue }
            if c == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
                continue
            }
            bytes.append(c)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An optional positive integer parameter within `range`.
    static func int(_ params: [String: String], _ name: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = params[name] else { return d }
        guard let v = Int(raw), range.contains(v) else {
            throw ApiError(.badRequest, "query.bad-parameter", "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(raw.prefix(40))'")
        }
        return v
    }

    /// An image id from the path: digits only, so no path from the client ever reaches the disk.
    static func id(_ raw: String?) throws -> Int {
        guard let raw, !raw.isEmpty, raw.count <= 18, raw.allSatisfy(\.isASCII), raw.allSatisfy(\.isNumber), let v = Int(raw) else {
            throw ApiError(.badRequest, "image.bad-id", "an image id is a non-negative integer, got '\((raw ?? "").prefix(40))'")
        }
        return v
    }

    /// Reads the body (≤ 16 MiB) and returns the image bytes: the file part of a multipart form,
    /// or the raw body.
    static func imageBytes(_ request: Request) async throws -> [UInt8] {
        if let len = request.headers[.contentLength].flatMap({ Int($0) }), len > ServerLimits.maxBodyBytes {
            throw ApiError.bodyTooLarge
        }
        var request = request
        let buffer = try await request.collectBody(upTo: ServerLimits.maxBodyBytes)
        let body = Array(buffer.readableBytesView)
        let type = request.headers[.contentType] ?? ""
        if type.lowercased().hasPrefix("multipart/form-data") {
            guard let part = try Multipart.firstFile(body, contentType: type) else {
                throw ApiError(.badRequest, "upload.no-file", "the form holds no file; attach an image in a field named 'image'")
            }
            return part
        }
        guard !body.isEmpty else {
            throw ApiError(.badRequest, "upload.empty", "the request has no body; send an image — JPEG, PNG, GIF, BMP, TIFF, WebP or PPM (raw body or multipart form field 'image')")
        }
        return body
    }
}
