// The search service: catalog + encoders + index → ranked, paged results. No HTTP here.
// Readers take an immutable snapshot (index + embeddings) under a lock; an addition appends to
// the catalog, becomes searchable at once by exact search over the not-yet-indexed tail, and a
// background rebuild swaps a new index in. Searches never wait for a rebuild.
import ClipCore
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation

/// Everything a search reads, replaced as a whole.
final class Snapshot: Sendable {
    let index: LoadedIndex?
    /// All committed embeddings (mapped, plus rows added since start); rows ≥ index.count are searched exactly.
    let vectors: EmbeddingStore

    init(index: LoadedIndex?, vectors: EmbeddingStore) {
        self.index = index
        self.vectors = vectors
    }

    var indexedCount: Int { index?.index.count ?? 0 }
}

public struct SearchHit: Sendable, Codable, Equatable {
    public var id: Int
    /// Cosine similarity to the query.
    public var score: Float
    public var path: String
    public var width: Int
    public var height: Int

    public init(id: Int, score: Float, path: String, width: Int, height: Int) {
        (self.id, self.score, self.path, self.width, self.height) = (id, score, path, width, height)
    }
}

public struct SearchPage: Sendable, Codable {
    public var offset: Int
    public var limit: Int
    public var results: [SearchHit]
    /// Whether a next page exists (within `SearchLimits.maxResults`).
    public var hasMore: Bool
}

public enum SearchLimits {
    public static let maxQueryCharacters = 1000
    /// The deepest result a page may reach (offset + limit).
    public static let maxResults = 1000
    public static let maxPageSize = 100
}

public final class SearchService: @unchecked Sendable {
    public let catalog: Catalog
    public let embedder: any Embedder
    public let worker: InferenceWorker
    /// How the committed index was built (background rebuilds keep them).
    public let parameters: IndexParameters
    /// The search_k queries use: the catalog's, unless `serve --search-k` overrides it.
    public let searchK: Int
    private let lock = NSLockLike()
    private var snapshot: Snapshot
    let rebuilds: Rebuilder
    /// Embeddings of the last 256 distinct text queries.
    let recentTexts = RecentVectors(capacity: 256)
    /// Uploaded images decode here: few at a time, off the HTTP event loops and the inference thread.
    public let decodes = BoundedQueue(label: "clipwb-decode", concurrency: max(1, ProcessInfo.processInfo.activeProcessorCount - 1),
                                      maxWaiting: 16)

    /// Opens a catalog for serving. An index behind the embeddings (an interrupted ingestion) is
    /// rebuilt in the background; the stale one serves meanwhile.
    public init(catalog: Catalog, embedder: any Embedder, searchK override: Int? = nil) throws {
        self.catalog = catalog
        self.embedder = embedder
        let state = try catalog.state()
        guard let dim = Int(state.meta["dimension"] ?? ""), dim == embedder.dimension else {
            throw SearchError("catalog.model-mismatch", "the catalog's embeddings have dimension \(state.meta["dimension"] ?? "none") but the model gives \(embedder.dimension); serve it with the weights it was built with (\(state.meta["weights"] ?? "unknown"))")
        }
        try catalog.removeOrphans()
        // exact search reads the embeddings it searches; Annoy and HNSW leave them mapped (EmbeddingStore)
        let loaded = try catalog.loadIndex(state)
        parameters = loaded?.parameters ?? IndexParameters()
        searchK = override ?? parameters.searchK
        snapshot = Snapshot(index: loaded, vectors: try catalog.mapEmbeddings(state))
        worker = InferenceWorker(embedder: embedder)
        rebuilds = Rebuilder()
        if state.indexCount != state.imageCount { scheduleRebuild() }
    }

    func current() -> Snapshot { lock.locked { snapshot } }

    public var count: Int { current().vectors.rows }
    public var indexedCount: Int { current().indexedCount }
    public var indexGeneration: Int { current().index?.generation ?? 0 }
    public var isRebuilding: Bool { rebuilds.busy }

    /// Text → images.
    public func search(text: String, offset: Int, limit: Int) async throws -> SearchPage {
        let q = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty else { throw SearchError("query.empty", "the query is empty; type a few words describing the image") }
        guard q.count <= SearchLimits.maxQueryCharacters else {
            throw SearchError("query.too-long", "the query has \(q.count) characters; at most \(SearchLimits.maxQueryCharacters) are accepted")
        }
        let v: [Float]
        if let hit = recentTexts.get(q) {
            v = hit  // paging through the same query does not re-encode it
        } else {
            v = try await worker.embed(text: q)
            recentTexts.put(q, v)
        }
        return try page(for: v, offset: offset, limit: limit, excluding: nil)
    }

    /// Image bytes → similar images. Returns the page and the query's embedding.
    public func search(imageBytes: [UInt8], offset: Int, limit: Int) async throws -> (SearchPage, [Float]) {
        let v = try await embedUpload(imageBytes).1
        return (try page(for: v, offset: offset, limit: limit, excluding: nil), v)
    }

    /// An indexed image → the others most similar to it.
    public func similar(to id: Int, offset: Int, limit: Int) throws -> SearchPage {
        let snap = current()
        guard id >= 0, id < snap.vectors.rows else {
            throw SearchError("image.not-found", "there is no image with id \(id) (ids run from 0 to \(snap.vectors.rows - 1))")
        }
        return try page(for: snap.vectors.row(id), offset: offset, limit: limit, excluding: id)
    }

