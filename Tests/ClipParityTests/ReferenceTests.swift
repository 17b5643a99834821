// Reference files and the comparison figures verify reports.
import ClipCore
import ClipWeights
import Foundation
import Testing
@testable import ClipParity

@Suite struct ReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let weightsPath = root + "/weights/tiny/clip-tiny.h5"

    @Test func referenceFileRejectsWeightsFile() throws {
        let e = #expect(throws: ParityError.self) { try ReferenceFile(path: Self.weightsPath) }
        #expect(e?.message.contains("weights file") == true)
    }

    @Test func comparisonFigures() {
        let a = Matrix(rows: 2, cols: 2, data: [1, 0, 0, 1])
        let b = Matrix(rows: 2, cols: 2, data: [1, 0, 1, 1])
        let c = EmbeddingComparison(ours: a, reference: b)
        #expect(c.worst == 1)
        #expect(abs(c.minCosine - 1 / 2.0.squareRoot()) < 1e-12)
        #expect(c.maxAbsError == 1)
    }
}
