// The one thread that runs the encoders, off the server's event loops. Queries that arrive while it
// is busy wait in a queue and are encoded together in the next batch: at 16 concurrent clients a
// batch holds ~16 texts, which the text transformer runs as one GEMM per weight. Image queries
// (already decoded) are batched the same way.
import ClipCore
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public final class InferenceWorker: @unchecked Sendable {
    public let maxTextBatch: Int
    private let embedder: any Embedder
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var texts: [(String, CheckedContinuation<[Float], Error>)] = []
    private var images: [(PreparedImage, CheckedContinuation<[Float], Error>)] = []
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var thread: Thread?
    /// Batches run and texts encoded, for /api/stats.
    private(set) public var textBatches = 0
    private(set) public var textsEncoded = 0
    private(set) public var imageBatches = 0
    private(set) public var imagesEncoded = 0

    public let maxImageBatch: Int

    public init(embedder: any Embedder, maxTextBatch: Int = 32, maxImageBatch: Int = 16) {
        self.embedder = embedder
        self.maxTextBatch = maxTextBatch
        self.maxImageBatch = maxImageBatch
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        let t = Thread { [unowned self] in self.loop() }
        t.name = "clipwb-inference"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    deinit {
        pthread_cond_destroy(&wake)
        pthread_mutex_destroy(&mutex)
    }

    /// Queries waiting for the next batch.
    public var queuedTexts: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return texts.count
    }

    public var queuedImages: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return images.count
    }

    /// Ends the thread after the queued work.
    public func stop() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_signal(&wake)
        pthread_mutex_unlock(&mutex)
    }

    /// Embeds one text, batched with whatever other texts are waiting.
    public func embed(text: String) async throws -> [Float] {
        try await withCheckedThrowingContinuation { c in
            pthread_mutex_lock(&mutex)
            texts.append((text, c))
            pthread_cond_signal(&wake)
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Embeds one decoded image, batched with whatever other images are waiting.
    public func embed(image: PreparedImage) async throws -> [Float] {
        try await withCheckedThrowingContinuation { c in
            pthread_mutex_lock(&mutex)
            images.append((image, c))
            pthread_cond_signal(&wake)
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Runs `body` on the inference thread (image decoding and encoding, catalog additions).
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            pthread_mutex_lock(&mutex)
            jobs.append { c.resume(with: Result { try body() }) }
            pthread_cond_signal(&wake)
            pthread_mutex_unlock(&mutex)
        }
    }

    private func loop() {
        while true {
            pthread_mutex_lock(&mutex)
            while texts.isEmpty && images.isEmpty && jobs.isEmpty && !stopping { pthread_cond_wait(&wake, &mutex) }
            if texts.isEmpty && images.isEmpty && jobs.isEmpty && stopping { pthread_mutex_unlock(&mutex); return }
            let batch = Array(texts.prefix(maxTextBatch))
            texts.removeFirst(batch.count)
            let imageBatch = Array(images.prefix(maxImageBatch))
            images.removeFirst(imageBatch.count)
            let job = jobs.isEmpty ? nil : jobs.removeFirst()
            pthread_mutex_unlock(&mutex)
            if !batch.isEmpty { runTexts(batch) }
            if !imageBatch.isEmpty { runImages(imageBatch) }
            job?()
        }
    }

    private func runImages(_ batch: [(PreparedImage, CheckedContinuation<[Float], Error>)]) {
        do {
            let m = try embedder.embedImages(batch.map(\.0))
            imageBatches += 1
            imagesEncoded += batch.count
            for (i, item) in batch.enumerated() { item.1.resume(returning: Array(m.row(i))) }
        } catch {
            for item in batch { item.1.resume(throwing: error) }
        }
    }

    private func runTexts(_ batch: [(String, CheckedContinuation<[Float], Error>)]) {
        do {
            let m = try embedder.embedTexts(batch.map(\.0))
            textBatches += 1
            textsEncoded += batch.count
            for (i, item) in batch.enumerated() { item.1.resume(returning: Array(m.row(i))) }
        } catch {
            for item in batch { item.1.resume(throwing: error) }
        }
    }
}
