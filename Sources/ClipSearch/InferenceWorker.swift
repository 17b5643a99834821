// The one thread that runs the encoders, off the server's event loops. Queries that arrive while it
// is busy wait in a queue and are encoded together in the next batch: at 16 concurrent clients a
// batch holds ~16 texts, which the text transformer runs as one GEMM per weight. Image queries
// (already decoded) are batched the same way.
// Under closed-loop load (N clients, each sending its next query when answered) the clients of one batch
// come back together a millisecond or so after it ends, while the next batch already started with only
// the others: batches settle at N/2 each. So after a text batch the thread lingers a little (see
// `lingerSeconds`) until as many texts wait as it just answered plus those that arrived while it ran.
// One client at a time is never held up (its one text meets the target at once), and an image or job
// runs without waiting.
// While texts are being served (a text batch ended within `textActiveSeconds`), images are encoded one per pass
// of the loop, each pass starting with the texts that wait: a text query then waits for at most one image's
// encoding, not for a batch of up to 16 (8 clients uploading images back to back held text search p99 at
// 272 ms with the full-size ViT-B/32, `make loadtest` phase 5). Without text traffic images batch as before.
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
    /// How recently a text batch must have ended for images to go one at a time between text batches (1 s).
    public let textActiveSeconds: Double
    /// Longest a text batch waits, after the previous one ended, for the clients that batch answered: this,
    /// or half the previous batch's duration if longer (up to 30 ms). Answering a batch's clients and
    /// parsing their next queries takes the event loops about a millisecond per query, on the same cores.
    public let lingerSeconds: Double
    private var lastBatchSeconds = 0.0
    /// Texts the next batch expects (the clients of the last batch and those that waited through it).
    private var expectedTexts = 0
    private var lastBatchEnd = 0.0

    public init(embedder: any Embedder, maxTextBatch: Int = 32, maxImageBatch: Int = 16, lingerSeconds: Double = 0.004,
                textActiveSeconds: Double = 1.0) {
        self.embedder = embedder
        self.textActiveSeconds = textActiveSeconds
        self.lingerSeconds = lingerSeconds
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
            lingerForTexts()
            let batch = Array(texts.prefix(maxTextBatch))
            texts.removeFirst(batch.count)
            let textsActive = Clock.now() - lastBatchEnd < textActiveSeconds
            let imageBatch = Array(images.prefix(textsActive ? 1 : maxImageBatch))
            images.removeFirst(imageBatch.count)
            let job = jobs.isEmpty ? nil : jobs.removeFirst()
            pthread_mutex_unlock(&mutex)
            if !batch.isEmpty { runTexts(batch) }
            if !imageBatch.isEmpty { runImages(imageBatch) }
            job?()
        }
    }

    /// With the mutex held: while only texts wait and fewer than expected, waits for more until the linger
    /// deadline (the previous text batch's end + lingerSeconds).
    private func lingerForTexts() {
        let deadline = lastBatchEnd + max(lingerSeconds, min(0.03, lastBatchSeconds / 2))
        while !stopping && images.isEmpty && jobs.isEmpty && !texts.isEmpty && texts.count < expectedTexts {
            let now = Clock.now()
            if now >= deadline { break }
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            let wait = deadline - now
            var nsec = Int(ts.tv_nsec) + Int(wait * 1e9)
            ts.tv_sec += nsec / 1_000_000_000
            nsec %= 1_000_000_000
            ts.tv_nsec = nsec
            pthread_cond_timedwait(&wake, &mutex, &ts)
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

    /// Encodes a batch, sets what the next batch expects, then answers: the texts that arrived while it ran
    /// are other clients; those this batch answers come back only after `lastBatchEnd`.
    private func runTexts(_ batch: [(String, CheckedContinuation<[Float], Error>)]) {
        let t0 = Clock.now()
        let result = Result { try embedder.embedTexts(batch.map(\.0)) }
        pthread_mutex_lock(&mutex)
        lastBatchSeconds = Clock.now() - t0
        expectedTexts = min(maxTextBatch, batch.count + texts.count)
        lastBatchEnd = Clock.now()
        pthread_mutex_unlock(&mutex)
        switch result {
        case .success(let m):
            textBatches += 1
            textsEncoded += batch.count
            for (i, item) in batch.enumerated() { item.1.resume(returning: Array(m.row(i))) }
        case .failure(let error):
            for item in batch { item.1.resume(throwing: error) }
        }
    }
}
