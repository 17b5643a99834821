// Embedding past one process: the I-th of N deterministic slices of a sorted file list becomes a shard
// (float32 .npy, names, manifest), written in checkpointed chunks so a killed task resumes where it stopped
// and a finished shard is not redone; `merge` checks every shard and writes the global order, bit-identical
// to one process embedding the whole list (each image's embedding does not depend on its batch).
import ClipCore
import Foundation

/// Shard I of N.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw SearchError("shard.spec", "a shard is I/N with 0 ≤ I < N and N ≥ 1, got \(index)/\(count)")
        }
        (self.index, self.count) = (index, count)
    }

    /// "I/N".
    public init(parsing s: String) throws {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw SearchError("shard.spec", "--shard takes I/N (e.g. 0/4 for the first of four), got '\(s)'")
        }
        try self.init(index: i, count: n)
    }

    /// Slurm's SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or Kubernetes' JOB_COMPLETION_INDEX with `count`.
    /// An array submitted as `--array=1-4` counts from its SLURM_ARRAY_TASK_MIN.
    public static func fromEnvironment(_ env: [String: String], count: Int?) throws -> ShardSpec {
        if let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) {
            let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
            guard let n = count ?? env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
                throw SearchError("shard.env", "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT; pass --shard-count")
            }
            return try ShardSpec(index: id - min, count: n)
        }
        if let id = env["JOB_COMPLETION_INDEX"].flatMap(Int.init) {
            guard let count else {
                throw SearchError("shard.env", "JOB_COMPLETION_INDEX is set: pass --shard-count (the Job's completions)")
            }
            return try ShardSpec(index: id, count: count)
        }
        throw SearchError("shard.env", "--shard-from-env needs SLURM_ARRAY_TASK_ID (a Slurm array task) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
    }

    /// The items of a list of `n` this shard embeds: contiguous, every item in exactly one shard, and
    /// starting on a multiple of `align` (the encoder batch), so every batch holds the same images as in
    /// one process over the whole list and the embeddings come out bit for bit the same.
    public func slice(_ n: Int, align: Int = 1) -> Range<Int> {
        let b = max(1, align)
        let blocks = (n + b - 1) / b
        return min(n, index * blocks / count * b)..<min(n, (index + 1) * blocks / count * b)
    }

    public var description: String { "\(index)/\(count)" }
    var stem: String { String(format: "shard-%05d-of-%05d", index, count) }
}

/// What a shard (or a merged file) holds and how it was made; the last file written, so its presence
/// with `complete` means the data beside it is whole.
public struct ShardManifest: Codable, Sendable, Equatable {
    public var format = "clipwb-embedding-shard"
    public var version = 1
    public var shard: Int
    public var shards: Int
    public var weightsSha256: String
    /// The model's configuration, as the weights file states it.
    public var spec: String
    /// sha256 of the whole sorted list ("\n"-joined) and its length.
    public var listSha256: String
    public var listCount: Int
    /// The slice of the list this shard covers.
    public var first: Int
    public var end: Int
    /// Rows in the .npy (the slice minus skipped files).
    public var rows: Int
    public var dimension: Int
    /// Images per encoder batch; shards to be merged share it (slices start on its multiples).
    public var batchSize: Int
    public var skipped: [SkippedFile]
    public var complete: Bool
}

/// The model a shard is made with: its weights' digest, its configuration, and how to embed a list.
public struct ShardModel {
    public var weightsSha256: String
    public var spec: String
    public var dimension: Int
    /// The encoder batch `embed` uses, in batches from the first path it is given.
    public var batchSize: Int
    /// Paths → (embeddings of the readable ones in order, their paths, the unreadable with why).
    public var embed: ([String]) throws -> (Matrix, [String], [SkippedFile])

    public init(weightsSha256: String, spec: String, dimension: Int, batchSize: Int,
                embed: @escaping ([String]) throws -> (Matrix, [String], [SkippedFile])) {
        (self.weightsSha256, self.spec, self.dimension, self.batchSize, self.embed) = (weightsSha256, spec, dimension, batchSize, embed)
    }
}

public enum Shards {
    public static func listDigest(_ list: [String]) -> String { SHA256.hexDigest(Array(list.joined(separator: "\n").utf8)) }

