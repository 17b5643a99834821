// `clipwb embed`: CLIP embeddings of images or texts (encode_image / encode_text), as .npy or JSON.
import ArgumentParser
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipSearch
import ClipTokenizer
import ClipWeights
import Foundation

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed images or texts with a CLIP model; shard a large list and merge the shards.",
        subcommands: [EmbedRun.self, EmbedMerge.self],
        defaultSubcommand: EmbedRun.self)
}

struct EmbedRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Embed images or texts with a CLIP model (encode_image / encode_text); `clipwb embed …` runs this.",
        discussion: """
        Images are decoded and preprocessed exactly as OpenAI's CLIP does (PIL bicubic resize, center crop, \
        normalize), texts tokenized as clip.tokenize(truncate=True). Embeddings are the model's raw outputs \
        (not normalized unless --normalize), one row per input in input order. With --out the rows go to a \
        float32 .npy file (and their names to OUT.names.txt); otherwise, or with --json, they are printed as \
        JSON. A folder given to --images stands for every image below it (by magic bytes), sorted; an \
        unreadable image is skipped and listed (--strict stops at it).

        Sharding: with --shard I/N (or --shard-from-env in a Slurm array task or a Kubernetes Indexed Job) \
        only the I-th of N contiguous slices of the sorted list is embedded, into the folder --out, in \
        checkpointed chunks (a killed task rerun continues; a finished shard is not redone). \
        `clipwb embed merge DIR --out all.npy` checks the shards and writes them in the list's order, \
        bit-identical to one process embedding the whole list.
        """
    )

    @Option(help: "The weights file (clip-hdf5 .h5 or .safetensors).")
    var weights: String

    @Option(parsing: .upToNextOption, help: "Image files or directories to embed.")
    var images: [String] = []

    @Option(help: "A file listing image paths, one per line (instead of --images).")
    var list: String?

    @Option(help: "Embed only shard I of N (0-based) of the sorted image list into the folder --out.")
    var shard: String?

    @Flag(help: "Take the shard from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX (with --shard-count).")
    var shardFromEnv = false

    @Option(help: "N for --shard-from-env when the environment does not give it (Kubernetes).")
    var shardCount: Int?

    @Option(help: "Images per checkpointed chunk of a shard.")
    var checkpointEvery = 1024

    @Option(name: .customLong("text"), help: "A text to embed (repeat for more).")
    var text: [String] = []

    @Option(name: .customLong("texts"), help: "A UTF-8 file with one text per line.")
    var textsFile: String?

    @Option(help: "Write the embeddings to this float32 .npy file [count, embed_dim].")
    var out: String?

    @Flag(help: "L2-normalize each embedding (as CLIP does before its cosine logits).")
    var normalize = false

    @Flag(help: "Print {kind, count, dim, normalized, names, embeddings} as JSON.")
    var json = false

    @Option(help: "Half-precision weights: 'direct' (the encoders read float16 as stored; fast load, half the memory) or 'widen' (to float32 at load).")
    var halves: HalfWeights = .standard

    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Inputs per forward pass (--batch is the old name).")
    var batch: Int = 16

    @Flag(help: "Stop at the first image that cannot be read or decoded (default: skip it, list it on stderr, go on).")
    var strict = false

    func validate() throws {
        let sources = [!images.isEmpty, !text.isEmpty, textsFile != nil, list != nil].filter { $0 }.count
        if sources != 1 {
            throw ValidationError("pass exactly one input: --images PATH..., --list FILE, --text \"...\" (repeatable) or --texts FILE")
        }
        if shard != nil || shardFromEnv {
            guard images.isEmpty == false || list != nil else { throw ValidationError("--shard shards images: pass --images or --list") }
            guard out != nil else { throw ValidationError("--shard needs --out FOLDER (the shard's files go there)") }
            guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
            if shard != nil && shardFromEnv { throw ValidationError("pass --shard I/N or --shard-from-env, not both") }
        }
        if batch < 1 { throw ValidationError("--batch-size must be at least 1, got \(batch)") }
        if shard == nil && !shardFromEnv, let o = out, !o.hasSuffix(".npy") { throw ValidationError("--out must name a .npy file, got '\(o)'") }
    }

    struct Output: Encodable {
        let kind: String
        let count: Int
        let dim: Int
        let normalized: Bool
        let names: [String]
        let skipped: [Skipped]
        let embeddings: [[Float]]
    }

    struct Skipped: Encodable {
        let path: String
        let error: String
    }

    /// The names file written beside `--out`: row i of the .npy is line i.
    static func namesPath(for npy: String) -> String { String(npy.dropLast(4)) + ".names.txt" }

    func imageList() throws -> [String] {
        if let list { return try TextFile.readLines(list).filter { !$0.isEmpty } }
        var ignored = 0
        let paths = try ImageInputs.expand(images, ignored: &ignored)
        if ignored > 0 { stderrLine("ignored \(ignored) file(s) that are not images") }
        return paths
    }

    func runShard(_ model: CLIPModel) throws {
        let spec = try shard.map { try ShardSpec(parsing: $0) }
            ?? ShardSpec.fromEnvironment(ProcessInfo.processInfo.environment, count: shardCount)
        let list = try imageList()
        let embedder = ImageEmbedder(model: model, batch: batch)
        let normalize = self.normalize
        let shardModel = ShardModel(weightsSha256: try SHA256.hexDigest(ofFile: WeightSource.open(weights).weightsFile), spec: model.spec.json(),
                                    dimension: model.spec.embedDim, batchSize: batch) { paths in
            var r = try embedder.embed(paths: paths, strict: false)
            if normalize { r.embeddings.normalizeRows() }
            return (r.embeddings, r.kept, r.failed.map { SkippedFile(path: $0.path, reason: $0.message) })
        }
        let (m, outcome) = try Shards.run(list: list, spec: spec, dir: out!, model: shardModel, checkpointEvery: checkpointEvery)
        if json { try printJSON(m); return }
        let how: String
        switch outcome {
        case .embedded: how = "embedded"
        case .resumed(let n): how = "resumed after \(n) finished chunk(s)"
        case .alreadyComplete: how = "already complete, nothing redone"
        }
        print("shard \(spec): items \(m.first)..<\(m.end) of \(m.listCount), \(m.rows) embedded, \(m.skipped.count) skipped (\(how)) → \(out!)")
    }

    func run() throws {
        try reportingErrors {
            let model = try ModelLoading.load(weights, halves: halves)
            if shard != nil || shardFromEnv { return try runShard(model) }
            var result: Matrix
            var names: [String]
            var skipped: [Skipped] = []
            if !images.isEmpty || list != nil {
                let paths = try imageList()
                let r = try ImageEmbedder(model: model, batch: batch).embed(paths: paths, strict: strict)
                (result, names) = (r.embeddings, r.kept)
                skipped = r.failed.map { Skipped(path: $0.path, error: $0.message) }
                for s in skipped { stderrLine("skipped \(s.path): \(s.error)") }
                if !skipped.isEmpty { stderrLine("skipped \(skipped.count) of \(paths.count) image(s) (--strict stops at the first)") }
                if names.isEmpty { throw CoreError("embed.no-images", "none of the \(paths.count) image(s) could be read; nothing was written") }
            } else {
                names = try textsFile.map { try TextFile.readLines($0) } ?? text
                result = try TextEmbedder(model: model, batch: batch).embed(names)
            }
            if normalize { result.normalizeRows() }
            if let o = out {
                try NPY.write(result, to: o)
                try Shards.writeNames(names, to: Self.namesPath(for: o))
                stderrLine("wrote \(result.rows)×\(result.cols) float32 embeddings to \(o), their names to \(Self.namesPath(for: o))")
            }
            if json || out == nil {
                let rows = (0..<result.rows).map { Array(result.row($0)) }
                try printJSON(Output(kind: images.isEmpty && list == nil ? "text" : "image", count: result.rows, dim: result.cols,
                                     normalized: normalize, names: names, skipped: skipped, embeddings: rows))
            }
        }
    }
}
