// The model against PyTorch's outputs in the committed tiny reference (its own pixels and tokens, so
// preprocessing and tokenizing are not under test here).
import ClipCore
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
