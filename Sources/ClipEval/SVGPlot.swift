// Recall vs queries/s, drawn like ann-benchmarks' plots: recall on x (linear), queries/s on y (log),
// one line per tree count through its search_k points, one dashed line per HNSW graph through its ef points,
// exact search as a reference star.
import Foundation

public enum SVGPlot {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public static func recallVsQPS(_ r: SweepResult, k: Int) -> String {
        let w = 860.0, h = 560.0, left = 80.0, right = 170.0, top = 50.0, bottom = 60.0
        let pw = w - left - right, ph = h - top - bottom
        let runs = r.runs.filter { $0.k == k }
        let qps = runs.map(\.qpsSingle) + [r.exact.qps]
        let lo = floor(log10(max(qps.min() ?? 1, 1e-3))), hi = ceil(log10(max(qps.max() ?? 10, 1e-3) * 1.0001))
        let yHi = hi > lo ? hi : lo + 1
        let minRecall = runs.map(\.recall).min() ?? 0
        let xLo = max(0, min(0.9, floor(minRecall * 10) / 10)), xHi = 1.0
        func x(_ v: Double) -> Double { left + (v - xLo) / (xHi - xLo) * pw }
        func y(_ q: Double) -> Double { top + ph - (log10(max(q, 1e-3)) - lo) / (yHi - lo) * ph }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(left + pw / 2)" y="28" text-anchor="middle" font-size="15">Recall@\(k) vs queries/s — \(r.config.metric.rawValue), \(r.items) × \(r.dimension), 1 thread</text>

        """
        // Grid and axes.
        var t = xLo
        while t <= xHi + 1e-9 {
            s += "<line x1=\"\(x(t))\" y1=\"\(top)\" x2=\"\(x(t))\" y2=\"\(top + ph)\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(x(t))\" y=\"\(top + ph + 18)\" text-anchor=\"middle\">\(String(format: "%.1f", t))</text>\n"
            t += 0.1
        }
        for e in Int(lo)...Int(yHi) {
            let q = pow(10, Double(e))
            s += "<line x1=\"\(left)\" y1=\"\(y(q))\" x2=\"\(left + pw)\" y2=\"\(y(q))\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(left - 8)\" y=\"\(y(q) + 4)\" text-anchor=\"end\">\(e >= 0 ? String(Int(q)) : String(q))</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(left + pw / 2)\" y=\"\(h - 18)\" text-anchor=\"middle\" font-size=\"13\">Recall@\(k) (ann-benchmarks, tie-tolerant)</text>\n"
        s += "<text transform=\"translate(22 \(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">Queries per second (1/s, log scale)</text>\n"
        // One line per tree count.
        var legendY = top + 10
        for (i, trees) in r.config.trees.enumerated() {
            let pts = runs.filter { $0.family == "annoy" && $0.trees == trees }.sorted { $0.recall < $1.recall }
            guard !pts.isEmpty else { continue }
            let color = palette[i % palette.count]
            let path = pts.map { "\(x($0.recall)),\(y($0.qpsSingle))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for p in pts {
                s += "<circle cx=\"\(x(p.recall))\" cy=\"\(y(p.qpsSingle))\" r=\"4\" fill=\"\(color)\"><title>trees \(trees), search_k \(Report.sk(p.searchK)) (\(p.effectiveSearchK ?? 0)): recall \(String(format: "%.3f", p.recall)), \(Int(p.qpsSingle)) q/s</title></circle>\n"
            }
            s += "<line x1=\"\(left + pw + 15)\" y1=\"\(legendY)\" x2=\"\(left + pw + 40)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2\"/><circle cx=\"\(left + pw + 27.5)\" cy=\"\(legendY)\" r=\"4\" fill=\"\(color)\"/>"
            s += "<text x=\"\(left + pw + 48)\" y=\"\(legendY + 4)\">\(trees) tree\(trees == 1 ? "" : "s")</text>\n"
            legendY += 20
        }
        // One line per HNSW graph (M, ef_construction) through its ef points.
        let graphs = (r.config.hnsw.map { g in g.ms.flatMap { m in g.efConstructions.map { (m, $0) } } }) ?? []
        for (j, (m, efc)) in graphs.enumerated() {
            let pts = runs.filter { $0.family == "hnsw" && $0.m == m && $0.efConstruction == efc }.sorted { $0.recall < $1.recall }
            guard !pts.isEmpty else { continue }
            let color = palette[(r.config.trees.count + j) % palette.count]
            let path = pts.map { "\(x($0.recall)),\(y($0.qpsSingle))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
            for p in pts {
                s += "<rect x=\"\(x(p.recall) - 4)\" y=\"\(y(p.qpsSingle) - 4)\" width=\"8\" height=\"8\" fill=\"\(color)\"><title>HNSW M \(m), ef_construction \(efc), ef \(p.ef ?? 0): recall \(String(format: "%.3f", p.recall)), \(Int(p.qpsSingle)) q/s</title></rect>\n"
            }
            s += "<line x1=\"\(left + pw + 15)\" y1=\"\(legendY)\" x2=\"\(left + pw + 40)\" y2=\"\(legendY)\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/><rect x=\"\(left + pw + 23.5)\" y=\"\(legendY - 4)\" width=\"8\" height=\"8\" fill=\"\(color)\"/>"
            s += "<text x=\"\(left + pw + 48)\" y=\"\(legendY + 4)\">HNSW M\(m) efc\(efc)</text>\n"
            legendY += 20
        }
        // Exact search reference.
        let ex = x(1.0), ey = y(r.exact.qps)
        s += "<path d=\"M \(ex) \(ey - 8) L \(ex + 3) \(ey - 2) L \(ex + 8) \(ey - 2) L \(ex + 4) \(ey + 2) L \(ex + 6) \(ey + 8) L \(ex) \(ey + 4) L \(ex - 6) \(ey + 8) L \(ex - 4) \(ey + 2) L \(ex - 8) \(ey - 2) L \(ex - 3) \(ey - 2) Z\" fill=\"black\"><title>exact search (BLAS, batched): \(Int(r.exact.qps)) q/s</title></path>\n"
        s += "<path d=\"M \(left + pw + 27.5) \(legendY - 7) l 3 6 l 5 0 l -4 4 l 2 6 l -6 -4 l -6 4 l 2 -6 l -4 -4 l 5 0 Z\" fill=\"black\"/>"
        s += "<text x=\"\(left + pw + 48)\" y=\"\(legendY + 4)\">exact (BLAS)</text>\n"
        s += "<text x=\"\(left + pw + 15)\" y=\"\(legendY + 30)\" font-size=\"11\" fill=\"#555\">points: search_k (annoy), ef (HNSW)</text>\n"
        s += "</svg>\n"
        return s
    }
}
