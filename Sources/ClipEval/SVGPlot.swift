// The sweep's plots, in the spirit of ann-benchmarks' but readable at a glance: recall on an axis that spreads
// 0.9, 0.99, 0.999 apart (x = −log10(1 − recall), labelled in recall), a log y axis, every point labelled with
// its parameters, each family's Pareto frontier drawn thick. Per k: queries/s (one query at a time on one
// thread; exact search batched on the query threads drawn as its own hollow star), build time, index size.
import Foundation

public enum SVGPlot {
    public enum Measure: String, CaseIterable, Sendable {
        case qps, build, size

        var suffix: String { self == .qps ? "" : "-" + rawValue }
        /// Higher is better only for queries/s.
        var higherIsBetter: Bool { self == .qps }

        func value(_ r: RunRecord) -> Double {
            switch self {
            case .qps: return r.qpsSingle
            case .build: return r.buildSecondsQueried
            case .size: return Double(r.indexBytes)
            }
        }
    }

    static let colors = ["exact": "#222222", "annoy": "#1f6fb4", "hnsw": "#d6402b"]
    static let families = ["exact", "annoy", "hnsw"]
    /// Recall 0.9999 and above sits at the right edge.
    static let recallCap = 4.0

    /// plot.svg (the main k's queries/s plot), then per k: plot-kK.svg, plot-kK-build.svg, plot-kK-size.svg.
    public static func names(_ r: SweepResult) -> [String] { all(r, target: nil, render: false).map(\.0) }

    public static func all(_ r: SweepResult, target: Double?, render: Bool = true) -> [(String, String)] {
        var out: [(String, String)] = [("plot.svg", render ? chart(r, k: Report.mainK(r), measure: .qps, target: target) : "")]
        for k in r.config.ks {
            for m in Measure.allCases {
                out.append(("plot-k\(k)\(m.suffix).svg", render ? chart(r, k: k, measure: m, target: target) : ""))
            }
        }
        return out
    }

    /// −log10(1 − recall), capped at 4 (recall 0.9999).
    static func spread(_ recall: Double) -> Double { min(recallCap, -log10(max(1e-12, 1 - recall))) }

    static func title(_ r: SweepResult, k: Int, measure: Measure) -> (String, String) {
        let what = "\(r.config.metric.rawValue), \(r.items) × \(r.dimension), \(r.queryCount) queries, median of \(r.config.runs) run\(r.config.runs == 1 ? "" : "s")"
        switch measure {
        case .qps:
            return ("Recall@\(k) vs queries/s — \(what)",
                    "filled: one query at a time on 1 thread (exact: BLAS on 1 thread); hollow star: exact search batched on \(r.config.queryThreads) thread\(r.config.queryThreads == 1 ? "" : "s")")
        case .build:
            return ("Recall@\(k) vs build time — \(what)",
                    "Annoy built on \(r.config.buildThreads.last ?? 1) thread\(r.config.buildThreads.last == 1 ? "" : "s"), HNSW on 1 thread; exact: computing the norms")
        case .size:
            return ("Recall@\(k) vs index size — \(what)", "bytes of the index file (exact: the vectors and norms it scans)")
        }
    }

    static func label(_ p: RunRecord) -> String {
        switch p.family {
        case "annoy": return "\(p.trees ?? 0)t sk\(p.effectiveSearchK ?? 0)"
        case "hnsw": return "M\(p.m ?? 0) efc\(p.efConstruction ?? 0) ef\(p.ef ?? 0)"
        default: return "exact"
        }
    }

    static func tickText(_ v: Double, measure: Measure) -> String {
        func short(_ x: Double) -> String {
            x >= 1e6 ? String(format: "%gM", x / 1e6) : x >= 1e3 ? String(format: "%gk", x / 1e3) : String(format: "%g", x)
        }
        switch measure {
        case .qps: return short(v)
        case .build: return String(format: "%g s", v)
        case .size: return v >= 1e6 ? String(format: "%g MB", v / 1e6) : String(format: "%g kB", v / 1e3)
        }
    }

