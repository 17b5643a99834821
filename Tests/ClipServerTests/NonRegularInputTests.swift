// Issue 12, item 10a: a FIFO (or device) given as any input — vectors, queries, image, weights, texts,
// an HDF5 file, an ingested image — is refused at once with "… is not a regular file", never read
// (a FIFO with no writer blocks open(2) forever). Here because this target sees every library.
// Item 10c: the catalog index the server loads is a private copy, so truncating its file is harmless.
import AnnoyIndex
import ClipCore
import ClipEval
import ClipImage
@testable import ClipSearch
import ClipTokenizer
import ClipWeights
import Foundation
import Testing

@Suite struct NonRegularInputTests {
    let dir = Fixtures.tempDir("fifo")

    final class Outcome: @unchecked Sendable { var message: String? }

    /// Runs `body` on its own thread. If it is still running after a second — blocked on the FIFO —
    /// opens the FIFO's write end (which releases a blocked reader) until it returns, and says so.
    func read(_ fifo: String, _ body: @escaping @Sendable () throws -> Void) -> (blocked: Bool, message: String?) {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        Thread {
            do { try body() } catch let e as ClipwbError { outcome.message = e.message } catch { outcome.message = "\(error)" }
            done.signal()
        }.start()
        var blocked = false
        while done.wait(timeout: .now() + 1) == .timedOut {
            blocked = true
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        return (blocked, outcome.message)
    }

    static let readers: [(String, String, @Sendable (String) throws -> Void)] = [
        ("npy vectors", "v.npy", { _ = try NPYFile(path: $0) }),
        ("index or weights file read into memory", "w.bin", { _ = try MappedFile(path: $0, backing: .privateCopy) }),
        ("eval vectors (.npy)", "q.npy", { _ = try VectorFiles.readFloats($0) }),
        ("eval vectors (ann-benchmarks HDF5)", "a.hdf5", { _ = try VectorFiles.readFloats($0 + ":train") }),
        ("weights", "w.h5", { _ = try CLIPWeights.load(path: $0) }),
        ("HDF5 file", "r.h5", { _ = try HDF5File(path: $0) }),
        ("image", "i.jpg", { _ = try ImageDecoder.decode(path: $0) }),
        ("texts", "t.txt", { _ = try TextFile.readLines($0) }),
        ("ingested image", "p.png", { _ = try FolderWalk.read($0) }),
        ("any file's bytes", "b.bin", { _ = try RegularFile.contents($0) }),
        ("index sidecar", "x.ann.json", { _ = try IndexSidecar.read(for: String($0.dropLast(5))) }),
    ]

    @Test(arguments: readers.indices)
    func fifoInputIsRefusedWithoutBlocking(_ r: Int) {
        let (what, name, body) = Self.readers[r]
        let fifo = dir + "/" + name
        #expect(mkfifo(fifo, 0o600) == 0)
        let got = read(fifo) { try body(fifo) }
        #expect(!got.blocked, "reading a FIFO as the \(what) blocked")
        #expect(got.message?.contains("'\(fifo)' is not a regular file (it is a named pipe (FIFO))") == true,
                "\(what): \(got.message ?? "no error")")
    }

    @Test func catalogIndexOutlivesItsFileBeingTruncated() throws {
        let (cat, _, _) = try Fixtures.catalog(count: 6)
        let state = try cat.state()
        let loaded = try #require(try cat.loadIndex(state))
        let query = try cat.loadEmbeddings(state).row(2)
        let before = try loaded.index.nearest(to: Array(query), n: 3)
        #expect(truncate(cat.indexDirectory + "/" + loaded.file, 0) == 0)  // what a `cp` over it does first
        #expect(try loaded.index.nearest(to: Array(query), n: 3).map(\.id) == before.map(\.id))
        #expect(before.first?.id == 2)
    }
}
