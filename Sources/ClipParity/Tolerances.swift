// The verdict's rules: the tolerances verify applies and what they are set from, the stored dtype of a
// weights file, and the error type of ClipParity.
import ClipCore
import ClipWeights

public enum ParityErrors: ErrorDomain { public static let library = "ClipParity" }
/// The error type of ClipParity (codes `verify.*`).
public typealias ParityError = LibraryError<ParityErrors>

/// The tolerances verify applies, each named beside its reason (see docs/parity.md).
public enum Tolerances {
    /// float32 weights, reference computed from the same values: only summation order differs.
    public static let float32Cosine = 0.99999
    /// float16 copies of float32 reference weights. Honest float16 rounding costs 1 − cos ≈ 2–4e-7 on ViT-B/32
    /// and 4e-7 on the ablation test's model (docs/parity.md has the figures per model); 3e-6 leaves room for deeper
    /// and wider models while failing any single zeroed tensor whose float32 effect is 10× the honest error
    /// (AblationTests). The old 0.9995 passed two zeroed biases of ViT-B/32.
    public static let float16Cosine = 0.999997
    /// bfloat16 copies of float32 reference weights: 8 mantissa bits instead of 11, so ~100× float16's error
    /// (4.2e-5 on the ablation model); 5e-4 keeps a margin of ~10×.
    public static let bfloat16Cosine = 0.9995
    /// Intermediates (relative error ‖ours − reference‖ / ‖reference‖ of one item's stage output) when the weights hold
    /// the values the reference was computed with: float32 summation order gives ~1e-7–1e-6 per stage (docs/parity.md).
    public static let stageRelativeSameValues = 1e-4

    /// The relative error a stage may show: 1e-4 for the same values; for a rounding, the relative error that
    /// matches the embeddings' cosine tolerance (1 − cos ≈ rel² / 2).
    public static func stage(weights: String, reference: String?) -> (relative: Double, reason: String) {
        let chosen = choose(weights: weights, reference: reference)
        if chosen.cosine == float32Cosine {
            return (stageRelativeSameValues, "the weights hold the values the reference was computed with: float32 summation order only")
        }
        return ((2 * (1 - chosen.cosine)).squareRoot(), "the weights are a rounding of the reference's: the relative error that matches min cos \(chosen.cosine)")
    }

    /// PIL's pipeline is reproduced exactly; 1e-5 leaves room only for float32 normalize rounding.
    public static let pixelMaxAbsDiff = 1e-5

    public static func cosine(weights: String, reference: String?) -> Double {
        choose(weights: weights, reference: reference).cosine
    }

    /// The tolerance for weights stored as `weights` against a reference computed from `reference` weights, and why.
    public static func choose(weights: String, reference: String?) -> (cosine: Double, reason: String) {
        let ref = reference.map { StoredDType.normalize($0) } ?? "f32"
        if weights != "f32" && ref == "f32" {
            return (weights == "bf16" ? bfloat16Cosine : float16Cosine,
                    "the weights are a \(weights) rounding of the float32 weights the reference was computed with")
        }
        if weights == ref || weights == "f32" {
            return (float32Cosine, "the weights hold the values the reference was computed with (\(weights) vs reference \(reference ?? "float32")): only summation order differs")
        }
        return (float16Cosine, "the weights (\(weights)) and the reference's (\(reference ?? "?")) are different roundings")
    }
}

/// The dtype a weights file stores its tensors in (most tensors'), as f32 / f16 / bf16.
public enum StoredDType {
    public static func of(weightsPath path: String) throws -> String { of(try WeightSource.open(path).store) }

    public static func of(_ store: TensorStore) -> String {
        var counts: [String: Int] = [:]
        for (k, shape) in store.shapes where shape.reduce(1, *) > 1 {
            if let d = store.dtype(k) { counts[d.rawValue, default: 0] += 1 }
        }
        return counts.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key ?? "f32"
    }

    /// "float16"/"float32"/"bfloat16" (exporter attributes) → f16/f32/bf16.
    public static func normalize(_ s: String) -> String {
        switch s.lowercased() {
        case "float16", "f16", "half": "f16"
        case "bfloat16", "bf16": "bf16"
        default: "f32"
        }
    }
}
