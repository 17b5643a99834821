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
        Pixels pass with max |diff| ≤ \(Tolerances.pixelMaxAbsDiff).

        A reference may hold images only or texts only: the stages it lacks are reported as "not in reference", \
        never as passes. Without --images the image stages run on the reference's own pixels only (model only); \
        the pixel and end-to-end stages are "not run". The run passes when at least one stage ran and every stage \
        that ran passed. When the reference records the sha256 of the weights it was computed from, it is compared \
        with these weights' (the HDF5 file's, or the sha a clipwb file records of its source). Each failing stage \
        gives its failing rows out of the total and a diagnosis from the pattern of failures; --json adds every \
        row's cosine and max error, --report FILE.md writes the same as Markdown.

        Layer by layer: when the reference holds /intermediates (exported with --intermediates K), the model \
        runs on its first K pixels and token rows and every named stage (embeddings, ln_pre, each block after \
        attention and after the MLP, ln_post / ln_final, pooling, projection; ResNets: stem, each Bottleneck, \
        the attention pool) is compared by relative error ‖ours − reference‖ / ‖reference‖. The first stage beyond \
        the stage tolerance is named ("diverges at visual block 0 (after MLP)") with the stages before it shown \
        as agreeing; a divergence fails the run.

        Exit status: 0 pass, 1 fail, 2 bad input.
        """
    )

    @Option(help: "The weights: clip-hdf5 .h5, .safetensors, or a Hugging Face / open_clip model folder.")
    var weights: String

    @Option(help: "The clip-reference .h5 file made by the exporter.")
    var reference: String

    @Option(help: "The folder holding the reference's images (its /images/names are relative to it); without it only the model-only image stage runs.")
    var images: String?

    @Option(help: "Also write the report as Markdown to this file.")
    var report: String?

    @Option(help: "Half-precision weights: 'direct' (the encoders read float16 as stored; fast load, half the memory) or 'widen' (to float32 at load).")
    var halves: HalfWeights = .standard

    @Flag(help: "Print one JSON object with every figure.")
    var json = false

    @Option(help: "Minimum cosine similarity for embeddings (default: by weights dtype).")
    var tolerance: Double?

    @Option(help: "Maximum relative error ‖ours − reference‖ / ‖reference‖ of an intermediate stage (default: \(Tolerances.stageRelativeSameValues) for the same values, else matching the cosine tolerance).")
    var stageTolerance: Double?

    @Option(help: "Maximum absolute pixel difference.")
    var pixelTolerance: Double = Tolerances.pixelMaxAbsDiff

    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Inputs per forward pass (--batch is the old name).")
    var batch: Int = 16

    func validate() throws {
        if let t = tolerance, !(t > -1 && t <= 1) { throw ValidationError("--tolerance is a cosine similarity in (-1, 1], got \(t)") }
        if !(pixelTolerance >= 0) { throw ValidationError("--pixel-tolerance must be ≥ 0, got \(pixelTolerance)") }
        if let t = stageTolerance, !(t >= 0 && t.isFinite) { throw ValidationError("--stage-tolerance is a relative error ≥ 0, got \(t)") }
        if batch < 1 { throw ValidationError("--batch-size must be at least 1, got \(batch)") }
    }

    func run() throws {
        let result = try reportingErrors { () throws -> VerifyReport in
            let ref = try ReferenceFile(path: reference)
            let source = try WeightSource.open(weights)
            let model = try CLIPModel(weights: source.load(halves: halves))
            let dtype = StoredDType.of(source.store)
            let chosen = Tolerances.choose(weights: dtype, reference: ref.weightsDType)
            let cosine = tolerance ?? chosen.cosine
            try ref.check(against: model.spec)
            var options = VerifyOptions(minCosine: cosine, toleranceReason: tolerance == nil ? chosen.reason : "given with --tolerance",
                                        pixelTolerance: pixelTolerance, imagesDir: images, batch: batch)
            options.stageTolerance = stageTolerance.map { ($0, "given with --stage-tolerance") }
                ?? Tolerances.stage(weights: dtype, reference: ref.weightsDType)
            let r = try VerifyRun(model: model, ref: ref, options: options).run(weightsDType: dtype, provenance: Provenance.check(weights: source, reference: ref))
            if let path = report {
                try AtomicFile.write(path, chunks: [Array(r.markdown(weights: weights, reference: reference).utf8)])
            }
            return r
        }
        if json { try printJSON(result) } else { print(result.text(weights: weights, reference: reference), terminator: "") }
        if !result.pass { throw ExitCode(Exit.failed) }
    }
}
