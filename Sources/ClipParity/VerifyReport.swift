// What a verification found, as JSON (`--json`), as text, and as Markdown (`--report FILE.md`, for a pull request
// or an appendix): per stage its status, failing rows out of the total and the worst item; the provenance check;
// a diagnosis from the pattern of failures.
import ClipCore
import Foundation

public struct VerifyReport: Encodable {
    public struct Tokens: Encodable {
        /// "pass", "fail" or "absent" (the reference holds no texts).
        public let status: String
        public let exact: Int
        public let total: Int
        public let failing: Int
        public let first_mismatch: String?
        public let pass: Bool
    }
    public struct Pixels: Encodable {
        /// "pass", "fail", "absent" (no images in the reference) or "not run" (no --images folder).
        public let status: String
        public let max_abs_diff: Double
        public let mean_abs_diff: Double
        public let over_one_level: Int
        /// Images with any value beyond the tolerance, out of `total`.
        public let failing: Int
        public let total: Int
        public let worst: String
        public let tolerance: Double
        public let pass: Bool
    }
    public struct Row: Encodable {
        public let item: String
        /// cos(ours, reference) and max |ours − reference| of this row.
        public let cosine: Double
        public let max_abs_error: Double
    }
    public struct Embeddings: Encodable {
        public let status: String
        public let count: Int
        /// Rows below the tolerance.
        public let failing: Int
        public let min_cosine: Double
        public let mean_cosine: Double
        public let max_abs_error: Double
        public let worst: String
        public let tolerance: Double
        public let pass: Bool
        /// The worst row's first values: [ours, reference].
        public let worst_first_values: [[Float]]
        public let rows: [Row]
    }
    public let weights_dtype: String
    public let reference_weights_dtype: String?
    public let tolerance_reason: String
    /// Spec fields no source configuration gave (OpenAI's defaults were used): a likely cause when the model fails.
    public let assumed: [String]
    public let provenance: Provenance
    public let tokens: Tokens
    public let pixels: Pixels
    public let image: Embeddings
    public let image_model_only: Embeddings
    public let text: Embeddings
    public let text_model_only: Embeddings
    public var diagnosis: [String]
    public let pass: Bool

    /// A text as a person reads it: in straight quotes, nothing escaped, cut to 80 characters.
    public static func quote(_ s: String) -> String {
        let cut = s.count > 80 ? String(s.prefix(79)) + "…" : s
        return "\"" + cut.replacingOccurrences(of: "\n", with: "⏎") + "\""
    }

    var embeddingStages: [(label: String, stage: Embeddings)] {
        [("image end-to-end", image), ("image model-only", image_model_only), ("text end-to-end", text), ("text model-only", text_model_only)]
    }

    static func mark(_ status: String) -> String {
        switch status {
        case "pass": "PASS"
        case "fail": "FAIL"
        case "absent": "not in reference"
        default: "not run"
        }
    }

    public func text(weights: String, reference: String) -> String {
        func fmt(_ x: Double, _ digits: Int = 9) -> String { String(format: "%.\(digits)f", x) }
        func sci(_ x: Double) -> String { String(format: "%.2e", x) }
        var s = "verify \(weights) (stored \(weights_dtype)) against \(reference) (weights_dtype \(reference_weights_dtype ?? "unknown"))\n"
        s += "tolerance: min cos ≥ \(image.tolerance) — \(tolerance_reason)\n"
        s += "weights:   \(provenance.weights_source) | reference made from: \(provenance.reference_weights_source ?? "not recorded")\n"
        if let m = provenance.message { s += "  \(m)\n" } else if provenance.matches == true { s += "  sha256 matches the reference's\n" }
        if !assumed.isEmpty { s += "assumed:   \(assumed.joined(separator: ", ")) (no configuration in the weights says; OpenAI's defaults)\n" }
        if tokens.status == "absent" {
            s += "tokens            not in reference\n"
        } else {
            s += "tokens            \(tokens.exact)/\(tokens.total) texts exact, \(tokens.failing) differ  \(Self.mark(tokens.status))\n"
            if let m = tokens.first_mismatch { s += "  first mismatch: \(m)\n" }
        }
        if pixels.status == "pass" || pixels.status == "fail" {
            s += "pixels            max |diff| \(sci(pixels.max_abs_diff))  mean \(sci(pixels.mean_abs_diff))  >1 level: \(pixels.over_one_level)  "
                + "\(pixels.failing)/\(pixels.total) images over  worst \(pixels.worst)  (≤ \(sci(pixels.tolerance)))  \(Self.mark(pixels.status))\n"
        } else {
            s += "pixels            \(Self.mark(pixels.status))\(pixels.status == "not run" ? " (pass --images DIR)" : "")\n"
        }
        for (label, e) in embeddingStages {
            let name = label.padding(toLength: 18, withPad: " ", startingAt: 0)
            guard e.status == "pass" || e.status == "fail" else {
                s += name + Self.mark(e.status) + (e.status == "not run" ? " (pass --images DIR)" : "") + "\n"
                continue
            }
            s += name + "min cos \(fmt(e.min_cosine))  mean \(fmt(e.mean_cosine))  max |err| \(sci(e.max_abs_error))  "
                + "\(e.failing)/\(e.count) below  worst \(e.worst)  \(Self.mark(e.status))\n"
            if !e.pass, e.worst_first_values.count == 2 {
                s += "  ours:      \(e.worst_first_values[0].map { String(format: "%+.5f", $0) }.joined(separator: " "))\n"
                s += "  reference: \(e.worst_first_values[1].map { String(format: "%+.5f", $0) }.joined(separator: " "))\n"
            }
        }
        for d in diagnosis { s += "diagnosis: \(d)\n" }
        s += "result: \(pass ? "PASS" : "FAIL")\n"
        return s
    }

