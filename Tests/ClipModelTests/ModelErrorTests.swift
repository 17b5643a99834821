// Bad weights and bad inputs give errors that name the problem, never a crash.
import ClipCore
import ClipWeights
import Testing
@testable import ClipModel

@Suite struct ModelErrorTests {
    /// The fixture's tensors with one replaced.
    func weights(replacing name: String, shape: [Int]?) throws -> CLIPWeights {
        let w = try Fixture.weights()
        var arrays: [String: (shape: [Int], values: [Float])] = [:]
        for n in w.names where n != name {
            let t = try w.tensor(n)
            arrays[n] = (t.shape, Array(t.data))
        }
        if let s = shape { arrays[name] = (s, [Float](repeating: 0, count: s.reduce(1, *))) }
        return CLIPWeights(spec: w.spec, source: "test", arrays: arrays)
    }

    @Test func missingTensorIsNamed() throws {
        let w = try weights(replacing: "visual.transformer.resblocks.1.mlp.c_fc.bias", shape: nil)
        let e = #expect(throws: WeightsError.self) { try CLIPModel(weights: w) }
        #expect(e?.message.contains("visual.transformer.resblocks.1.mlp.c_fc.bias") == true)
    }

    @Test func wrongShapeIsNamed() throws {
        let w = try weights(replacing: "transformer.resblocks.0.attn.in_proj_weight", shape: [64, 64])
        let e = #expect(throws: ModelError.self) { try CLIPModel(weights: w) }
        #expect(e?.code == "model.shape")
        #expect(e?.message.contains("transformer.resblocks.0.attn.in_proj_weight") == true)
        #expect(e?.message.contains("[192, 64]") == true)
    }

    @Test func badInputsAreErrors() throws {
        let model = try CLIPModel(weights: try Fixture.weights())
        let px = #expect(throws: ModelError.self) { try model.encodeImages([Float](repeating: 0, count: 100), count: 1) }
        #expect(px?.code == "model.pixels")
        var tokens = [Int32](repeating: 0, count: 77)
        tokens[0] = 49406; tokens[1] = 60000
        let id = #expect(throws: ModelError.self) { try model.encodeTexts(tokens, count: 1) }
        #expect(id?.message.contains("60000") == true)
        let rows = #expect(throws: ModelError.self) { try model.encodeTexts([[49406, 49407]]) }
        #expect(rows?.message.contains("77") == true)
        #expect(try model.encodeImages([], count: 0).rows == 0)
    }
}
