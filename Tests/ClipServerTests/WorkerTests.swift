// The inference thread batches text queries that wait while it is busy, and a batch gives the
// same embeddings as one-by-one encoding.
import ClipCore
import ClipSearch
import Foundation
import Testing

@Suite struct WorkerTests {
    @Test func waitingTextsAreEncodedAsOneBatch() async throws {
        let worker = InferenceWorker(embedder: Fixtures.embedder, maxTextBatch: 32)
        defer { worker.stop() }
        let gate = DispatchSemaphore(value: 0)
        let texts = (0..<12).map { "query number \($0) about a chair" }
        // Hold the thread in a job so every text below queues up behind it. The job must be running before
        // the first text is queued: otherwise the thread could take early texts together with the job.
        let started = Flag()
        async let held: Void = worker.run { started.set(); gate.wait() }
        while !started.isSet { try await Task.sleep(nanoseconds: 1_000_000) }
        var tasks: [Task<[Float], Error>] = []
        for t in texts { tasks.append(Task { try await worker.embed(text: t) }) }
        while worker.queuedTexts < texts.count { try await Task.sleep(nanoseconds: 1_000_000) }
        gate.signal()
        try await held
        var got: [[Float]] = []
        for t in tasks { got.append(try await t.value) }
        #expect(worker.textBatches == 1)
        #expect(worker.textsEncoded == 12)
        let single = try Fixtures.embedder.embedTexts([texts[5]])
        let maxDiff = zip(got[5], single.row(0)).map { abs($0 - $1) }.max() ?? 1
        #expect(maxDiff < 1e-5)
    }
}

@Suite struct ImageBatchTests {
    @Test func waitingImagesAreEncodedAsOneBatch() async throws {
        let worker = InferenceWorker(embedder: Fixtures.embedder)
        defer { worker.stop() }
        let gate = DispatchSemaphore(value: 0)
        let prepared = try (0..<4).map { try Fixtures.embedder.prepareImage(try Fixtures.sample($0)) }
        let started = Flag()
        async let held: Void = worker.run { started.set(); gate.wait() }
        while !started.isSet { try await Task.sleep(nanoseconds: 1_000_000) }
        var tasks: [Task<[Float], Error>] = []
        for p in prepared { tasks.append(Task { try await worker.embed(image: p) }) }
        while worker.queuedImages < prepared.count { try await Task.sleep(nanoseconds: 1_000_000) }
        gate.signal()
        try await held
        var got: [[Float]] = []
        for t in tasks { got.append(try await t.value) }
        #expect(worker.imageBatches == 1)
        #expect(worker.imagesEncoded == 4)
        let single = try Fixtures.embedder.embedImages([prepared[2]])
        let maxDiff = zip(got[2], single.row(0)).map { abs($0 - $1) }.max() ?? 1
        #expect(maxDiff < 1e-5)
    }
}

/// A one-way flag set on one thread and polled from a task.
final class Flag: @unchecked Sendable {
    private let lock = NSLockLike()
    private var value = false
    func set() { lock.locked { value = true } }
    var isSet: Bool { lock.locked { value } }
}

@Suite struct LingerTests {
    /// After a batch of 6, the thread waits (up to its linger) for 6 texts: clients that come back one by one
    /// within the linger are encoded as one batch, not 6.
    /// (The linger is 30 s so that a loaded machine — the whole suite runs in parallel — cannot let it run out
    /// between the two rounds; a linger that did not wait would still show as 6 batches, not 2.)
    @Test func clientsComingBackTogetherShareABatch() async throws {
        let worker = InferenceWorker(embedder: Fixtures.embedder, maxTextBatch: 32, lingerSeconds: 30)
        defer { worker.stop() }
        let gate = DispatchSemaphore(value: 0)
        let started = Flag()
        async let held: Void = worker.run { started.set(); gate.wait() }
        while !started.isSet { try await Task.sleep(nanoseconds: 1_000_000) }
        let first = (0..<6).map { i in Task { try await worker.embed(text: "first \(i)") } }
        while worker.queuedTexts < 6 { try await Task.sleep(nanoseconds: 1_000_000) }
        gate.signal()
        try await held
        for t in first { _ = try await t.value }
        #expect(worker.textBatches == 1)
        var second: [Task<[Float], Error>] = []
        for i in 0..<6 {
            second.append(Task { try await worker.embed(text: "second \(i)") })
            try await Task.sleep(nanoseconds: 20_000_000)  // one by one, 20 ms apart
        }
        for t in second { _ = try await t.value }
        #expect(worker.textBatches == 2)
        #expect(worker.textsEncoded == 12)
    }