    /// The same report as Markdown: a summary table, the diagnosis, the worst rows of each failing stage.
    public func markdown(weights: String, reference: String) -> String {
        var s = "# clipwb verify: \(pass ? "PASS" : "FAIL")\n\n"
        s += "- weights: `\(weights)` (stored \(weights_dtype); source \(provenance.weights_source))\n"
        s += "- reference: `\(reference)` (weights dtype \(reference_weights_dtype ?? "unknown"); made from \(provenance.reference_weights_source ?? "not recorded"))\n"
        s += "- tolerance: min cos ≥ \(image.tolerance), pixels ≤ \(pixels.tolerance): \(tolerance_reason)\n"
        if let m = provenance.message { s += "- provenance: \(m)\n" }
        s += "\n| stage | status | failing / total | min cos | mean cos | max abs error | worst |\n|---|---|---|---|---|---|---|\n"
        s += "| tokens | \(Self.mark(tokens.status)) | \(tokens.failing) / \(tokens.total) | | | | \(tokens.first_mismatch ?? "") |\n"
        s += "| pixels | \(Self.mark(pixels.status)) | \(pixels.failing) / \(pixels.total) | | | \(String(format: "%.2e", pixels.max_abs_diff)) | \(pixels.worst) |\n"
        for (label, e) in embeddingStages {
            s += "| \(label) | \(Self.mark(e.status)) | \(e.failing) / \(e.count) | \(String(format: "%.9f", e.min_cosine)) | "
                + "\(String(format: "%.9f", e.mean_cosine)) | \(String(format: "%.2e", e.max_abs_error)) | \(e.worst) |\n"
        }
        if !diagnosis.isEmpty { s += "\n## Diagnosis\n\n" + diagnosis.map { "- \($0)\n" }.joined() }
        for (label, e) in embeddingStages where e.status == "fail" {
            s += "\n## \(label): rows below \(e.tolerance)\n\n| item | cosine | max abs error |\n|---|---|---|\n"
            for r in e.rows.filter({ !($0.cosine >= e.tolerance) }).sorted(by: { $0.cosine < $1.cosine }).prefix(20) {
                s += "| \(r.item.replacingOccurrences(of: "|", with: "\\|")) | \(String(format: "%.9f", r.cosine)) | \(String(format: "%.2e", r.max_abs_error)) |\n"
            }
        }
        return s
    }
}

/// One line per pattern the stages show, most specific first.
enum Diagnosis {
    static func lines(_ r: VerifyReport) -> [String] {
        var out: [String] = []
        let modelFails = r.image_model_only.status == "fail" || r.text_model_only.status == "fail"
        if r.provenance.matches == false, modelFails || r.image.status == "fail" || r.text.status == "fail" {
            out.append("the reference was computed from other weights (sha256 differs): that is the likely cause of the failing embeddings")
        }
        if r.tokens.status == "fail", r.text_model_only.status == "pass" {
            out.append("tokens differ but the model agrees on the reference's own tokens: the tokenizer (kind \(r.tokenizerHint)) or the strings differ")
        }
        if r.pixels.status == "fail" || r.image.status == "fail", r.image_model_only.status == "pass" {
            out.append("the model agrees on the reference's own pixels: decoding or preprocessing differs (pipeline, resize mode, filter, mean/std)")
        }
        if modelFails && r.provenance.matches != false {
            let worst = [r.image_model_only, r.text_model_only].filter { $0.status == "fail" }.map(\.min_cosine).min() ?? 1
            if r.weights_dtype != (r.reference_weights_dtype.map(StoredDType.normalize) ?? "f32"), worst > 0.999 {
                out.append("the model-only stages miss by a rounding-sized amount (min cos \(String(format: "%.6f", worst))) and the weights are stored as \(r.weights_dtype) while the reference used \(r.reference_weights_dtype ?? "float32"): rounding or the tolerance, not the architecture")
            } else if r.assumed.isEmpty {
                out.append("the model itself differs from the reference on the reference's own inputs: weights or architecture (activation, heads, LayerNorm ε, LayerScale, MLP width); compare `clipwb inspect` with the reference library's config")
            }
        }
        if modelFails && !r.assumed.isEmpty {
            out.append("\(r.assumed.joined(separator: ", ")) were assumed (OpenAI's defaults) because the weights carry no configuration for them: give them in /config (docs/formats.md) or load the library's own folder")
        }
        return out
    }
}

extension VerifyReport {
    var tokenizerHint: String { "see `clipwb inspect`" }
}
