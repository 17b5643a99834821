// Sharded embedding (issue 14 items 1-2): slices, checkpointed chunks that a rerun resumes from, a finished
// shard not redone, and a merge that is bit-identical to one pass and refuses missing, partial and
// other-weights shards by name.
import ClipCore
@testable import ClipSearch
import Foundation
import Testing

@Suite struct ShardTests {
    struct Stop: Error {}

    func model(sha: String = "w-sha", calls: Counter = Counter()) -> ShardModel {
        ShardModel(weightsSha256: sha, spec: "tiny", dimension: Fixtures.embedder.dimension, batchSize: 2) { paths in
            calls.n += paths.count
            var kept: [String] = [], data: [Float] = [], skipped: [SkippedFile] = []
            for start in stride(from: 0, to: paths.count, by: 2) {  // batches of 2, as batchSize says
                var prepared: [PreparedImage] = []
                for p in paths[start..<min(paths.count, start + 2)] {
                    do { prepared.append(try Fixtures.embedder.prepareImage(FolderWalk.read(p))); kept.append(p) } catch let e as ClipwbError {
                        skipped.append(SkippedFile(path: p, reason: e.message))
                    }
                }
                if !prepared.isEmpty { data += try Fixtures.embedder.embedImages(prepared).data }
            }
            return (Matrix(rows: kept.count, cols: Fixtures.embedder.dimension, data: data), kept, skipped)
        }
    }

    final class Counter: @unchecked Sendable { var n = 0 }

    func list(_ count: Int) throws -> [String] {
        try Fixtures.sampleFiles().prefix(count).map { Fixtures.samples + "/" + $0 }
    }

    @Test func slicesCoverTheListOnce() throws {
        for (n, shards, align) in [(0, 3, 1), (1, 4, 1), (10, 3, 1), (201, 4, 16), (7, 7, 1), (5, 8, 2), (100, 3, 16)] {
            var covered: [Int] = []
            for i in 0..<shards {
                let s = try ShardSpec(index: i, count: shards).slice(n, align: align)
                #expect(s.isEmpty || s.lowerBound % align == 0)
                covered += Array(s)
            }
            #expect(covered == Array(0..<n), "\(n) items in \(shards) shards")
        }
        #expect(throws: SearchError.self) { try ShardSpec(parsing: "4/4") }
        #expect(throws: SearchError.self) { try ShardSpec(parsing: "1-4") }
        let slurm = try ShardSpec.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"], count: nil)
        #expect(slurm == (try ShardSpec(index: 2, count: 4)))
        #expect(try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: 3) == (try ShardSpec(index: 1, count: 3)))
        #expect(throws: SearchError.self) { try ShardSpec.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: nil) }
    }

    @Test func interruptedShardResumesAndMergeEqualsOnePass() throws {
        let files = try list(30)
        let dir = Fixtures.tempDir("shards")
        let calls = Counter()
        // Task 1/3 (items 10..<20 with batches of 2) "dies" after its second chunk of 4: a rerun keeps those
        // and embeds the rest.
        let spec = try ShardSpec(index: 1, count: 3)
        #expect(throws: Stop.self) {
            _ = try Shards.run(list: files, spec: spec, dir: dir, model: model(calls: calls), checkpointEvery: 4) { c in
                if c == 1 { throw Stop() }
            }
        }
        #expect(calls.n == 8)
        // A kill in the middle of a write leaves that write's temporary file (seen in CI: SIGKILL from scancel).
        // The rerun removes its own shard's leftovers and no other shard's (that task may be writing it now).
        let stale = dir + "/" + spec.stem + ".chunk-000002.npy.tmp-99999"
        let others = dir + "/shard-00000-of-00003.chunk-000000.npy.tmp-99998"
        for f in [stale, others] { #expect(FileManager.default.createFile(atPath: f, contents: Data([1, 2, 3]))) }
        let (m, outcome) = try Shards.run(list: files, spec: spec, dir: dir, model: model(calls: calls), checkpointEvery: 4)
        #expect(outcome == .resumed(chunksKept: 2))
        #expect(calls.n == 10)  // only the last 2 of the slice's 10 items were embedded again
        #expect(m.first == 10 && m.end == 20 && m.rows == 10 && m.complete)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == [
            "shard-00000-of-00003.chunk-000000.npy.tmp-99998",
            spec.stem + ".json", spec.stem + ".names.txt", spec.stem + ".npy",
        ])
        try FileManager.default.removeItem(atPath: others)
        let (_, again) = try Shards.run(list: files, spec: spec, dir: dir, model: model(calls: calls), checkpointEvery: 4)
        #expect(again == .alreadyComplete && calls.n == 10)

        // Merge refuses until every shard is there, then equals one pass over the whole list.
        #expect(throws: SearchError.self) { try Shards.merge(dir: dir, out: dir + "/all.npy") }
        do { _ = try Shards.merge(dir: dir, out: dir + "/all.npy") } catch let e as SearchError {
            #expect(e.code == "merge.missing-shard" && e.message.contains("shard 0/3 is missing"))
        }
        for i in [0, 2] { _ = try Shards.run(list: files, spec: try ShardSpec(index: i, count: 3), dir: dir, model: model(), checkpointEvery: 7) }
        let merged = try Shards.merge(dir: dir, out: dir + "/all.npy")
        #expect(merged.rows == 30)
        // One pass over the whole list in the same batches of 2: the same bits.
        var whole: [Float] = []
        for start in stride(from: 0, to: files.count, by: 2) {
            let batch = files[start..<min(files.count, start + 2)]
            whole += try Fixtures.embedder.embedImages(batch.map { try Fixtures.embedder.prepareImage(FolderWalk.read($0)) }).data
        }
        let got = try NPY.readMatrix(dir + "/all.npy")
        #expect(got.data == whole)  // bit-identical
        #expect(try Shards.readNames(dir + "/all.names.txt") == files)
    }

    @Test func mergeNamesAPartialShardAndOneMadeWithOtherWeights() throws {
        let files = try list(12)
        let dir = Fixtures.tempDir("shards-bad")
        _ = try Shards.run(list: files, spec: try ShardSpec(index: 0, count: 3), dir: dir, model: model(), checkpointEvery: 2)
        #expect(throws: (any Error).self) {
            _ = try Shards.run(list: files, spec: try ShardSpec(index: 1, count: 3), dir: dir, model: model(), checkpointEvery: 2) { c in
                if c == 0 { throw Stop() }
            }
        }
        _ = try Shards.run(list: files, spec: try ShardSpec(index: 2, count: 3), dir: dir, model: model(sha: "other-sha"), checkpointEvery: 2)
        func code() -> String? {
            do { _ = try Shards.merge(dir: dir, out: dir + "/all.npy"); return nil } catch let e as SearchError { return e.code + ": " + e.message } catch { return "\(error)" }
        }
        #expect(code()?.hasPrefix("merge.partial-shard: shard 1/3 is partial") == true, "\(code() ?? "merged")")
        _ = try Shards.run(list: files, spec: try ShardSpec(index: 1, count: 3), dir: dir, model: model(), checkpointEvery: 2)
        #expect(code()?.hasPrefix("merge.other-weights: shard 2/3 was made with other weights") == true, "\(code() ?? "merged")")
        #expect(!FileManager.default.fileExists(atPath: dir + "/all.npy"))
    }
}