    public static func chart(_ r: SweepResult, k: Int, measure: Measure, target: Double?) -> String {
        let w = 1000.0, h = 640.0, left = 90.0, right = 190.0, top = 70.0, bottom = 60.0
        let pw = w - left - right, ph = h - top - bottom
        let runs = r.runs.filter { $0.k == k && $0.recall.isFinite }
        let exactBatched = measure == .qps ? runs.first { $0.family == "exact" } : nil
        let ys = (runs.map(measure.value) + (exactBatched.map { [$0.qpsBatched] } ?? [])).filter { $0 > 0 && $0.isFinite }
        let lo = floor(log10(ys.min() ?? 1)), hi0 = ceil(log10((ys.max() ?? 10) * 1.0001))
        let hi = hi0 > lo ? hi0 : lo + 1
        let recallTicks: [(Double, String)] = [(0, "0"), (spread(0.5), "0.5"), (1, "0.9"), (2, "0.99"), (3, "0.999"), (4, "0.9999+")]
        let xs = runs.map { spread($0.recall) }
        let xLo = recallTicks.map(\.0).last { $0 <= (xs.min() ?? 0) } ?? 0
        let xHi = max(3, recallTicks.map(\.0).first { $0 >= (xs.max() ?? 3) } ?? recallCap)
        func x(_ recall: Double) -> Double { left + (spread(recall) - xLo) / (xHi - xLo) * pw }
        func y(_ v: Double) -> Double { top + ph - (log10(max(v, pow(10, lo))) - lo) / (hi - lo) * ph }
        let (t1, t2) = title(r, k: k, measure: measure)
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text id="title" x="\(left + pw / 2)" y="26" text-anchor="middle" font-size="15">\(esc(t1))</text>
        <text id="subtitle" x="\(left + pw / 2)" y="46" text-anchor="middle" font-size="11" fill="#444">\(esc(t2))</text>

        """
        for (v, text) in recallTicks where v >= xLo - 1e-9 && v <= xHi + 1e-9 {
            let px = left + (v - xLo) / (xHi - xLo) * pw
            s += "<line x1=\"\(px)\" y1=\"\(top)\" x2=\"\(px)\" y2=\"\(top + ph)\" stroke=\"#e5e5e5\"/>"
            s += "<text class=\"xtick\" x=\"\(px)\" y=\"\(top + ph + 18)\" text-anchor=\"middle\">\(text)</text>\n"
        }
        for e in Int(lo)...Int(hi) {
            let v = pow(10, Double(e))
            s += "<line x1=\"\(left)\" y1=\"\(y(v))\" x2=\"\(left + pw)\" y2=\"\(y(v))\" stroke=\"#e5e5e5\"/>"
            s += "<text class=\"ytick\" x=\"\(left - 8)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(tickText(v, measure: measure))</text>\n"
        }
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(left + pw / 2)\" y=\"\(h - 18)\" text-anchor=\"middle\" font-size=\"13\">Recall@\(k) (tie-tolerant; axis spread as −log10(1 − recall))</text>\n"
        let yTitle = measure == .qps ? "Queries per second (log scale)" : measure == .build ? "Build seconds (log scale)" : "Index size (log scale)"
        s += "<text transform=\"translate(22 \(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(yTitle)</text>\n"
        if let target {
            s += "<line class=\"target\" x1=\"\(x(target))\" y1=\"\(top)\" x2=\"\(x(target))\" y2=\"\(top + ph)\" stroke=\"#2a9d3a\" stroke-dasharray=\"4 4\"/>"
            s += "<text x=\"\(x(target) + 4)\" y=\"\(top + 14)\" fill=\"#2a9d3a\" font-size=\"11\">target \(target)</text>\n"
        }
        // Thin lines: one per forest (through its search_k points) and per graph (through its ef points).
        let groups = Dictionary(grouping: runs.filter { $0.family != "exact" }) { "\($0.family) \($0.trees ?? 0) \($0.m ?? 0) \($0.efConstruction ?? 0)" }
        for key in groups.keys.sorted() {
            let pts = groups[key]!.sorted { $0.recall < $1.recall }
            guard pts.count > 1 else { continue }
            s += "<polyline points=\"\(pts.map { "\(x($0.recall)),\(y(measure.value($0)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colors[pts[0].family]!)\" stroke-opacity=\"0.3\" stroke-width=\"1\"/>\n"
        }
        // Frontiers: per family, no other setting is better on this measure with at least the same recall.
        for f in families {
            let front = Recommender.frontier(runs, family: f, k: k) { p in
                [measure.higherIsBetter ? -measure.value(p) : measure.value(p)] + Objective.p50.key(p)
            }.sorted { $0.recall < $1.recall }
            guard !front.isEmpty else { continue }
            s += "<polyline class=\"frontier\" data-family=\"\(f)\" points=\"\(front.map { "\(x($0.recall)),\(y(measure.value($0)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colors[f]!)\" stroke-width=\"3\" stroke-opacity=\"0.85\"/>\n"
        }
        var labels = LabelPlacer(maxX: left + pw + 10)
        for p in runs {
            let (px, py, c) = (x(p.recall), y(measure.value(p)), colors[p.family]!)
            let tip = "\(p.parameters): recall \(Report.f(p.recall, 4)), \(tickText(measure.value(p), measure: measure))"
            s += marker(p.family, px, py, fill: c) + "<title>\(esc(tip))</title></g>\n"
            let (lx, ly, anchor) = labels.place(label(p), at: px, py)
            s += "<text class=\"label\" x=\"\(lx)\" y=\"\(ly)\" text-anchor=\"\(anchor)\" font-size=\"9\" fill=\"\(c)\">\(esc(label(p)))</text>\n"
        }
        if let e = exactBatched {
            let (px, py) = (x(e.recall), y(e.qpsBatched))
            s += marker("exact-batched", px, py, fill: "white") + "<title>exact search batched on \(e.batchThreads) threads: \(Int(e.qpsBatched)) queries/s</title></g>\n"
            s += "<text class=\"label\" x=\"\(px + 8)\" y=\"\(py - 6)\" font-size=\"9\" fill=\"#222\">exact, batched \(e.batchThreads) thr</text>\n"
        }
        // Legend.
        var ly = top + 10
        let present = families.filter { f in runs.contains { $0.family == f } }
        for f in present {
            let name = f == "exact" ? "exact (BLAS, 1 thread)" : f == "annoy" ? "Annoy (clipwb)" : "HNSW (hnswlib)"
            s += marker(f, left + pw + 27, ly, fill: colors[f]!, legend: true) + "</g><text x=\"\(left + pw + 42)\" y=\"\(ly + 4)\">\(name)</text>\n"
            ly += 20
        }
        if exactBatched != nil {
            s += marker("exact-batched", left + pw + 27, ly, fill: "white", legend: true) + "</g><text x=\"\(left + pw + 42)\" y=\"\(ly + 4)\">exact, batched \(r.config.queryThreads) thr</text>\n"
            ly += 20
        }
        s += "<line x1=\"\(left + pw + 15)\" y1=\"\(ly)\" x2=\"\(left + pw + 39)\" y2=\"\(ly)\" stroke=\"#555\" stroke-width=\"3\"/><text x=\"\(left + pw + 42)\" y=\"\(ly + 4)\">Pareto frontier</text>\n"
        ly += 20
        s += "<text x=\"\(left + pw + 15)\" y=\"\(ly + 4)\" font-size=\"10\" fill=\"#555\">labels: Nt skS = N trees,</text>"
        s += "<text x=\"\(left + pw + 15)\" y=\"\(ly + 18)\" font-size=\"10\" fill=\"#555\">search_k S; M efc ef (HNSW)</text>\n"
        s += "</svg>\n"
        return s
    }

    /// A family's marker, opened as a group (the caller adds a title and closes it): circle Annoy, square HNSW,
    /// star exact (hollow when batched).
    static func marker(_ family: String, _ x: Double, _ y: Double, fill: String, legend: Bool = false) -> String {
        let cls = "\(legend ? "key" : "point") \(family)"
        switch family {
        case "annoy": return "<g class=\"\(cls)\"><circle cx=\"\(x)\" cy=\"\(y)\" r=\"4\" fill=\"\(fill)\"/>"
        case "hnsw": return "<g class=\"\(cls)\"><rect x=\"\(x - 4)\" y=\"\(y - 4)\" width=\"8\" height=\"8\" fill=\"\(fill)\"/>"
        default:
            let star = "M \(x) \(y - 8) L \(x + 2.5) \(y - 2.5) L \(x + 8) \(y - 2.5) L \(x + 3.5) \(y + 1.5) L \(x + 5.5) \(y + 8) L \(x) \(y + 4) L \(x - 5.5) \(y + 8) L \(x - 3.5) \(y + 1.5) L \(x - 8) \(y - 2.5) L \(x - 2.5) \(y - 2.5) Z"
            return "<g class=\"\(cls)\"><path d=\"\(star)\" fill=\"\(fill)\" stroke=\"#222\" stroke-width=\"1.2\"/>"
        }
    }

    /// Puts each point's label where it overlaps no label placed before: right-above, right-below, left-above,
    /// left-below, further up, further down (9-px text, ~5 px per character), never into the legend; the first free
    /// spot, else the first that fits.
    struct LabelPlacer {
        /// Labels end before this x (the legend starts there).
        let maxX: Double
        var boxes: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []

        mutating func place(_ text: String, at x: Double, _ y: Double) -> (Double, Double, String) {
            let w = Double(text.count) * 5, h = 9.0
            let spots: [(Double, Double, String)] = [(x + 6, y - 5, "start"), (x + 6, y + 12, "start"), (x - 6, y - 5, "end"),
                                                     (x - 6, y + 12, "end"), (x + 6, y - 15, "start"), (x + 6, y + 22, "start")]
            func box(_ s: (Double, Double, String)) -> (x0: Double, y0: Double, x1: Double, y1: Double) {
                s.2 == "start" ? (s.0, s.1 - h, s.0 + w, s.1) : (s.0 - w, s.1 - h, s.0, s.1)
            }
            let fitting = spots.filter { box($0).x1 <= maxX }
            let free = fitting.first { s in
                let b = box(s)
                return !boxes.contains { $0.x0 < b.x1 && b.x0 < $0.x1 && $0.y0 < b.y1 && b.y0 < $0.y1 }
            } ?? fitting.first ?? spots[2]
            boxes.append(box(free))
            return free
        }
    }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
