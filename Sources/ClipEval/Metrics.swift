// Measuring, apart from running: ann-benchmarks' tie-tolerant recall and latency percentiles,
// computed from the raw per-query ids and times a run stores.
import AnnoyIndex
import ClipCore

public enum Metrics {
    /// ann-benchmarks' knn recall tolerance: a returned item counts if its true distance is at most
    /// the k-th true neighbour's distance + 1e-3, so ties at the k-th place are not penalised.
    public static let epsilon = 1e-3

    /// ann-benchmarks' distance for the metric, in double: angular 1 − cos, euclidean L2, dot −x·y.
    public static func trueDistance(_ metric: Metric, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0, l2 = 0.0
        for i in 0..<d {
            let x = Double(a[i]), y = Double(b[i])
            ab += x * y; aa += x * x; bb += y * y; l2 += (x - y) * (x - y)
        }
        switch metric {
        case .angular: return aa * bb > 0 ? 1 - ab / (aa * bb).squareRoot() : 1
        case .euclidean: return l2.squareRoot()
        case .dot: return -ab
        }
    }

    /// Per-query recall@k: |{returned r among the first k : dist(r) ≤ dist(gt[k−1]) + ε}| / k.
    public static func recall(metric: Metric, base: Matrix, queries: Matrix, groundTruth: [[Int32]],
                              results: [[Int32]], k: Int) -> [Double] {
        let d = base.cols
        return base.data.withUnsafeBufferPointer { x in
            queries.data.withUnsafeBufferPointer { q in
                (0..<queries.rows).map { i -> Double in
                    let qp = q.baseAddress! + i * d
                    let kth = Int(groundTruth[i][k - 1])
                    let threshold = trueDistance(metric, qp, x.baseAddress! + kth * d, d) + epsilon
                    var hits = 0
                    for r in results[i].prefix(k) where trueDistance(metric, qp, x.baseAddress! + Int(r) * d, d) <= threshold {
                        hits += 1
                    }
                    return Double(hits) / Double(k)
                }
            }
        }
    }

    /// Nearest-rank percentile (p in 0...100) of unsorted values.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted()
        let rank = Int((p / 100 * Double(s.count)).rounded(.up)) - 1
        return s[min(max(rank, 0), s.count - 1)]
    }

    public static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
}