    static func paths(_ dir: String, _ stem: String) -> (npy: String, names: String, manifest: String) {
        (dir + "/" + stem + ".npy", dir + "/" + stem + ".names.txt", dir + "/" + stem + ".json")
    }

    static func readManifest(_ path: String) -> ShardManifest? {
        guard let bytes = try? RegularFile.contents(path) else { return nil }
        return try? JSONStyle.decoder().decode(ShardManifest.self, from: Data(bytes))
    }

    static func writeManifest(_ m: ShardManifest, to path: String) throws {
        try AtomicFile.write(path, chunks: [Array(try JSONStyle.encoder().encode(m)) + [10]])
    }

    public static func writeNames(_ names: [String], to path: String) throws {
        let escaped = names.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n") }
        try AtomicFile.write(path, chunks: [Array((escaped.map { $0 + "\n" }.joined()).utf8)])
    }

    public static func readNames(_ path: String) throws -> [String] {
        let text = String(decoding: try RegularFile.contents(path), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            $0.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\\", with: "\\")
        }
    }

    public enum Outcome: Equatable { case embedded, resumed(chunksKept: Int), alreadyComplete }

    /// Embeds shard `spec` of `list` (sorted by the caller) into `dir`, `checkpointEvery` items per chunk.
    /// `afterChunk` runs after each chunk is durable (progress; tests stop there to play a kill).
    public static func run(list: [String], spec: ShardSpec, dir: String, model: ShardModel, checkpointEvery: Int = 1024,
                           afterChunk: (Int) throws -> Void = { _ in }) throws -> (ShardManifest, Outcome) {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let listSha = listDigest(list)
        let range = spec.slice(list.count, align: model.batchSize)
        // Chunks are whole batches too.
        let every = max(1, (checkpointEvery + model.batchSize - 1) / model.batchSize) * model.batchSize
        let final = paths(dir, spec.stem)
        func manifest(first: Int, end: Int, rows: Int, skipped: [SkippedFile], complete: Bool) -> ShardManifest {
            ShardManifest(shard: spec.index, shards: spec.count, weightsSha256: model.weightsSha256, spec: model.spec,
                          listSha256: listSha, listCount: list.count, first: first, end: end, rows: rows,
                          dimension: model.dimension, batchSize: model.batchSize, skipped: skipped, complete: complete)
        }
        if let done = readManifest(final.manifest), done.complete {
            guard done.listSha256 == listSha, done.weightsSha256 == model.weightsSha256, done.shards == spec.count,
                  done.batchSize == model.batchSize else {
                throw SearchError("shard.other-run", "'\(final.manifest)' is a finished shard of another list or other weights; use an empty --out folder")
            }
            return (done, .alreadyComplete)
        }
        var data: [Float] = [], names: [String] = [], skipped: [SkippedFile] = []
        var kept = 0, chunk = 0
        for start in stride(from: range.lowerBound, to: range.upperBound, by: every) {
            let end = min(range.upperBound, start + every)
            let part = paths(dir, spec.stem + String(format: ".chunk-%06d", chunk))
            if let m = readManifest(part.manifest), m.complete, m.first == start, m.end == end, m.listSha256 == listSha,
               m.weightsSha256 == model.weightsSha256, let rows = try? NPY.readMatrix(part.npy), rows.rows == m.rows,
               let n = try? readNames(part.names), n.count == m.rows {
                data += rows.data
                names += n
                skipped += m.skipped
                kept += 1
            } else {
                let (e, n, s) = try model.embed(Array(list[start..<end]))
                try NPY.write(Matrix(rows: n.count, cols: model.dimension, data: e.data), to: part.npy)
                try writeNames(n, to: part.names)
                try writeManifest(manifest(first: start, end: end, rows: n.count, skipped: s, complete: true), to: part.manifest)
                data += e.data
                names += n
                skipped += s
            }
            try afterChunk(chunk)
            chunk += 1
        }
        try NPY.write(Matrix(rows: names.count, cols: model.dimension, data: data), to: final.npy)
        try writeNames(names, to: final.names)
        let m = manifest(first: range.lowerBound, end: range.upperBound, rows: names.count, skipped: skipped, complete: true)
        try writeManifest(m, to: final.manifest)
        for c in 0..<chunk {
            let part = paths(dir, spec.stem + String(format: ".chunk-%06d", c))
            for f in [part.manifest, part.npy, part.names] { try? FileManager.default.removeItem(atPath: f) }
        }
        // A task killed in the middle of a write (scancel --signal=KILL, OOM) leaves that write's temporary
        // file. Only this shard's: another task may be writing its own now.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where name.hasPrefix(spec.stem + ".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
        return (m, kept > 0 ? .resumed(chunksKept: kept) : .embedded)
    }

