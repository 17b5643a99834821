// Real parts for the server tests: the committed tiny CLIP (weights/tiny/clip-tiny.h5), the committed
// sample photos (samples/abo), a real SQLite catalog built by Ingestion, the real Annoy index.
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import Hummingbird
import NIOCore
import HummingbirdTesting
import Testing

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let weights = root + "/weights/tiny/clip-tiny.h5"
    static let samples = root + "/samples/abo"

    /// The sample photos, sorted (what ingestion orders by).
    static func sampleFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: samples).filter { $0.hasSuffix(".jpg") }.sorted()
    }

    static let embedder: CLIPEmbedder = {
        do { return try CLIPEmbedder(weightsPath: weights) } catch { fatalError("tiny CLIP fixture: \(error)") }
    }()

    /// A fresh temporary folder.
    static func tempDir(_ tag: String) -> String {
        let p = NSTemporaryDirectory() + "clipwb-\(tag)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// A folder holding the first `count` sample photos, one non-image file and one corrupt JPEG.
    static func imageFolder(count: Int) throws -> String {
        let dir = tempDir("images")
        for f in try sampleFiles().prefix(count) {
            try FileManager.default.copyItem(atPath: samples + "/" + f, toPath: dir + "/" + f)
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/zz-broken.jpg"))
        return dir
    }

    /// A catalog of the first `count` sample photos, built by the real ingestion.
    static func catalog(count: Int, trees: Int = 10) throws -> (Catalog, IngestSummary, images: String) {
        let images = try imageFolder(count: count)
        let cat = try Catalog(directory: tempDir("catalog"), create: true)
        try cat.bindModel(name: embedder.modelName, dimension: embedder.dimension, weights: weights)
        var options = IngestOptions()
        options.progress = false
        options.commitEvery = 16
        options.index = IndexParameters(trees: trees)
        let summary = try Ingestion(catalog: cat, embedder: embedder, options: options, log: { _ in }).run(folders: [images])
        return (cat, summary, images)
    }

    /// The 40-image catalog most tests read (never written to).
    static let shared: (service: SearchService, images: String) = {
        do {
            let (cat, _, images) = try catalog(count: 40)
            return (try SearchService(catalog: cat, embedder: embedder), images)
        } catch { fatalError("catalog fixture: \(error)") }
    }()

    static func sample(_ i: Int) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: samples + "/" + sampleFiles()[i])))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }
    var errorCode: String? { object["code"] as? String }
    var resultIDs: [Int] { (object["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int } }
    var scores: [Double] { (object["results"] as? [[String: Any]] ?? []).compactMap { $0["score"] as? Double } }
}

/// Runs `body` against a live server (a real port) over `service`.
func withServer(_ service: SearchService, token: String? = nil,
                _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    // Generous connection bounds: on a loaded machine the test client's keep-alive connection can sit
    // idle longer than serve's defaults between two requests; HardeningTests tests the bounds themselves.
    let lenient = ConnectionLimits(headerTimeout: .seconds(600), bodyTimeout: .seconds(600))
    let app = buildApplication(service: service, configuration: ServerConfiguration(port: 0, uploadToken: token, limits: lenient))
    try await app.test(.live, body)
}

func multipart(_ bytes: [UInt8], field: String = "image", filename: String = "query.jpg") -> (HTTPFields, ByteBuffer) {
    let boundary = "----clipwbTestBoundary7MA4YWxk"
    var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
    body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
    body += bytes
    body += Array("\r\n--\(boundary)--\r\n".utf8)
    return ([.contentType: "multipart/form-data; boundary=\(boundary)"], ByteBuffer(bytes: body))
}
