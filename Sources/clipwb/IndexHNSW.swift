// `clipwb index build|query --kind hnsw`: hnswlib graphs. A shell over HNSWIndex.
import ArgumentParser
import ClipCore
import ClipEval
import Foundation
import HNSWIndex

struct HNSWBuildSummary: Encodable {
    let index: String, sidecar: String, kind: String, items: Int, dimension: Int, space: String
    let m: Int, efConstruction: Int, seed: Int, bytes: Int, seconds: Double
}

struct HNSWQueryOutput: Encodable {
    let ids: [[UInt64]]
    let distances: [[Float]]
}

extension IndexBuild {
    func runHNSW() throws {
        try reportingErrors {
            let space = try HNSWSpace(parsing: metric)
            let params = HNSWParameters(m: m, efConstruction: efConstruction, seed: Int(seed ?? 100))
            let x = try VectorFiles.readFloats(vectors, what: "vector")
            let t0 = Clock.now()
            let ix = try HNSWIndex(space: space, dimension: x.cols, capacity: x.rows, parameters: params)
            try ix.add(x)
            let seconds = Clock.now() - t0
            try ix.save(to: out)
            try HNSWSidecar(dimension: x.cols, space: space, parameters: params, items: x.rows, source: vectors).write(for: out)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            if json {
                try printJSON(HNSWBuildSummary(index: out, sidecar: HNSWSidecar.path(for: out), kind: "hnsw", items: x.rows,
                                               dimension: x.cols, space: space.rawValue, m: m, efConstruction: efConstruction,
                                               seed: params.seed, bytes: bytes, seconds: seconds))
            } else {
                print("wrote \(out): \(x.rows) items × \(x.cols), hnsw \(space.rawValue), M \(m), ef_construction \(efConstruction), seed \(params.seed), \(bytes) bytes in \(String(format: "%.2f", seconds)) s (1 thread)")
            }
        }
    }
}

extension IndexQuery {
    /// --kind, else the sidecar's format, else annoy.
    func resolvedKind() throws -> IndexKind {
        if let kind { return kind }
        return (try? HNSWSidecar.read(for: index)) != nil ? .hnsw : .annoy
    }

    func runHNSW() throws {
        if searchK != nil { throw ValidationError("--search-k is for Annoy indexes; an HNSW index takes --ef") }
        if exact { throw ValidationError("--exact is for Annoy indexes; run `clipwb eval` for exact search against an HNSW graph") }
        try reportingErrors {
            let (ix, _) = try HNSWIndex.open(path: index, dimension: dim, space: try metric.map { try HNSWSpace(parsing: $0) })
            let q = try VectorFiles.readFloats(vectors, what: "query", defaultDataset: "test")
            if let ef { try ix.setEf(ef) }
            let t0 = Clock.now()
            let result = try ix.search(q, k: k, threads: threads)
            let s = Clock.now() - t0
            stderrLine("searched \(q.rows) queries in \(String(format: "%.3f", s)) s on \(threads) thread(s), ef \(ix.ef) (\(Int(Double(q.rows) / max(s, 1e-9))) queries/s)")
            if let out {
                let width = result.ids.map(\.count).max() ?? 0
                var flat: [Int] = []
                for row in result.ids {
                    for id in row {
                        guard let v = Int(exactly: id) else { throw HNSWError("query.label", "label \(id) does not fit in an int64 .npy; use --json") }
                        flat.append(v)
                    }
                    flat += [Int](repeating: -1, count: width - row.count)
                }
                try NPY.writeInts(flat, rows: q.rows, cols: width, to: out)
                print("wrote \(out): \(q.rows) × \(width) ids (-1 pads rows with fewer results)")
            } else if json {
                try printJSON(HNSWQueryOutput(ids: result.ids, distances: result.distances))
            } else {
                for (i, row) in result.ids.enumerated() {
                    print("\(i): " + zip(row, result.distances[i]).map { "\($0.0) (\(String(format: "%.4f", $0.1)))" }.joined(separator: " "))
                }
            }
        }
    }
}