    /// Checks the shards in `dir` (all present, complete, one list, one model) and writes them in the
    /// list's order to `out` (.npy), its names file and a manifest of the whole.
    public static func merge(dir: String, out: String) throws -> ShardManifest {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        let finals = files.filter { $0.hasPrefix("shard-") && $0.hasSuffix(".json") && !$0.contains(".chunk-") }
        guard let firstName = finals.first, let head = readManifest(dir + "/" + firstName) else {
            throw SearchError("merge.empty", "'\(dir)' holds no shard manifests (shard-I-of-N.json); run `clipwb embed --shard I/N --out \(dir)` first")
        }
        var parts: [ShardManifest] = []
        for i in 0..<head.shards {
            let spec = try ShardSpec(index: i, count: head.shards)
            let p = paths(dir, spec.stem)
            guard let m = readManifest(p.manifest) else {
                let chunks = files.filter { $0.hasPrefix(spec.stem + ".chunk-") && $0.hasSuffix(".json") }.count
                throw SearchError(chunks > 0 ? "merge.partial-shard" : "merge.missing-shard", chunks > 0
                    ? "shard \(spec) is partial: \(chunks) chunk(s) written, not finished; rerun that task (it resumes)"
                    : "shard \(spec) is missing from '\(dir)' (no \(spec.stem).json); run that task")
            }
            guard m.complete, m.shards == head.shards, m.shard == i else {
                throw SearchError("merge.partial-shard", "shard \(spec) is partial (its manifest is not complete); rerun that task")
            }
            guard m.weightsSha256 == head.weightsSha256, m.spec == head.spec else {
                throw SearchError("merge.other-weights", "shard \(spec) was made with other weights (sha256 \(m.weightsSha256.prefix(12))…) than shard \(head.shard)/\(head.shards) (\(head.weightsSha256.prefix(12))…)")
            }
            guard m.batchSize == head.batchSize else {
                throw SearchError("merge.other-batch", "shard \(spec) was embedded in batches of \(m.batchSize), shard \(head.shard)/\(head.shards) in batches of \(head.batchSize); rerun it with --batch-size \(head.batchSize)")
            }
            guard m.listSha256 == head.listSha256, m.listCount == head.listCount else {
                throw SearchError("merge.other-list", "shard \(spec) was made from another file list (\(m.listCount) files, sha256 \(m.listSha256.prefix(12))…) than shard \(head.shard)/\(head.shards)")
            }
            parts.append(m)
        }
        var data: [Float] = [], names: [String] = [], skipped: [SkippedFile] = []
        for m in parts {
            let p = paths(dir, try ShardSpec(index: m.shard, count: m.shards).stem)
            let x = try NPY.readMatrix(p.npy)
            let n = try readNames(p.names)
            guard x.rows == m.rows, n.count == m.rows, x.cols == m.dimension || m.rows == 0 else {
                throw SearchError("merge.partial-shard", "shard \(m.shard)/\(m.shards) is damaged: its manifest says \(m.rows) rows, its files hold \(x.rows) and \(n.count) names")
            }
            data += x.data
            names += n
            skipped += m.skipped
        }
        guard out.hasSuffix(".npy") else { throw SearchError("merge.out", "--out must name a .npy file, got '\(out)'") }
        try NPY.write(Matrix(rows: names.count, cols: head.dimension, data: data), to: out)
        try writeNames(names, to: String(out.dropLast(4)) + ".names.txt")
        var whole = head
        (whole.shard, whole.shards, whole.first, whole.end, whole.rows, whole.skipped) = (0, 1, 0, head.listCount, names.count, skipped)
        try writeManifest(whole, to: String(out.dropLast(4)) + ".json")
        return whole
    }
}
