// `clipwb serve --catalog CATALOG_DIR`: the search page and JSON API over a catalog (ClipServer).
import ArgumentParser
import ClipCore
import ClipSearch
import ClipServer
import Foundation
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the image search page and JSON API over a catalog.",
        discussion: """
        The model is the one the catalog was built with (its weights path is recorded in the catalog; \
        --weights overrides it). POST /api/images is on only with --token (or CLIPWB_TOKEN).
        """)

    @Option(help: "Catalog folder made by `clipwb ingest`.")
    var catalog: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Weights to use instead of the path recorded in the catalog.")
    var weights: String?

    @Option(help: "Annoy search_k for queries, instead of the one the catalog records (`ingest --search-k`); -1 is Annoy's default.")
    var searchK: Int?

    @Flag(help: "Map the Annoy index instead of reading it into memory: a million-item index starts at once and replicas on one host share its pages, but replacing the index file in place under the server (a `cp` over it) then kills it with SIGBUS (docs/scaling.md).")
    var mapIndex = false

    @Option(help: "Bearer token that enables POST /api/images (default: $CLIPWB_TOKEN).")
    var token: String?

    @Option(help: ArgumentHelp("Instead of serving: time the text encoder alone for this many seconds per batch size and print JSON (make loadtest).", visibility: .hidden))
    var measureEncoder: Double?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        if let searchK, searchK < 1 && searchK != -1 { throw ValidationError("--search-k must be -1 (Annoy's default) or at least 1") }
        if let t = effectiveToken, t.count < 8 {
            throw ValidationError(token != nil ? "--token must be at least 8 characters"
                                                : "CLIPWB_TOKEN must be at least 8 characters (or unset it to keep POST /api/images off)")
        }
    }

    /// --token, else $CLIPWB_TOKEN (an empty variable counts as unset).
    var effectiveToken: String? {
        token ?? ProcessInfo.processInfo.environment["CLIPWB_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        try await reportingErrors {
            let cat = try Catalog(directory: catalog, create: false, mapIndex: mapIndex)
            let meta = try cat.state().meta
            guard let path = weights ?? meta["weights"] else {
                throw SearchError("catalog.no-model", "the catalog records no weights (was ingestion ever run?); pass --weights")
            }
            // Read, not mapped: the server must survive its weights file being replaced in place.
            let embedder = try CLIPEmbedder(weightsPath: path, backing: .privateCopy)
            if let seconds = measureEncoder {
                try printJSON(EncoderThroughput.measure(embedder, seconds: seconds, batchSizes: [1, 16]))
                return
            }
            let service = try SearchService(catalog: cat, embedder: embedder, searchK: searchK)
            let token = effectiveToken
            raiseDescriptorLimit()
            let config = ServerConfiguration(host: host, port: port, uploadToken: token,
                                             limits: ConnectionLimits(maxConnections: connectionCap()))
            let host = self.host
            let app = buildApplication(service: service, configuration: config) { port in
                print("serving \(service.count) images at http://\(host):\(port)/" + (token == nil ? "" : "  (POST /api/images enabled)"))
                fflush(stdout)
            }
            try await app.runService()
        }
    }
}

/// Lifts the soft limit on open files to the hard one (at most 65,536): connections that time out
/// still hold a descriptor until they do, and a 1,024 limit is reached by a few slow clients.
func raiseDescriptorLimit() {
    var r = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return }
    let want = min(r.rlim_max, 65536)
    if r.rlim_cur < want {
        r.rlim_cur = want
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    }
}

/// Open connections allowed: 4,096, or what the open-file limit leaves after 128 for files.
func connectionCap() -> Int {
    var r = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0, r.rlim_cur < rlim_t(Int.max) else { return 4096 }
    return max(16, min(4096, Int(r.rlim_cur) - 128))
}

/// Texts/s the text encoder sustains alone (no HTTP, no index) at given batch sizes: the ceiling
/// the server's batched text search is compared with.
enum EncoderThroughput {
    struct Result: Encodable {
        var batchSize: Int
        var textsPerSecond: Double
        var msPerBatch: Double
    }

    static func measure(_ embedder: CLIPEmbedder, seconds: Double, batchSizes: [Int]) throws -> [Result] {
        let words = LoadWords.words
        var rng = SystemRandomNumberGenerator()
        var out: [Result] = []
        for b in batchSizes {
            _ = try embedder.embedTexts((0..<b).map { _ in "warm up" })
            var n = 0, batches = 0
            let t0 = Clock.now()
            while Clock.now() - t0 < seconds {
                let texts = (0..<b).map { _ in (0..<3).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ") }
                _ = try embedder.embedTexts(texts)
                n += b
                batches += 1
            }
            let dt = Clock.now() - t0
            out.append(Result(batchSize: b, textsPerSecond: Double(n) / dt, msPerBatch: dt / Double(batches) * 1000))
        }
        return out
    }
}

/// The query vocabulary of the load test (scripts/loadtest.lua uses the same words).
enum LoadWords {
    static let words = ["red", "blue", "black", "white", "green", "wooden", "leather", "metal", "small", "large",
                        "shoe", "chair", "lamp", "table", "sofa", "bottle", "phone", "case", "bag", "rug",
                        "bed", "desk", "shelf", "mug", "watch", "jacket", "pillow", "mirror", "vase", "box"]
}
