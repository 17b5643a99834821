// Layer-by-layer divergence: the reference's /intermediates (every named stage of its forward pass for its first
// K images and texts; docs/formats.md) against the same stages of ours (ClipModel's StageProbe), on the
// reference's own pixels and tokens. The first stage whose relative error leaves the tolerance is where the two
// implementations part; every stage before it is shown as agreeing. Text stages compare positions up to the end
// token (later positions cannot reach the embedding, and libraries that mask padding compute them differently).
import ClipCore
import ClipModel
import ClipWeights

/// One tower's /intermediates/{images,texts} group: stage names in forward order, each a float32 [K, ...] array.
public struct ReferenceStages: Sendable {
    public let order: [String]
    public let shapes: [String: [Int]]
    let data: [String: [Float]]
    /// Items each stage holds (the first K of /images or /texts).
    public var items: Int { order.first.flatMap { shapes[$0]?.first } ?? 0 }

    /// nil when the file has no such group (references without intermediates verify as before).
    static func read(_ f: HDF5File, group: String, path: String, count: Int) throws -> ReferenceStages? {
        let g = "/intermediates/\(group)"
        guard f.exists(g) else { return nil }
        guard f.exists("\(g)/order") else {
            throw ParityError("verify.reference-incomplete", "reference '\(path)' has \(g) but no \(g)/order listing its stages; re-export it")
        }
        let order = try f.readStrings("\(g)/order")
        var shapes: [String: [Int]] = [:], data: [String: [Float]] = [:]
        for name in order {
            guard !name.isEmpty, !name.contains("/"), f.exists("\(g)/\(name)") else {
                throw ParityError("verify.reference-incomplete", "reference '\(path)': \(g)/order names the stage '\(name)', which is not a dataset of \(g); re-export it")
            }
            let info = try f.info("\(g)/\(name)")
            guard info.kind == .float, info.shape.count >= 2, info.shape[0] >= 1, info.shape[0] <= count,
                  info.shape[0] == (shapes[order[0]]?.first ?? info.shape[0]) else {
                throw ParityError("verify.reference-shape", "reference '\(path)': \(g)/\(name) is \(info.kind) \(info.shape); intermediates are float arrays [K, ...] with the same K ≤ \(count) for every stage")
            }
            shapes[name] = info.shape
            data[name] = try f.readFloats("\(g)/\(name)")
        }
        return order.isEmpty ? nil : ReferenceStages(order: order, shapes: shapes, data: data)
    }

    /// Item k of a stage, flattened; for [K, positions, width] stages only the first `rows` positions.
    func item(_ stage: String, _ k: Int, rows: Int? = nil) -> ArraySlice<Float> {
        let shape = shapes[stage]!
        let per = shape.dropFirst().reduce(1, *)
        let start = k * per
        guard let rows, shape.count == 3 else { return data[stage]![start..<(start + per)] }
        return data[stage]![start..<(start + min(rows, shape[1]) * shape[2])]
    }
}

enum StageDivergence {
    /// Ours against the reference's intermediates for both towers (nil: the reference has none).
    static func compare(model: CLIPModel, ref: ReferenceFile, tolerance: (relative: Double, reason: String)) throws -> VerifyReport.Intermediates? {
        guard ref.imageStages != nil || ref.textStages != nil else { return nil }
        var towers: [VerifyReport.Tower] = []
        if let stages = ref.imageStages {
            let probe = StageProbe()
            let per = ref.pixelsPerImage
            _ = try ref.pixels.withUnsafeBufferPointer {
                try model.encodeImages(UnsafeBufferPointer(rebasing: $0[0..<(stages.items * per)]), count: stages.items, probe: probe)
            }
            towers.append(tower("image", stages, probe, rows: { _ in nil }, tolerance: tolerance.relative))
        }
        if let stages = ref.textStages {
            let probe = StageProbe()
            let n = model.spec.contextLength
            let tokens = Array(ref.tokens[0..<(stages.items * n)])
            _ = try model.encodeTexts(tokens, count: stages.items, probe: probe)
            // positions 0 … end token (CLIP's end token is the row's largest id)
            let lengths = (0..<stages.items).map { k in
                let row = tokens[(k * n)..<((k + 1) * n)]
                return row.firstIndex(of: row.max()!)! - k * n + 1
            }
            towers.append(tower("text", stages, probe, rows: { lengths[$0] }, tolerance: tolerance.relative))
        }
        let ran = towers.flatMap(\.stages).filter { $0.status != "not computed" }
        let failed = towers.contains { $0.first_divergence != nil }
        return VerifyReport.Intermediates(status: ran.isEmpty ? "absent" : (failed ? "fail" : "pass"), tolerance: tolerance.relative,
                                          tolerance_reason: tolerance.reason, towers: towers, pass: !ran.isEmpty && !failed)
    }