    /// One client at a time is never held back: its text alone meets the target the last batch (of 1) set.
    /// (With a 60 s linger, any waiting would take five queries past the one-minute limit.)
    @Test(.timeLimit(.minutes(1))) func aLoneClientIsNotHeldBack() async throws {
        let worker = InferenceWorker(embedder: Fixtures.embedder, maxTextBatch: 32, lingerSeconds: 60)
        defer { worker.stop() }
        for i in 0..<5 { _ = try await worker.embed(text: "query \(i)") }
        #expect(worker.textBatches == 5)
    }
}

/// An embedder that records its calls and can hold image calls until released.
final class RecordingEmbedder: Embedder, @unchecked Sendable {
    let base: any Embedder
    private let lock = NSLockLike()
    private var log: [String] = []
    private var inImage = false
    let release = DispatchSemaphore(value: 0)
    private var holdImages = true
    func stopHolding() { lock.locked { holdImages = false } }

    init(_ base: any Embedder) { self.base = base }
    var dimension: Int { base.dimension }
    var modelName: String { base.modelName }
    var calls: [String] { lock.locked { log } }
    var insideImageCall: Bool { lock.locked { inImage } }
    func prepareImage(_ bytes: [UInt8]) throws -> PreparedImage { try base.prepareImage(bytes) }
    func embedImages(_ images: [PreparedImage]) throws -> Matrix {
        lock.locked { log.append("images \(images.count)"); inImage = true }
        if lock.locked({ holdImages }) { release.wait() }
        defer { lock.locked { inImage = false } }
        return try base.embedImages(images)
    }
    func embedTexts(_ texts: [String]) throws -> Matrix {
        lock.locked { log.append("texts \(texts.count)") }
        return try base.embedTexts(texts)
    }
}

@Suite struct TextsAheadOfImagesTests {
    /// While texts are being served, queued images go one per encoder call and a text that arrives meanwhile is
    /// encoded before the next image. Without text traffic the same queue is one batch (the control below,
    /// and ImageBatchTests).
    @Test(arguments: [true, false])
    func aTextWaitsForOneImageNotForTheQueue(textsActive: Bool) async throws {
        let rec = RecordingEmbedder(Fixtures.embedder)
        // A minute of "texts active": a loaded machine (the suite runs in parallel) cannot let it lapse mid-test.
        let worker = InferenceWorker(embedder: rec, textActiveSeconds: 60)
        defer { worker.stop() }
        if textsActive { _ = try await worker.embed(text: "a text just served") }
        let prepared = try (0..<4).map { try Fixtures.embedder.prepareImage(try Fixtures.sample($0)) }
        let gate = DispatchSemaphore(value: 0)
        let started = Flag()
        async let held: Void = worker.run { started.set(); gate.wait() }
        while !started.isSet { try await Task.sleep(nanoseconds: 1_000_000) }
        let images = prepared.map { p in Task { try await worker.embed(image: p) } }
        while worker.queuedImages < prepared.count { try await Task.sleep(nanoseconds: 1_000_000) }
        gate.signal()
        try await held
        while !rec.insideImageCall { try await Task.sleep(nanoseconds: 1_000_000) }
        let text = Task { try await worker.embed(text: "a query arriving while an image encodes") }
        while worker.queuedTexts < 1 { try await Task.sleep(nanoseconds: 1_000_000) }
        rec.stopHolding()
        rec.release.signal()
        _ = try await text.value
        for t in images { _ = try await t.value }
        let afterFirst = Array(rec.calls.drop(while: { $0.hasPrefix("texts") }))
        if textsActive {
            #expect(afterFirst.prefix(2) == ["images 1", "texts 1"], "\(rec.calls)")
            #expect(afterFirst.filter { $0 == "images 1" }.count == 4, "\(rec.calls)")
        } else {
            #expect(afterFirst.prefix(2) == ["images 4", "texts 1"], "\(rec.calls)")
        }
    }
}