    /// A query vector → one page of hits, best first.
    public func page(for query: [Float], offset: Int, limit: Int, excluding: Int?) throws -> SearchPage {
        guard limit >= 1, limit <= SearchLimits.maxPageSize else {
            throw SearchError("query.bad-limit", "k must be between 1 and \(SearchLimits.maxPageSize), it is \(limit)")
        }
        guard offset >= 0, offset + limit <= SearchLimits.maxResults else {
            throw SearchError("query.bad-page", "that page is past the first \(SearchLimits.maxResults) results; ask for an earlier page")
        }
        let snap = current()
        // Every page is a slice of one ranked list: the index is always asked for the deepest list a
        // page may reach (plus one to tell whether more exist, plus the excluded query image), so
        // its candidate set does not grow with the page number and pages never overlap or skip.
        let want = min(SearchLimits.maxResults + 1 + (excluding == nil ? 0 : 1), snap.vectors.rows)
        var hits = try snap.index?.index.nearest(to: query, n: want, searchK: searchK) ?? []
        if snap.vectors.rows > snap.indexedCount {
            guard query.count == snap.vectors.cols else {
                throw SearchError("index.dimension", "query has dimension \(query.count), the catalog \(snap.vectors.cols)")
            }
            hits += snap.vectors.nearest(to: query, n: want, from: snap.indexedCount)
        }
        hits.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        if let excluding { hits.removeAll { $0.id == excluding } }
        let pageHits = Array(hits.dropFirst(offset).prefix(limit))
        let records = try catalog.images(ids: pageHits.map(\.id))
        let results = pageHits.compactMap { h in
            records[h.id].map { SearchHit(id: h.id, score: h.cosine, path: $0.path, width: $0.width, height: $0.height) }
        }
        let more = hits.count > offset + limit && offset + limit < SearchLimits.maxResults
        return SearchPage(offset: offset, limit: limit, results: results, hasMore: more)
    }

    /// Decodes uploaded bytes on a global queue (not the event loops), then embeds them on the
    /// inference thread, batched with other image queries.
    func embedUpload(_ bytes: [UInt8]) async throws -> (PreparedImage, [Float]) {
        guard ImageFormat(magic: bytes) != nil else {
            throw SearchError.unsupportedUpload(bytes)
        }
        let embedder = self.embedder
        let prepared = try await decodes.run { try embedder.prepareImage(bytes) }
        return (prepared, try await worker.embed(image: prepared))
    }

    func install(_ snap: Snapshot) { lock.locked { snapshot = snap } }
}

/// Runs blocking work on its own threads, at most `concurrency` at once and `maxWaiting` queued;
/// past that a job is refused at once ("server.busy") instead of piling up memory and latency.
/// The threads run `niceIncrement` below the process's priority (Linux nice values are per thread), so the
/// requests they serve never take a core from text search and the encoders: eight clients uploading 49-megapixel
/// PNGs back to back kept one of 2 cores decoding, and the encoders' two-thread pool waited on it.
public final class BoundedQueue: @unchecked Sendable {
    private let maxWaiting: Int
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var jobs: [() -> Void] = []
    private var pending = 0
    private var refusedCount = 0
    /// Jobs refused so far.
    public var refused: Int { locked { refusedCount } }
    /// Jobs running or waiting.
    public var queued: Int { locked { pending } }

    public init(label: String, concurrency: Int, maxWaiting: Int, niceIncrement: Int32 = 10) {
        self.maxWaiting = maxWaiting + concurrency
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for i in 0..<max(1, concurrency) {
            // The threads hold the queue (it lives as long as the server; a test's queue leaks its idle threads).
            let t = Thread { [self] in
                ThreadPriority.lowerCurrent(by: niceIncrement)
                self.loop()
            }
            t.name = "\(label)-\(i)"
            t.start()
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    private func loop() {
        while true {
            pthread_mutex_lock(&mutex)
            while jobs.isEmpty { pthread_cond_wait(&wake, &mutex) }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(&mutex)
            job()
        }
    }

    public func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted: Bool = locked {
            guard pending < maxWaiting else { refusedCount += 1; return false }
            pending += 1
            return true
        }
        guard admitted else {
            throw SearchError("server.busy", "the server is decoding as many images as it queues; try again in a moment", kind: .system)
        }
        return try await withCheckedThrowingContinuation { c in
            locked {
                jobs.append { [self] in
                    let r = Result { try job() }
                    locked { pending -= 1 }
                    c.resume(with: r)
                }
            }
            pthread_cond_signal(&wake)
        }
    }
}

/// A small least-recently-inserted cache of query vectors by key.
public final class RecentVectors: @unchecked Sendable {
    private let capacity: Int
    private let lock = NSLockLike()
    private var order: [String] = []
    private var vectors: [String: [Float]] = [:]

    public init(capacity: Int) { self.capacity = capacity }

    public func put(_ key: String, _ v: [Float]) {
        lock.locked {
            if vectors[key] == nil { order.append(key) }
            vectors[key] = v
            if order.count > capacity { vectors[order.removeFirst()] = nil }
        }
    }

    public func get(_ key: String) -> [Float]? { lock.locked { vectors[key] } }
}
