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
    /// One stage of the layer-by-layer comparison: the worst item's relative error ‖ours − ref‖ / ‖ref‖, min cosine,
    /// max |ours − ref|.
    public struct StageFigures: Encodable {
        public let stage: String
        public let label: String
        /// "agrees"; "jumps" (inside the tolerance but ≥ 10× every stage before it: where a difference enters);
        /// "differs" (beyond the tolerance); "within tolerance" (after the divergence); "shape differs"; "not computed".
        public internal(set) var status: String
        public let max_relative_error: Double
        public let min_cosine: Double
        public let max_abs_diff: Double
    }
    public struct Tower: Encodable {
        public let tower: String
        public let items: Int
        public let stages: [StageFigures]
        /// Where the two part (nil: every stage agrees): the first stage beyond the tolerance, or an earlier one
        /// whose error jumps to ≥ 10× every stage before it (StageDivergence.divergence).
        public let first_divergence: String?
        public let first_divergence_label: String?
        /// The first stage beyond the tolerance.
        public let leaves_tolerance_at: String?

        enum CodingKeys: String, CodingKey {
            case tower, items, stages, first_divergence, first_divergence_label, leaves_tolerance_at
        }

        /// nil stages as JSON null (not left out): "no divergence" is an answer.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tower, forKey: .tower)
            try c.encode(items, forKey: .items)
            try c.encode(stages, forKey: .stages)
            try c.encode(first_divergence, forKey: .first_divergence)
            try c.encode(first_divergence_label, forKey: .first_divergence_label)
            try c.encode(leaves_tolerance_at, forKey: .leaves_tolerance_at)
        }
    }
    /// The reference's /intermediates against ours: "pass", "fail" or "absent" (the reference has none).
    public struct Intermediates: Encodable {
        public let status: String
        /// Relative error a stage may show, and why.
        public let tolerance: Double
        public let tolerance_reason: String
        public let towers: [Tower]
        public let pass: Bool
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
    public let intermediates: Intermediates
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
        s += intermediatesText()
        for d in diagnosis { s += "diagnosis: \(d)\n" }
        s += "result: \(pass ? "PASS" : "FAIL")\n"
        return s
    }

    /// Each tower's stages up to and including the first that differs (the rest only counted).
    func intermediatesText() -> String {
        guard intermediates.status != "absent" else { return "intermediates     not in reference (export with --intermediates K for a layer-by-layer comparison)\n" }
        var s = "intermediates     relative error ≤ \(String(format: "%.1e", intermediates.tolerance)) per stage — \(intermediates.tolerance_reason)\n"
        for t in intermediates.towers {
            let computed = t.stages.filter { $0.status != "not computed" }
            if let first = t.first_divergence_label, let at = t.stages.firstIndex(where: { $0.stage == t.first_divergence }) {
                let before = t.stages[..<at].filter { $0.status == "agrees" }
                let worstBefore = before.map(\.max_relative_error).max() ?? 0
                s += "  \(t.tower): diverges at \(first)  FAIL" + (before.isEmpty ? " (the first stage)\n"
                    : " — the \(before.count) stage\(before.count == 1 ? "" : "s") before it agree (max relative error \(String(format: "%.1e", worstBefore)))\n")
                let leaves = t.leaves_tolerance_at.flatMap { c in t.stages.firstIndex { $0.stage == c } }
                if leaves != at {
                    s += "    the error jumps here (≥ 10× every stage before it) and " + (leaves.map { "leaves the tolerance at \(t.stages[$0].label)\n" }
                        ?? "stays inside the tolerance: a small difference the embeddings may not show\n")
                }
                let crossing = max(at, leaves ?? at)
                for f in t.stages[...crossing] where f.status != "not computed" {
                    s += "    \(f.label.padding(toLength: 40, withPad: " ", startingAt: 0)) rel \(String(format: "%.2e", f.max_relative_error))  min cos \(String(format: "%.9f", f.min_cosine))  max |diff| \(String(format: "%.2e", f.max_abs_diff))  \(f.status)\n"
                }
                let after = t.stages[(crossing + 1)...].filter { $0.status != "not computed" }
                if !after.isEmpty { s += "    (\(after.count) later stage\(after.count == 1 ? "" : "s"): \(after.filter { $0.status != "agrees" }.count) differ)\n" }
            } else {
                let worst = computed.map(\.max_relative_error).max() ?? 0
                s += "  \(t.tower): all \(computed.count) stages agree over \(t.items) item\(t.items == 1 ? "" : "s") (max relative error \(String(format: "%.1e", worst)))  PASS\n"
            }
        }
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
        s += "| intermediates | \(Self.mark(intermediates.status)) | | | | | \(intermediates.towers.compactMap { t in t.first_divergence_label.map { "\(t.tower): diverges at \($0)" } }.joined(separator: "; ")) |\n"
        if !diagnosis.isEmpty { s += "\n## Diagnosis\n\n" + diagnosis.map { "- \($0)\n" }.joined() }
        for t in intermediates.towers {
            s += "\n## \(t.tower) intermediates (\(t.items) items, relative error ≤ \(String(format: "%.1e", intermediates.tolerance)))\n\n| stage | status | max relative error | min cos | max abs diff |\n|---|---|---|---|---|\n"
            for f in t.stages {
                s += "| \(f.label) | \(f.status) | \(String(format: "%.2e", f.max_relative_error)) | \(String(format: "%.9f", f.min_cosine)) | \(String(format: "%.2e", f.max_abs_diff)) |\n"
            }
        }
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
        for t in r.intermediates.towers {
            if let stage = t.first_divergence, let label = t.first_divergence_label {
                out.append("layer by layer, the \(t.tower) tower first parts from the reference at \(label): look at \(StageDivergence.hint(stage))")
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
