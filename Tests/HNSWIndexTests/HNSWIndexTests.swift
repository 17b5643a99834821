import ClipCore
import Foundation
@testable import HNSWIndex
import Testing

private func vectors(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> Float {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return Float(s >> 40) / Float(1 << 24) - 0.5
    }
    return Matrix(rows: rows, cols: cols, data: (0..<(rows * cols)).map { _ in next() })
}

private func tempDir() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-hnsw-\(UUID())").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

private func code(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch let e as HNSWError { return e.code + ": " + e.message } catch { return "\(error)" }
}

/// The naive twin: exact k nearest by the space's distance.
private func bruteForce(_ x: Matrix, _ q: [Float], k: Int, space: HNSWSpace) -> [Int] {
    func unit(_ v: [Float]) -> [Float] { let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot(); return v.map { $0 / n } }
    let qq = space == .cosine ? unit(q) : q
    let d = (0..<x.rows).map { r -> Float in
        let row = space == .cosine ? unit(Array(x.row(r))) : Array(x.row(r))
        switch space {
        case .l2: return zip(row, qq).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .ip, .cosine: return 1 - zip(row, qq).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }
    return Array((0..<x.rows).sorted { d[$0] < d[$1] }.prefix(k))
}

@Suite struct HNSWIndexTests {
    @Test(arguments: HNSWSpace.allCases)
    func findsTheTrueNeighbours(space: HNSWSpace) throws {
        let x = vectors(600, 16, seed: 1), q = vectors(20, 16, seed: 2)
        let ix = try HNSWIndex(space: space, dimension: 16, capacity: 600, parameters: HNSWParameters(m: 8, efConstruction: 100, seed: 7))
        try ix.add(x)
        #expect(ix.count == 600)
        try ix.setEf(200)
        let got = try ix.search(q, k: 10, threads: 2)
        var hits = 0
        for i in 0..<q.rows { hits += Set(got.ids[i].map(Int.init)).intersection(bruteForce(x, Array(q.row(i)), k: 10, space: space)).count }
        #expect(Double(hits) / Double(q.rows * 10) > 0.95)
        #expect(got.distances.allSatisfy { zip($0, $0.dropFirst()).allSatisfy { $0.0 <= $0.1 } })
    }

    @Test func saveAndLoadAnswerTheSame() throws {
        let dir = try tempDir()
        let x = vectors(500, 12, seed: 3), q = vectors(15, 12, seed: 4)
        let ix = try HNSWIndex(space: .l2, dimension: 12, capacity: 500)
        try ix.add(x)
        try ix.save(to: dir + "/a.hnsw")
        let back = try HNSWIndex(path: dir + "/a.hnsw", space: .l2, dimension: 12)
        #expect(back.count == 500 && back.parameters.m == 16 && back.parameters.efConstruction == 200)
        for ef in [10, 50] {
            try ix.setEf(ef); try back.setEf(ef)
            let a = try ix.search(q, k: 5), b = try back.search(q, k: 5)
            #expect(a.ids == b.ids && a.distances == b.distances)
        }
        // Same parameters and seed, one thread: the same file, byte for byte.
        let again = try HNSWIndex(space: .l2, dimension: 12, capacity: 500)
        try again.add(x)
        try again.save(to: dir + "/b.hnsw")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.hnsw")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.hnsw")))
        // A loaded index grows when added to.
        try back.add(vectors(10, 12, seed: 5), firstId: 500)
        #expect(back.count == 510)
    }

    @Test func badFilesAreRefusedBeforeHnswlibReadsThem() throws {
        let dir = try tempDir()
        let ix = try HNSWIndex(space: .ip, dimension: 8, capacity: 300, parameters: HNSWParameters(m: 4, efConstruction: 20, seed: 1))
        try ix.add(vectors(300, 8, seed: 6))
        let path = dir + "/good.hnsw"
        try ix.save(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func variant(_ name: String, _ edit: (inout [UInt8]) -> Void) throws -> String {
            var b = [UInt8](good)
            edit(&b)
            try Data(b).write(to: URL(fileURLWithPath: dir + "/" + name))
            return dir + "/" + name
        }
        func put<T>(_ v: T, at: Int, in b: inout [UInt8]) { withUnsafeBytes(of: v) { for (i, x) in $0.enumerated() { b[at + i] = x } } }

        #expect(code { _ = try HNSWIndex(path: path, space: .ip, dimension: 9) }?.contains("holds 8-dimensional vectors, not 9") == true)
        #expect(code { _ = try HNSWIndex(path: dir + "/missing", space: .ip, dimension: 8) }?.hasPrefix("hnsw.load.io") == true)
        #expect(code { _ = try HNSWIndex(path: dir, space: .ip, dimension: 8) }?.contains("is not a regular file") == true)
        let short = try variant("short", { $0.removeLast(5) })
        #expect(code { _ = try HNSWIndex(path: short, space: .ip, dimension: 8) }?.hasPrefix("hnsw.load.file") == true)
        let tiny = try variant("tiny", { $0 = Array($0.prefix(40)) })
        #expect(code { _ = try HNSWIndex(path: tiny, space: .ip, dimension: 8) }?.contains("shorter than the 96-byte header") == true)
        // A count that would make hnswlib multiply past the file (and its allocation past memory).
        let huge = try variant("huge", { put(UInt64(1) << 31, at: 16, in: &$0); put(UInt64(1) << 32, at: 8, in: &$0) })
        #expect(code { _ = try HNSWIndex(path: huge, space: .ip, dimension: 8) }?.contains("do not fit in") == true)
        // A capacity from the file is never used for allocation: a file claiming 2^50 slots loads fine.
        let roomy = try variant("roomy", { put(UInt64(1) << 50, at: 8, in: &$0) })
        #expect(try HNSWIndex(path: roomy, space: .ip, dimension: 8).capacity == 300)
        let badM = try variant("m", { put(UInt64(5), at: 72, in: &$0) })
        #expect(code { _ = try HNSWIndex(path: badM, space: .ip, dimension: 8) }?.contains("maxM0 = 2M") == true)
        let entry = try variant("entry", { put(UInt32(300), at: 52, in: &$0) })
        #expect(code { _ = try HNSWIndex(path: entry, space: .ip, dimension: 8) }?.contains("entry point 300") == true)
        // A level-0 neighbour id past the last element: hnswlib would read outside its data.
        let perElement = 2 * 4 * 4 + 4 + 8 * 4 + 8
        let link = try variant("link", { put(UInt32(70_000), at: 96 + 7 * perElement + 4, in: &$0) })
        #expect(code { _ = try HNSWIndex(path: link, space: .ip, dimension: 8) }?.contains("links to element 70000") == true)
        let count = try variant("count", { put(UInt16(9), at: 96 + 7 * perElement, in: &$0) })
        #expect(code { _ = try HNSWIndex(path: count, space: .ip, dimension: 8) }?.contains("has 9 level-0 links") == true)
        let zeros = try variant("zeros", { $0 = [UInt8](repeating: 0, count: $0.count) })
        #expect(code { _ = try HNSWIndex(path: zeros, space: .ip, dimension: 8) }?.hasPrefix("hnsw.load.file") == true)
    }

    @Test func parametersAndInputsAreChecked() throws {
        #expect(code { _ = try HNSWIndex(space: .l2, dimension: 4, capacity: 10, parameters: HNSWParameters(m: 1)) }?.contains("M must be in 2...32767") == true)
        let ix = try HNSWIndex(space: .l2, dimension: 4, capacity: 2)
        #expect(code { try ix.add(vectors(3, 5, seed: 1)) }?.contains("have 5 columns") == true)
        var nan = vectors(3, 4, seed: 1)
        nan.data[6] = .nan
        #expect(code { try ix.add(nan) }?.contains("row 1 holds nan at column 2") == true)
        try ix.add(vectors(3, 4, seed: 1))  // grows past the capacity
        #expect(ix.count == 3)
        #expect(code { try ix.setEf(0) }?.contains("ef must be at least 1") == true)
        let few = try ix.search(vectors(1, 4, seed: 2), k: 10)
        #expect(few.ids[0].count == 3)
    }
}
