// kill -9 the real `clipwb ingest` part-way (after some commits, and while it builds the index),
// open the catalog (consistent, nothing reported as committed lost), re-run, and compare with an
// uninterrupted ingestion: same images, same embeddings, a complete index.
import ClipCore
import ClipSearch
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct CrashSafetyTests {
    /// The clipwb binary built beside this test bundle (or $CLIPWB).
    static var binary: String {
        if let env = ProcessInfo.processInfo.environment["CLIPWB"], !env.isEmpty { return env }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("clipwb").path
    }

    /// Runs ingest and kills it (SIGKILL) right after stderr shows `killAfter` lines matching `marker`.
    /// Returns the highest id it reported as committed, or nil if it finished first.
    func ingest(_ images: String, _ catalog: String, killAfter: Int?, marker: String = "committed") throws -> (Int?, Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["ingest", images, "--weights", Fixtures.weights, "--catalog", catalog,
                       "--commit-every", "8", "--batch-size", "8", "--trees", "5"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var reported: Int?
        var seen = 0
        var buffer = ""
        let handle = err.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer += String(decoding: chunk, as: UTF8.self)
            while let nl = buffer.firstIndex(of: "\n") {
                let line = String(buffer[..<nl])
                buffer = String(buffer[buffer.index(after: nl)...])
                if line.hasPrefix("committed"), let r = line.range(of: "...") {
                    reported = Int(line[r.upperBound...].prefix { $0.isNumber })
                }
                if line.contains(marker) { seen += 1 }
                if let k = killAfter, seen >= k, p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                }
            }
        }
        p.waitUntilExit()
        return (reported, p.terminationStatus)
    }

    /// Opens the catalog as the server does and checks every invariant.
    func checkConsistent(_ dir: String) throws -> (state: CatalogState, vectors: Matrix) {
        let cat = try Catalog(directory: dir, create: false)
        let state = try cat.state()
        let vectors = try cat.loadEmbeddings(state)
        #expect(vectors.rows == state.imageCount)
        if let index = try cat.loadIndex(state) { #expect(index.index.count == state.indexCount) }
        let ids = try cat.images(ids: Array(0..<state.imageCount))
        #expect(ids.count == state.imageCount)
        #expect(Set(ids.values.map(\.sha256)).count == state.imageCount)
        return (state, vectors)
    }

    @Test func killedIngestionResumesToTheSameCatalog() async throws {
        let images = try Fixtures.imageFolder(count: 72)
        let clean = Fixtures.tempDir("clean")
        var made = [images, clean]
        defer { for d in made { try? FileManager.default.removeItem(atPath: d) } }
        let (_, status) = try ingest(images, clean, killAfter: nil)
        #expect(status == 0)
        let reference = try checkConsistent(clean)
        #expect(reference.state.imageCount == 72)

        for (killAfter, marker) in [(1, "committed"), (4, "committed"), (1, "building the index")] {
            let dir = Fixtures.tempDir("killed")
            made.append(dir)
            let (reported, killedStatus) = try ingest(images, dir, killAfter: killAfter, marker: marker)
            // Mid-ingestion the kill always lands; the index build may win the race and finish (status 0).
            #expect(killedStatus == SIGKILL || (marker.hasPrefix("building") && killedStatus == 0),
                    "ingest was not killed (\(marker) ×\(killAfter)), status \(killedStatus)")
            let afterKill = try checkConsistent(dir)
            if let reported { #expect(afterKill.state.imageCount >= reported + 1, "reported ids up to \(reported) committed") }
            // The server opens the interrupted catalog and answers over everything committed
            // (rows the index lacks are searched exactly while it rebuilds the index).
            let service = try SearchService(catalog: try Catalog(directory: dir, create: false), embedder: Fixtures.embedder)
            let n = afterKill.state.imageCount
            if n > 1 { #expect(try service.similar(to: 0, offset: 0, limit: 100).results.count == min(100, n - 1)) }
            await service.waitForRebuilds()
            #expect(service.indexedCount == n)
            let (_, resumed) = try ingest(images, dir, killAfter: nil)
            #expect(resumed == 0)
            let final = try checkConsistent(dir)
            #expect(final.state.imageCount == 72)
            #expect(final.state.indexCount == 72)
            try expectSameEmbeddings(final, dir, reference, clean)
        }
    }

    /// Same sha256 set, and each image's embedding equal (up to float summation order across batch sizes).
    func expectSameEmbeddings(_ a: (state: CatalogState, vectors: Matrix), _ aDir: String,
                              _ b: (state: CatalogState, vectors: Matrix), _ bDir: String) throws {
        let ra = try Catalog(directory: aDir, create: false).images(ids: Array(0..<a.state.imageCount))
        let rb = try Catalog(directory: bDir, create: false).images(ids: Array(0..<b.state.imageCount))
        let rowOf = Dictionary(uniqueKeysWithValues: rb.values.map { ($0.sha256, $0.id) })
        #expect(Set(ra.values.map(\.sha256)) == Set(rowOf.keys))
        var worst: Float = 0
        for rec in ra.values {
            guard let j = rowOf[rec.sha256] else { continue }
            for (x, y) in zip(a.vectors.row(rec.id), b.vectors.row(j)) { worst = max(worst, abs(x - y)) }
        }
        #expect(worst < 1e-5, "largest embedding difference \(worst)")
    }
}
