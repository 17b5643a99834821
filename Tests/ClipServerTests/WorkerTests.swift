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
