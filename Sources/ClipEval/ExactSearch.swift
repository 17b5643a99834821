// Exact k-NN with BLAS: the runner's ground truth and the right tool for small collections.
// Scores come from one sgemm per batch of queries: S[q, n] = Q[q, d] · Xᵀ[d, n] (row-major, TransB),
// turned into each metric's distance with the stored squared norms, then the k best by (distance, id).
import AnnoyIndex
import CBLAS
import ClipCore
import Dispatch

public struct ExactSearch: Sendable {
    public let base: Matrix
    public let metric: Metric
    /// |x|² of every base row.
    let norms: [Float]

    public init(base: Matrix, metric: Metric) {
        self.base = base
        self.metric = metric
        var n = [Float](repeating: 0, count: base.rows)
        for r in 0..<base.rows {
            var s: Float = 0
            for c in 0..<base.cols { s += base.data[r * base.cols + c] * base.data[r * base.cols + c] }
            n[r] = s
        }
        norms = n
    }

    /// Annoy's reported distance from a query (with |q|² = qq) to base row j, given their dot product.
    @inline(__always)
    func distance(dot: Float, qq: Float, j: Int) -> Float {
        switch metric {
        case .angular:
            let ppqq = qq * norms[j]
            return ppqq > 0 ? Float(max(2.0 - 2.0 * Double(dot) / Double(ppqq.squareRoot()), 0)).squareRoot() : Float(2).squareRoot()
        case .euclidean: return max(qq + norms[j] - 2 * dot, 0).squareRoot()
        case .dot: return dot
        }
    }

    /// The k nearest base rows of every query, nearest first (dot: largest first).
    public func search(_ queries: Matrix, k: Int, batch: Int = 256) -> (ids: [[Int32]], distances: [[Float]]) {
        precondition(queries.cols == base.cols)
        var ids = [[Int32]](repeating: [], count: queries.rows)
        var dists = [[Float]](repeating: [], count: queries.rows)
        let n = base.rows, d = base.cols, kk = min(k, n)
        var scores = [Float](repeating: 0, count: min(batch, queries.rows) * n)
        var start = 0
        while start < queries.rows {
            let b = min(batch, queries.rows - start)
            // scores: [b, n] = Q[start..<start+b, d] · Xᵀ; one query: [n] = X[n, d] · q (sgemv streams X once,
            // where sgemm would pack all of X for a single row).
            queries.data.withUnsafeBufferPointer { q in
                base.data.withUnsafeBufferPointer { x in
                    scores.withUnsafeMutableBufferPointer { s in
                        if b == 1 {
                            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, x.baseAddress!, Int32(d),
                                        q.baseAddress! + start * d, 1, 0, s.baseAddress!, 1)
                        } else {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(b), Int32(n), Int32(d), 1,
                                        q.baseAddress! + start * d, Int32(d), x.baseAddress!, Int32(d), 0, s.baseAddress!, Int32(n))
                        }
                    }
                }
            }
            scores.withUnsafeBufferPointer { s in
                for i in 0..<b {
                    let r = start + i
                    var qq: Float = 0
                    for c in 0..<d { qq += queries.data[r * d + c] * queries.data[r * d + c] }
                    var top = TopK(k: kk)
                    for j in 0..<n {
                        let dist = distance(dot: s[i * n + j], qq: qq, j: j)
                        top.offer(metric == .dot ? -dist : dist, Int32(j))
                    }
                    let sorted = top.sorted()
                    ids[r] = sorted.map { $0.1 }
                    dists[r] = sorted.map { metric == .dot ? -$0.0 : $0.0 }
                }
            }
            start += b
        }
        return (ids, dists)
    }

    /// The k nearest base rows of one query (dimension floats), nearest first: one BLAS product [1, d] · Xᵀ.
    public func search(_ query: UnsafePointer<Float>, k: Int) -> (ids: [Int32], distances: [Float]) {
        let r = search(Matrix(rows: 1, cols: base.cols, data: Array(UnsafeBufferPointer(start: query, count: base.cols))), k: k, batch: 1)
        return (r.ids[0], r.distances[0])
    }

    /// Bytes exact search holds: the vectors it scans and their squared norms.
    public var memoryBytes: Int { base.rows * base.cols * 4 + norms.count * 4 }

    /// The naive twin: every distance in double, full sort. Kernel tests compare against it.
    public func naiveSearch(_ q: [Float], k: Int) -> [Int32] {
        var all: [(Double, Int32)] = []
        for j in 0..<base.rows {
            let x = Array(base.row(j))
            let dot = NaiveDistance.dot(q, x)
            let key: Double
            switch metric {
            case .angular:
                let nq = NaiveDistance.dot(q, q), nx = NaiveDistance.dot(x, x)
                key = nq * nx > 0 ? 1 - dot / (nq * nx).squareRoot() : 1
            case .euclidean: key = NaiveDistance.euclidean(q, x)
            case .dot: key = -dot
            }
            all.append((key, Int32(j)))
        }
        return all.sorted { $0 < $1 }.prefix(k).map { $0.1 }
    }
}

/// The k smallest (key, id) pairs: a bounded max-heap.
struct TopK {
    let k: Int
    var heap: [(Float, Int32)] = []

    init(k: Int) { self.k = k; heap.reserveCapacity(k) }

    @inline(__always) mutating func offer(_ key: Float, _ id: Int32) {
        if heap.count < k {
            heap.append((key, id))
            var c = heap.count - 1
            while c > 0, heap[(c - 1) / 2] < heap[c] { heap.swapAt(c, (c - 1) / 2); c = (c - 1) / 2 }
        } else if (key, id) < heap[0] {
            heap[0] = (key, id)
            var p = 0
            while true {
                let l = 2 * p + 1
                guard l < heap.count else { break }
                var c = l
                if l + 1 < heap.count && heap[l] < heap[l + 1] { c = l + 1 }
                guard heap[p] < heap[c] else { break }
                heap.swapAt(p, c)
                p = c
            }
        }
    }

    func sorted() -> [(Float, Int32)] { heap.sorted { $0 < $1 } }
}
