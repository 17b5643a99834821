// Every failure the server reports: an HTTP status, a stable code and a sentence the user can act on.
// API routes answer {"code", "message"} as JSON; browser routes get the same inside an HTML page.
import ClipCore
import Foundation
import Hummingbird
import NIOCore

public struct ApiError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Maps any error to its answer: library errors by code and kind, unknown ones to a 500.
    public static func from(_ error: Error) -> ApiError {
        switch error {
        case let e as ApiError: return e
        case is NIOTooManyBytesError: return .bodyTooLarge
        case let e as HTTPError:
            if e.status == .notFound { return notFound }
            return ApiError(e.status, "http.\(e.status.code)", e.body ?? e.status.reasonPhrase)
        case let e as ClipwbError:
            return ApiError(status(forCode: e.code, kind: e.kind), e.code, e.message)
        default:
            return ApiError(.internalServerError, "internal", "the server failed unexpectedly (\(error)); try again or report it")
        }
    }

    static func status(forCode code: String, kind: ErrorKind) -> HTTPResponse.Status {
        switch code {
        case "image.not-found": return .notFound
        case "image.unsupported-type", "image.unknown-format": return .unsupportedMediaType
        case "image.too-large": return .contentTooLarge
        case "server.busy": return .serviceUnavailable
        case "image.empty", "image.truncated", "image.corrupt", "image.unsupported": return .unprocessableContent
        default: return kind == .badInput ? .badRequest : .internalServerError
        }
    }

    static let notFound = ApiError(.notFound, "not-found", "there is nothing at this address; see /api for the routes")
    static let bodyTooLarge = ApiError(.contentTooLarge, "request.too-large",
                                       "the request body is larger than \(ServerLimits.maxBodyBytes / (1 << 20)) MiB; send a smaller image")

    public var json: [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? enc.encode(["code": code, "message": message])) ?? Data())
    }
}

public enum ServerLimits {
    /// Largest request body accepted (uploads).
    public static let maxBodyBytes = 16 << 20
}

/// Turns thrown errors into answers: JSON under /api (and for images), an HTML page elsewhere.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let page: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = ApiError.from(error)
            var headers: HTTPFields = [:]
            if e.status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"clipwb\"" }
            if e.status == .tooManyRequests { headers[.retryAfter] = "60" }
            if e.status == .serviceUnavailable { headers[.retryAfter] = "1" }
            // A refused body may still be arriving: answer, then close rather than read it all.
            if e.code == ApiError.bodyTooLarge.code { headers[.connection] = "close" }
            if Self.wantsJSON(request.uri.path) {
                headers[.contentType] = "application/json; charset=utf-8"
                return Response(status: e.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: e.json)))
            }
            headers[.contentType] = "text/html; charset=utf-8"
            let html = page.render(PageModel(error: e))
            return Response(status: e.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

    static func wantsJSON(_ path: String) -> Bool {
        path == "/api" || path.hasPrefix("/api/") || path.hasPrefix("/images/") || path == "/healthz"
    }
}
