// libFuzzer target over the Annoy index loader and one search. The first input byte picks the metric and
// the dimension (1...32), the second k and search_k; the rest is the index file.
import AnnoyIndex
import ClipCore

func fuzzSeeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for (m, metric) in Metric.allCases.enumerated() {
        for (rows, dim, trees) in [(40, 8, 3), (5, 3, 2), (1, 1, 1)] {
            let vectors = Matrix(rows: rows, cols: dim, data: Fuzz.values(rows * dim, seed: UInt64(rows + m)))
            let built = try AnnoyBuilder.build(vectors, metric: metric, options: BuildOptions(trees: trees, seed: 42))
            let file = try Fuzz.written { try built.write(to: $0) }
            let head = UInt8(m * 32 + dim - 1)
            out["\(metric.rawValue)-\(rows)x\(dim)-t\(trees).annoy"] = [head, 0x35] + file
        }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAnnoy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    return Fuzz.run(data, size) { bytes in
        let metric = Metric.allCases[Int(bytes[0] / 32) % Metric.allCases.count]
        let dim = Int(bytes[0] % 32) + 1
        try Fuzz.withTempFile(Array(bytes.dropFirst(2)), suffix: ".annoy") { path in
            let index = try AnnoyIndex(path: path, metric: metric, dimension: dim, backing: size % 2 == 0 ? .mapping : .privateCopy)
            let k = min(index.itemCount, Int(bytes[1] & 0x0F) + 1)
            let searchK = bytes[1] >> 4 == 0 ? -1 : k * Int(bytes[1] >> 4)
            try index.checkParameters(k: k, searchK: searchK)
            let query = Matrix(rows: 1, cols: dim, data: Fuzz.values(dim, seed: UInt64(bytes[1])))
            try index.checkQueries(query)
            var ids: [Int32] = [], distances: [Float] = []
            query.data.withUnsafeBufferPointer {
                Searcher(index: index).query($0.baseAddress!, k: k, searchK: searchK, ids: &ids, distances: &distances)
            }
            precondition(ids.count == distances.count && ids.count <= k, "search returned \(ids.count) ids for k=\(k)")
            precondition(ids.allSatisfy { $0 >= 0 && Int($0) < index.itemCount }, "search returned an id outside the items")
        }
    }
}