    static func tower(_ name: String, _ stages: ReferenceStages, _ probe: StageProbe, rows: (Int) -> Int?, tolerance: Double) -> VerifyReport.Tower {
        var out: [VerifyReport.StageFigures] = []
        for stage in stages.order {
            guard probe.values(stage, item: 0) != nil else {
                out.append(.init(stage: stage, label: label(stage), status: "not computed", max_relative_error: 0, min_cosine: 0, max_abs_diff: 0))
                continue
            }
            var worstRel = 0.0, minCos = 1.0, maxAbs = 0.0
            var shapeDiffers = false
            for k in 0..<stages.items {
                let ours = probe.values(stage, item: k) ?? []
                let theirs = stages.item(stage, k, rows: rows(k))
                guard ours.count == theirs.count else { shapeDiffers = true; break }
                var d2 = 0.0, r2 = 0.0
                for (a, b) in zip(ours, theirs) {
                    let d = Double(a) - Double(b)
                    d2 += d * d
                    r2 += Double(b) * Double(b)
                    maxAbs = d.isNaN || maxAbs.isNaN ? .nan : max(maxAbs, abs(d))
                }
                let rel = r2 > 0 ? (d2 / r2).squareRoot() : (d2 == 0 ? 0 : .infinity)
                worstRel = rel.isNaN || worstRel.isNaN ? .nan : max(worstRel, rel)
                minCos = min(minCos, EmbeddingComparison.cosine(ours[...], theirs))
            }
            out.append(.init(stage: stage, label: label(stage), status: shapeDiffers ? "shape differs" : "agrees",
                             max_relative_error: worstRel.isFinite ? worstRel : .greatestFiniteMagnitude,
                             min_cosine: minCos.isFinite ? minCos : -1, max_abs_diff: maxAbs.isFinite ? maxAbs : .greatestFiniteMagnitude))
        }
        let (first, crossing) = divergence(out, tolerance: tolerance)
        for i in out.indices where out[i].status == "agrees" {
            guard let first, i >= first else { continue }
            let beyond = !(out[i].max_relative_error <= tolerance)
            out[i].status = beyond ? "differs" : (i == first ? "jumps" : "within tolerance")
        }
        let stage = first.map { out[$0].stage }
        return .init(tower: name, items: stages.items, stages: out, first_divergence: stage, first_divergence_label: stage.map(label),
                     leaves_tolerance_at: crossing.map { out[$0].stage })
    }

    /// Where the two part: the first stage beyond the tolerance (`crossing`), or an earlier one whose relative error
    /// jumps to ≥ 10× every stage before it and ≥ a tenth of the tolerance — a small fault (a LayerNorm ε of 1e-6 for
    /// 1e-5: ~20× the rounding error at ln_pre) can stay inside the tolerance, or leave it only where a later
    /// LayerNorm or the projection magnifies it. Rounding grows smoothly from stage to stage and does not jump.
    static func divergence(_ stages: [VerifyReport.StageFigures], tolerance: Double) -> (first: Int?, crossing: Int?) {
        var crossing: Int?, jump: Int?
        var before: Double?
        for (i, f) in stages.enumerated() where f.status != "not computed" {
            let e = f.max_relative_error
            let beyond = f.status == "shape differs" || !(e <= tolerance)
            if beyond, crossing == nil { crossing = i }
            if !beyond, jump == nil, let b = before, e >= tolerance / 10, e >= 10 * b { jump = i }
            before = max(before ?? 0, e)
        }
        return ([crossing, jump].compactMap { $0 }.min(), crossing)
    }

    /// "visual.block3.mlp" → "visual block 3 (after MLP)"; "visual.layer2.0" → "visual layer2 Bottleneck 0".
    static func label(_ stage: String) -> String {
        let parts = stage.split(separator: ".").map(String.init)
        guard parts.count >= 2 else { return stage }
        let tower = parts[0]
        if parts[1].hasPrefix("block"), parts.count == 3 {
            let what = parts[2] == "attn" ? "after attention" : parts[2] == "mlp" ? "after MLP" : parts[2]
            return "\(tower) block \(parts[1].dropFirst(5)) (\(what))"
        }
        if parts[1].hasPrefix("layer"), parts.count == 3 { return "\(tower) \(parts[1]) Bottleneck \(parts[2])" }
        let names = ["embeddings": "embeddings (tokens + positions)", "ln_pre": "ln_pre", "ln_post": "ln_post", "proj": "projection",
                     "ln_final": "ln_final", "pooled": "end-token pooling", "stem": "stem", "attnpool": "attention pool"]
        return "\(tower) \(names[parts[1]] ?? parts[1])"
    }

    /// What a first divergence at `stage` points to.
    static func hint(_ stage: String) -> String {
        let last = stage.split(separator: ".").last.map(String.init) ?? stage
        switch last {
        case "embeddings": return "patch or token embedding, class token or positional embedding"
        case "ln_pre", "ln_post", "ln_final": return "this LayerNorm (ε, gain, bias)"
        case "attn": return stage.contains("block0.") ? "the attention or the LayerNorm before it (head count or head width, in_proj layout, mask, ln_1 ε)" : "the attention or the LayerNorm before it (head count, mask, ln_1)"
        case "mlp": return "the MLP or the LayerNorm before it (activation: QuickGELU vs exact GELU, MLP width, LayerScale, ln_2)"
        case "pooled": return "the end-token pooling (which position is read)"
        case "proj": return "the projection"
        case "stem": return "the stem convolutions, BatchNorm or average pool"
        case "attnpool": return "the attention pool (heads, positional embedding, mean token)"
        default: return stage.contains(".layer") ? "this Bottleneck's convolutions, BatchNorm or downsample" : "this stage"
        }
    }
}
