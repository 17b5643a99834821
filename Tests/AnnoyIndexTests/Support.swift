// Shared test fixtures: seeded vectors, a temporary folder, index building helpers.
import Foundation
@testable import AnnoyIndex
import ClipCore

enum Fixture {
    /// Seeded, roughly Gaussian vectors (sum of uniforms), deterministic across platforms.
    static func vectors(_ rows: Int, _ cols: Int, seed: UInt64 = 7) -> Matrix {
        var rng = Kiss64Random(seed: seed)
        var data = [Float](repeating: 0, count: rows * cols)
        for i in data.indices {
            var s: Float = 0
            for _ in 0..<4 { s += Float(rng.kiss() >> 40) / Float(1 << 24) }
            data[i] = s - 2
        }
        return Matrix(rows: rows, cols: cols, data: data)
    }

    static func tempDir() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-annoy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Builds, saves and loads an index (the way users get one).
    static func index(_ x: Matrix, metric: Metric, trees: Int, threads: Int = 1, seed: UInt64 = 42,
                      dir: String) throws -> AnnoyIndex {
        let path = dir + "/\(metric.rawValue)-\(trees)-\(threads).ann"
        try AnnoyBuilder.build(x, metric: metric, options: BuildOptions(trees: trees, seed: seed, threads: threads)).write(to: path)
        return try AnnoyIndex(path: path, metric: metric, dimension: x.cols)
    }

    /// Brute force by Annoy's own distance, ties broken by id: what search must return when it sees everything.
    static func bruteForce(_ ix: AnnoyIndex, _ q: [Float], k: Int) -> [Int32] {
        let s = Searcher(index: ix)
        var ids: [Int32] = [], d: [Float] = []
        q.withUnsafeBufferPointer { s.query($0.baseAddress!, k: ix.itemCount, searchK: Int.max, ids: &ids, distances: &d) }
        return Array(ids.prefix(k))
    }

    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ClipwbError { return e.message } catch { return "\(error)" }
    }
}
