// Adding images while serving: store the upload in the catalog's uploads/ folder (atomically),
// embed it, commit it (shard + transaction), make it searchable at once, then rebuild the index
// in the background and swap it in. One rebuild at a time; additions during a rebuild trigger
// one more when it ends.
import ClipCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct AddedImage: Sendable, Codable {
    public var id: Int
    public var sha256: String
    public var width: Int
    public var height: Int
    /// false when the same bytes were already in the catalog (the existing id is returned).
    public var created: Bool
    /// Images in the catalog and in the index at the time of the answer.
    public var total: Int
    public var indexed: Int
}

/// Runs one rebuild at a time on its own thread.
final class Rebuilder: @unchecked Sendable {
    private let lock = NSLockLike()
    private var running = false
    private var again = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    var busy: Bool { lock.locked { running } }

    /// Starts `body` unless one is running, in which case it runs once more afterwards.
    func trigger(_ body: @escaping @Sendable () -> Void) {
        let start: Bool = lock.locked {
            if running { again = true; return false }
            running = true
            return true
        }
        guard start else { return }
        let t = Thread { [self] in
            while true {
                body()
                let done: [CheckedContinuation<Void, Never>]? = lock.locked {
                    if again { again = false; return nil }
                    running = false
                    defer { waiters = [] }
                    return waiters
                }
                if let done { done.forEach { $0.resume() }; return }
            }
        }
        t.name = "clipwb-rebuild"
        t.start()
    }

    /// Returns when no rebuild is running.
    func idle() async {
        await withCheckedContinuation { c in
            let now: Bool = lock.locked {
                if !running { return true }
                waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}

extension SearchService {
    /// Stores, embeds and commits one uploaded image; the index catches up in the background.
    public func add(imageBytes bytes: [UInt8]) async throws -> AddedImage {
        guard let format = ImageFormat(magic: bytes) else {
            throw SearchError.unsupportedUpload(bytes)
        }
        let sha = SHA256.hexDigest(bytes)
        let (catalog, embedder) = (self.catalog, self.embedder)
        // Additions are serialized on the inference thread, so ids and snapshots stay in order.
        let added: AddedImage = try await worker.run { [self] in
            if let id = try catalog.id(forDigest: sha), let rec = try catalog.image(id: id) {
                let snap = current()
                return AddedImage(id: id, sha256: sha, width: rec.width, height: rec.height, created: false,
                                  total: snap.vectors.rows, indexed: snap.indexedCount)
            }
            let p = try embedder.prepareImage(bytes)
            let v = try embedder.embedImages([p])
            let name = "\(sha).\(format.fileExtension)"
            let file = catalog.uploadsDirectory + "/" + name
            try AtomicFile.write(file, chunks: [bytes])
            let rec: ImageRecord
            do {
                rec = try catalog.commit([NewImage(root: "uploads", path: name, sha256: sha, width: p.width, height: p.height)],
                                         embeddings: v)[0]
            } catch {
                try? FileManager.default.removeItem(atPath: file)  // no file without its catalog row
                throw error
            }
            let old = current()
            let snap: Snapshot
            if rec.id == old.vectors.rows {
                snap = Snapshot(index: old.index, vectors: old.vectors.appending(v))
            } else {
                // Another writer (`clipwb ingest`) committed rows since this snapshot: take them all, so
                // the id answered here is searchable at once.
                snap = Snapshot(index: old.index, vectors: try catalog.mapEmbeddings(try catalog.state()))
            }
            install(snap)
            return AddedImage(id: rec.id, sha256: sha, width: p.width, height: p.height, created: true,
                              total: snap.vectors.rows, indexed: snap.indexedCount)
        }
        if added.created { scheduleRebuild() }
        return added
    }

    /// Rebuilds the index over all committed embeddings and swaps it in. The rebuild runs on this one thread
    /// at a low CPU priority (nice + 10 for this thread alone; Linux nice values are per thread), so requests keep
    /// the other cores and win the shared one: at a million items a rebuild takes minutes, and with both
    /// cores building, searches waited behind it (p99 593 ms, `make bench-scale`). One build thread makes
    /// another forest than ingestion's two (equally good; the sidecar records the count).
    func scheduleRebuild() {
        rebuilds.trigger { [self] in
            ThreadPriority.lowerCurrent(by: 10)
            do {
                let state = try catalog.state()
                let vectors = try catalog.mapEmbeddings(state)
                let loaded = try catalog.commitIndex(vectors: vectors.matrix(), parameters: parameters, threads: 1)
                // Keep rows added after `state` was read (they stay in the exact tail).
                let now = current()
                install(Snapshot(index: loaded, vectors: now.vectors.rows >= vectors.rows ? now.vectors : vectors))
            } catch {
                FileHandle.standardError.write(Data("error: index rebuild failed: \(error)\n".utf8))
            }
        }
    }

    /// Waits until no rebuild is running (tests, shutdown).
    public func waitForRebuilds() async { await rebuilds.idle() }
}
