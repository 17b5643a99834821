// `clipwb verify`: our tokenizer, preprocessing and encoders against a clip-reference file, stage by stage.
import ArgumentParser
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipParity
import ClipTokenizer
import ClipWeights
import Foundation

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check tokens, pixels and embeddings against a PyTorch reference file, stage by stage.",
        discussion: """
        Stages: tokens (our tokenizer on the reference's strings, compared exactly), pixels (our decode + \
        preprocessing of --images DIR/<name> against the reference's pixels), image embeddings twice — end to \
        end (our pixels → our model) and model only (the reference's pixels → our model) — and text embeddings \
        twice (our tokens / the reference's tokens → our model). Embeddings pass when every row's cosine \
        similarity reaches the tolerance: \(Tolerances.float32Cosine) when the weights hold the values the \
        reference was computed with, \(Tolerances.float16Cosine) when they are a float16/bfloat16 rounding of \
        float32 reference weights (the file's stored dtype against the reference's weights_dtype attribute). \
        Pixels pass with max |diff| ≤ \(Tolerances.pixelMaxAbsDiff). Exit status: 0 pass, 1 fail, 2 bad input.
        """
    )

    @Option(help: "The weights file (clip-hdf5 .h5 or .safetensors).")
    var weights: String

    @Option(help: "The clip-reference .h5 file made by the exporter.")
    var reference: String

    @Option(help: "The folder holding the reference's images (its /images/names are relative to it).")
    var images: String

    @Option(help: "Half-precision weights: 'direct' (the encoders read float16 as stored; fast load, half the memory) or 'widen' (to float32 at load).")
    var halves: HalfWeights = .standard

    @Flag(help: "Print one JSON object with every figure.")
    var json = false

    @Option(help: "Minimum cosine similarity for embeddings (default: by weights dtype).")
    var tolerance: Double?

    @Option(help: "Maximum absolute pixel difference.")
    var pixelTolerance: Double = Tolerances.pixelMaxAbsDiff

    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Inputs per forward pass (--batch is the old name).")
    var batch: Int = 16

    func validate() throws {
        if let t = tolerance, !(t > -1 && t <= 1) { throw ValidationError("--tolerance is a cosine similarity in (-1, 1], got \(t)") }
        if !(pixelTolerance >= 0) { throw ValidationError("--pixel-tolerance must be ≥ 0, got \(pixelTolerance)") }
        if batch < 1 { throw ValidationError("--batch-size must be at least 1, got \(batch)") }
    }

    func run() throws {
        let report = try reportingErrors { () throws -> VerifyReport in
            let ref = try ReferenceFile(path: reference)
            let model = try ModelLoading.load(weights, halves: halves)
            let dtype = try StoredDType.of(weightsPath: weights)
            let cosine = tolerance ?? Tolerances.cosine(weights: dtype, reference: ref.weightsDType)
            try ref.check(against: model.spec)
            return try VerifyRun(model: model, ref: ref, imagesDir: images, batch: batch).run(
                weightsDType: dtype, minCosine: cosine, pixelTolerance: pixelTolerance)
        }
        if json { try printJSON(report) } else { print(report.text(weights: weights, reference: reference), terminator: "") }
        if !report.pass { throw ExitCode(Exit.failed) }
    }
}
