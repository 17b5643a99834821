// Issue 4, point 6: every bad input is an error with a message the user can act on, never a crash.
import Testing
import Foundation
@testable import AnnoyIndex
import ClipCore

@Suite struct BadInputTests {
    let dir: String
    init() throws { dir = try Fixture.tempDir() }

    func built(_ metric: Metric = .angular, rows: Int = 300, dim: Int = 16) throws -> (String, Matrix) {
        let x = Fixture.vectors(rows, dim)
        let path = dir + "/i-\(metric.rawValue).ann"
        try AnnoyBuilder.build(x, metric: metric, options: BuildOptions(trees: 3, seed: 1, threads: 1)).write(to: path)
        return (path, x)
    }

    @Test func dimensionMismatchBetweenIndexAndQuery() throws {
        let (path, _) = try built()
        let ix = try AnnoyIndex(path: path, metric: .angular, dimension: 16)
        let m = Fixture.message { try ix.checkQueries(Fixture.vectors(2, 12)) }
        #expect(m?.contains("the query vectors have 12 columns but the index") == true)
        #expect(m?.contains("has dimension 16") == true)
    }

    @Test func nonFiniteVectorsNameTheRow() throws {
        var x = Fixture.vectors(10, 4)
        x.data[7 * 4 + 2] = .nan
        let m = Fixture.message { _ = try AnnoyBuilder.build(x, metric: .angular, options: BuildOptions(trees: 1)) }
        #expect(m == "vector row 7 holds nan at column 2; remove or repair that row (NaN/Inf cannot be indexed)")
        var q = Fixture.vectors(3, 16)
        q.data[2 * 16] = .infinity
        let (path, _) = try built()
        let ix = try AnnoyIndex(path: path, metric: .angular, dimension: 16)
        #expect(Fixture.message { try ix.checkQueries(q) }?.hasPrefix("query row 2 holds inf at column 0") == true)
    }

    @Test func truncatedIndexFile() throws {
        let (path, _) = try built()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir + "/cut.ann"
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: cut))
        let m = Fixture.message { _ = try AnnoyIndex(path: cut, metric: .angular, dimension: 16) }
        #expect(m?.contains("not a multiple of the 76-byte node of a angular index of dimension 16") == true)
        #expect(m?.contains("truncated or corrupt, or it was built with another --dim/--metric") == true)
        // The wrong dimension is caught the same way.
        #expect(Fixture.message { _ = try AnnoyIndex(path: path, metric: .angular, dimension: 17) }?.contains("not a multiple") == true)
    }

    @Test func childIdsOutOfRange() throws {
        let (path, _) = try built()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let size = NodeLayout(metric: .angular, f: 16).size
        // The first tree node after the 300 items: point its first child far outside the file.
        let node = 300 * size
        withUnsafeBytes(of: Int32(1_000_000).littleEndian) { for i in 0..<4 { bytes[node + 4 + i] = $0[i] } }
        let bad = dir + "/bad.ann"
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        let m = Fixture.message { _ = try AnnoyIndex(path: bad, metric: .angular, dimension: 16) }
        #expect(m?.hasPrefix("'\(bad)' is corrupt:") == true)
        #expect(m?.contains("1000000") == true)
    }

    @Test func garbageRootsAreRejected() throws {
        let junk = dir + "/junk.ann"
        var bytes = [UInt8](repeating: 0, count: 76 * 4)
        bytes[76 * 3] = 0xff; bytes[76 * 3 + 1] = 0xff; bytes[76 * 3 + 2] = 0xff; bytes[76 * 3 + 3] = 0x7f
        try Data(bytes).write(to: URL(fileURLWithPath: junk))
        let m = Fixture.message { _ = try AnnoyIndex(path: junk, metric: .angular, dimension: 16) }
        #expect(m?.contains("is corrupt: its roots claim 2147483647 items in a file of 4 nodes") == true)
    }

    @Test func kLargerThanTheCollection() throws {
        let (path, _) = try built(rows: 50)
        let ix = try AnnoyIndex(path: path, metric: .angular, dimension: 16)
        #expect(Fixture.message { try ix.checkParameters(k: 51, searchK: nil) }
            == "k=51 is larger than the collection: the index holds 50 items; ask for at most 50")
        #expect(Fixture.message { try ix.checkParameters(k: 50, searchK: nil) } == nil)
    }

    @Test func searchKSmallerThanK() throws {
        let (path, _) = try built()
        let ix = try AnnoyIndex(path: path, metric: .angular, dimension: 16)
        let m = Fixture.message { try ix.checkParameters(k: 10, searchK: 5) }
        #expect(m?.hasPrefix("search_k=5 is smaller than k=10") == true)
        #expect(Fixture.message { try ix.checkParameters(k: 10, searchK: -1) } == nil)
    }

    @Test func emptyIndex() throws {
        let empty = dir + "/empty.ann"
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(Fixture.message { _ = try AnnoyIndex(path: empty, metric: .angular, dimension: 16) }
            == "'\(empty)' is empty (0 bytes): the index holds no items; rebuild it from vectors with at least one row")
        let none = Matrix(rows: 0, cols: 16, data: [])
        #expect(Fixture.message { _ = try AnnoyBuilder.build(none, metric: .angular, options: BuildOptions(trees: 1)) }
            == "there are no vectors to index; pass a .npy with at least one row")
    }

    @Test func missingSidecarAsksForDim() throws {
        let (path, _) = try built()
        let m = Fixture.message { _ = try AnnoyIndex.open(path: path) }
        #expect(m?.contains("has no sidecar") == true && m?.contains("--dim") == true)
        #expect(try AnnoyIndex.open(path: path, dimension: 16).0.itemCount == 300)
        try IndexSidecar(dimension: 16, metric: .angular, trees: 3, seed: 1, threads: 1, items: 300, source: "test").write(for: path)
        #expect(try AnnoyIndex.open(path: path).0.dimension == 16)
        #expect(Fixture.message { _ = try AnnoyIndex.open(path: path, dimension: 8) }?.contains("disagrees with the sidecar") == true)
    }

    @Test func unknownMetric() {
        #expect(Fixture.message { _ = try Metric(parsing: "cosine") } == "unknown metric 'cosine'; use one of: angular, euclidean, dot")
    }
}
