// The model against PyTorch's outputs in the committed tiny reference (its own pixels and tokens, so
// preprocessing and tokenizing are not under test here).
import ClipCore
import Foundation
import ClipWeights
import Testing
@testable import ClipModel

@Suite struct ReferenceParityTests {
    /// The tiny reference was computed in float32 from exactly these (float16-rounded) weights.
    static let minCosine = 0.99999

    @Test func imageEmbeddingsMatchPyTorch() throws {
        let ref = try Fixture.reference()
        let model = try CLIPModel(weights: try Fixture.weights())
        let out = try model.encodeImages(ref.pixels, count: ref.imageCount)
        #expect(out.rows == ref.imageCount && out.cols == ref.dim)
        for i in 0..<ref.imageCount {
            let c = cosine(out.row(i), ref.imageEmbeddings[(i * ref.dim)..<((i + 1) * ref.dim)])
            #expect(c >= Self.minCosine, "image \(i): cosine \(c)")
        }
        #expect(maxAbsDiff(out.data, ref.imageEmbeddings) < 1e-4)
    }

    @Test func textEmbeddingsMatchPyTorch() throws {
        let ref = try Fixture.reference()
        let model = try CLIPModel(weights: try Fixture.weights())
        let out = try model.encodeTexts(ref.tokens, count: ref.textCount)
        for i in 0..<ref.textCount {
            let c = cosine(out.row(i), ref.textEmbeddings[(i * ref.dim)..<((i + 1) * ref.dim)])
            #expect(c >= Self.minCosine, "text \(i): cosine \(c)")
        }
        #expect(maxAbsDiff(out.data, ref.textEmbeddings) < 1e-4)
    }

    /// A float16 safetensors file read directly (no float32 copy of the matrices) gives what the widened weights give.
    @Test func float16ReadDirectlyEqualsWidened() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-direct-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tiny-f16.safetensors"
        try SafetensorsWriter.write(try Fixture.weights(), dtype: .f16, to: path)
        let ref = try Fixture.reference()
        let directWeights = try CLIPWeights.load(path: path, halves: .direct)
        let direct = try CLIPModel(weights: directWeights)
        let widened = try CLIPModel(weights: try CLIPWeights.load(path: path, halves: .widen))
        // The matrices stay float16 (never widened); small tensors were widened on first use.
        for name in ["visual.conv1.weight", "token_embedding.weight", "transformer.resblocks.0.mlp.c_fc.weight",
                     "visual.transformer.resblocks.1.attn.in_proj_weight"] {
            #expect(directWeights.float16(name) != nil, "\(name) was widened")
        }
        #expect(directWeights.float16("visual.ln_post.weight") == nil)
        let imgD = try direct.encodeImages(ref.pixels, count: ref.imageCount)
        let imgW = try widened.encodeImages(ref.pixels, count: ref.imageCount)
        #expect(maxAbsDiff(imgD.data, imgW.data) < 1e-5)
        let one = try direct.encodeImages(Array(ref.pixels[0..<(3 * 224 * 224)]), count: 1)  // few-rows kernels
        #expect(maxAbsDiff(Array(imgW.row(0)), one.data) < 1e-5)
        let txtD = try direct.encodeTexts(ref.tokens, count: ref.textCount)
        let txtW = try widened.encodeTexts(ref.tokens, count: ref.textCount)
        #expect(maxAbsDiff(txtD.data, txtW.data) < 1e-5)
        for i in 0..<ref.textCount {
            let c = cosine(txtD.row(i), ref.textEmbeddings[(i * ref.dim)..<((i + 1) * ref.dim)])
            #expect(c >= Self.minCosine, "text \(i): cosine \(c)")
        }
    }

    /// Stopping at the end token is exact: the full 77-position computation gives the same rows.
    @Test func endTokenCutEqualsFullContext() throws {
        let ref = try Fixture.reference()
        let model = try CLIPModel(weights: try Fixture.weights())
        let cut = try model.encodeTexts(ref.tokens, count: ref.textCount)
        let full = try model.encodeTexts(ref.tokens, count: ref.textCount, fullContext: true)
        for i in 0..<ref.textCount {
            #expect(cosine(cut.row(i), full.row(i)) >= 0.9999999, "text \(i)")
        }
        #expect(maxAbsDiff(cut.data, full.data) < 1e-5)
    }

    /// A batch gives each row what that input gives alone.
    @Test func batchingDoesNotChangeRows() throws {
        let ref = try Fixture.reference()
        let model = try CLIPModel(weights: try Fixture.weights())
        let n = 3 * 224 * 224
        let batch = try model.encodeImages(Array(ref.pixels[0..<(4 * n)]), count: 4)
        for i in 0..<4 {
            let one = try model.encodeImages(Array(ref.pixels[(i * n)..<((i + 1) * n)]), count: 1)
            #expect(maxAbsDiff(Array(batch.row(i)), one.data) < 1e-5, "image \(i)")
        }
        let texts = try model.encodeTexts(Array(ref.tokens[0..<(5 * 77)]), count: 5)
        for i in 0..<5 {
            let one = try model.encodeTexts(Array(ref.tokens[(i * 77)..<((i + 1) * 77)]), count: 1)
            #expect(maxAbsDiff(Array(texts.row(i)), one.data) < 1e-5, "text \(i)")
        }
    }
}
