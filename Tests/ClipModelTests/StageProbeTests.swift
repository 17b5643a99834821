// Recording the stages (StageProbe, for verify's layer-by-layer comparison) must not change what the encoders
// compute: the probe runs the last block over every row instead of the read-out rows only, so the embeddings may
// differ by summation order at most. The stages come in forward order and the last one is the output itself.
import ClipCore
import ClipWeights
import Foundation
import Testing
@testable import ClipModel

@Suite struct StageProbeTests {
    /// Relative error ‖a − b‖ / ‖b‖.
    static func relative(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, n = 0.0
        for (x, y) in zip(a, b) { d += Double(x - y) * Double(x - y); n += Double(y) * Double(y) }
        return (d / n).squareRoot()
    }

    @Test func probingLeavesTheEmbeddingsAsTheyAre() throws {
        let model = try CLIPModel(weights: Fixture.weights())
        let ref = try Fixture.reference()
        let per = 3 * 224 * 224, layers = model.spec.vision.transformer.layers
        let pixels = Array(ref.pixels[0..<(3 * per)])
        let plain = try model.encodeImages(pixels, count: 3)
        let probe = StageProbe()
        let probed = try model.encodeImages(pixels, count: 3, probe: probe)
        #expect(Self.relative(probed.data, plain.data) < 1e-6)
        // negative control: another image's embedding is far from this one's
        #expect(Self.relative(Array(probed.row(1)), Array(plain.row(0))) > 1e-2)
        let blocks = (0..<layers).flatMap { ["visual.block\($0).attn", "visual.block\($0).mlp"] }
        #expect(probe.order == ["visual.embeddings", "visual.ln_pre"] + blocks + ["visual.ln_post", "visual.proj"])
        for i in 0..<3 {
            #expect(probe.values("visual.proj", item: i) == Array(probed.row(i)))
            #expect(probe.values("visual.ln_pre", item: i)?.count == model.spec.visionTokens * model.spec.vision.transformer.width)
        }
    }

    @Test func textStagesStopAtTheEndToken() throws {
        let model = try CLIPModel(weights: Fixture.weights())
        let ref = try Fixture.reference()
        let n = model.spec.contextLength, w = model.spec.text.transformer.width
        let tokens = Array(ref.tokens[0..<(2 * n)])
        let plain = try model.encodeTexts(tokens, count: 2)
        let probe = StageProbe()
        let probed = try model.encodeTexts(tokens, count: 2, probe: probe)
        #expect(Self.relative(probed.data, plain.data) < 1e-6)
        for i in 0..<2 {
            let row = tokens[(i * n)..<((i + 1) * n)]
            let length = row.firstIndex(of: row.max()!)! - i * n + 1
            #expect(probe.values("text.embeddings", item: i)?.count == length * w)
            #expect(probe.values("text.ln_final", item: i)?.count == length * w)
            #expect(probe.values("text.pooled", item: i)?.count == w)
            #expect(probe.values("text.proj", item: i) == Array(probed.row(i)))
        }
        #expect(probe.order.first == "text.embeddings" && probe.order.suffix(3) == ["text.ln_final", "text.pooled", "text.proj"])
    }
}
