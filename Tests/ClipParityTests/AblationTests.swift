// The verifier's tolerances against real faults (issue 11, item 1): every tensor of a model is zeroed in turn, and
// each zeroing that moves the embeddings by more than the float32 tolerance must FAIL at float32; stored as float16
// it must FAIL at the float16 tolerance whenever its float32 effect is more than 10× the honest float16 error. The
// honest float16 and bfloat16 conversions must PASS. The model is a small ViT CLIP with every kind of tensor
// (GELU, LayerScale, head width 16, an MLP ratio ≠ 4) in float32 with realistic scales; the reference is its own
// float32 output (the same encoders: a tolerance is about rounding and faults, not about PyTorch).
import CKernels
import ClipCore
import ClipWeights
import Foundation
import Testing
@testable import ClipModel
@testable import ClipParity

@Suite struct AblationTests {
    static let spec: ModelSpec = {
        var s = ModelSpec.openai(embedDim: 32, imageResolution: 32, visionLayers: 2, visionWidth: 64, visionPatchSize: 8,
                                 contextLength: 16, vocabSize: 300, transformerWidth: 64, transformerHeads: 4, transformerLayers: 2)
        s.vision.transformer.heads = 4
        s.vision.transformer.mlpWidth = 272
        s.vision.transformer.activation = .gelu
        s.vision.transformer.layerScale = true
        s.text.transformer.layerScale = true
        return s
    }()

    /// Seeded float32 tensors at the scales trained CLIPs have: matrices ~N(0, 1/width), norms ~1, biases and
    /// gammas small; every value off the float16 grid.
    static func tensors() -> [String: (shape: [Int], values: [Float])] {
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (i, (name, shape)) in spec.expectedTensors.enumerated() {
            let n = shape.reduce(1, *)
            let r = randomValues(n, seed: UInt64(i + 1))
            let values: [Float]
            if name.hasSuffix("ln_1.weight") || name.hasSuffix("ln_2.weight") || name.contains("ln_pre.weight")
                || name.contains("ln_post.weight") || name.contains("ln_final.weight") {
                values = r.map { 1 + 0.2 * $0 }
            } else if name.hasSuffix(".gamma") {
                values = r.map { 0.5 + 0.2 * $0 }
            } else if name == "logit_scale" {
                values = [4.6]
            } else if shape.count >= 2 {
                values = r.map { $0 * 1.7 / Float(shape.last!).squareRoot() }
            } else {
                values = r.map { 0.1 * $0 }
            }
            out[name] = (shape, values)
        }
        return out
    }

    static func randomValues(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Double(s >> 40) / Double(1 << 24)) * 2 - 1
        }
    }

    static func rounded(_ a: [String: (shape: [Int], values: [Float])], bf16: Bool) -> [String: (shape: [Int], values: [Float])] {
        a.mapValues { t in
            var h = [UInt16](repeating: 0, count: t.values.count), back = [Float](repeating: 0, count: t.values.count)
            if bf16 { ck_f32_to_bf16(t.values, &h, h.count); ck_bf16_to_f32(h, &back, h.count) }
            else { ck_f32_to_f16(t.values, &h, h.count); ck_f16_to_f32(h, &back, h.count) }
            return (t.shape, back)
        }
    }

    static let pixels = randomValues(6 * 3 * 32 * 32, seed: 99).map { $0 * 1.8 }
    static let tokens: [Int32] = (0..<6).flatMap { t -> [Int32] in
        let len = 3 + t * 2
        let body = randomValues(len, seed: UInt64(200 + t)).map { Int32(abs($0) * 290) + 1 }
        return [298] + body + [299] + [Int32](repeating: 0, count: 16 - len - 2)
    }

    /// (image, text) embeddings of a model made of `arrays`.
    static func embed(_ arrays: [String: (shape: [Int], values: [Float])]) throws -> (Matrix, Matrix) {
        let model = try CLIPModel(weights: CLIPWeights(spec: spec, source: "ablation", arrays: arrays), pool: WorkerPool(threads: 2))
        return (try model.encodeImages(pixels, count: 6), try model.encodeTexts(tokens, count: 6))
    }

    /// 1 − the lowest cosine over both towers' rows.
    static func error(_ a: (Matrix, Matrix), _ ref: (Matrix, Matrix)) -> Double {
        1 - min(EmbeddingComparison(ours: a.0, reference: ref.0).minCosine, EmbeddingComparison(ours: a.1, reference: ref.1).minCosine)
    }

    @Test func honestRoundingsPassAndEveryZeroedTensorFails() throws {
        let base = Self.tensors()
        let ref = try Self.embed(base)
        let honest16 = Self.error(try Self.embed(Self.rounded(base, bf16: false)), ref)
        let honestBF = Self.error(try Self.embed(Self.rounded(base, bf16: true)), ref)
        let tol32 = 1 - Tolerances.float32Cosine, tol16 = 1 - Tolerances.float16Cosine, tolBF = 1 - Tolerances.bfloat16Cosine
        print("ablation: honest f16 error \(honest16) (tolerance \(tol16)), honest bf16 error \(honestBF) (tolerance \(tolBF))")
        #expect(honest16 < tol16, "honest float16 must pass")
        #expect(honestBF < tolBF, "honest bfloat16 must pass")
        var checked32 = 0, checked16 = 0, quiet: [String] = []
        for name in base.keys.sorted() {
            var zeroed = base
            zeroed[name] = (base[name]!.shape, [Float](repeating: 0, count: base[name]!.values.count))
            let effect = Self.error(try Self.embed(zeroed), ref)
            guard effect > tol32 else { quiet.append(name); continue }
            checked32 += 1  // at float32 this zeroing is beyond the float32 tolerance: verify fails
            let effect16 = Self.error(try Self.embed(Self.rounded(zeroed, bf16: false)), ref)
            if effect > 10 * honest16 {
                checked16 += 1
                #expect(effect16 > tol16, "zeroing \(name) (f32 effect \(effect)) passes at float16 (\(effect16) ≤ \(tol16))")
            }
        }
        print("ablation: \(base.count) tensors, \(checked32) beyond the f32 tolerance, \(checked16) checked at f16; below it: \(quiet)")
        // Only logit_scale (not used by the encoders) may leave the embeddings unchanged.
        #expect(quiet == ["logit_scale"])
        #expect(checked16 == checked32)
    }
}
