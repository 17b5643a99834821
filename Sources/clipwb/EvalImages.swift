// `clipwb eval --images DIR --weights W [--texts FILE]`: the folder embedded once through ClipEmbed (the one image
// pipeline `embed` and `ingest` use), cached in the output folder under a key of the weights' sha256 and the file
// list (paths, sizes, modification times), L2-normalized; queries are the texts' embeddings or held-out images.
// The sweep then reads plain .npy rows: ClipEval never sees a model.
import AnnoyIndex
import ClipCore
import ClipEmbed
import ClipEval
import ClipModel
import ClipSearch
import ClipTokenizer
import ClipWeights
import Foundation

struct ImageEvalSet {
    var base: String
    var queries: String
    var summary: String

    struct Manifest: Codable {
        var key: String
        var weights: String
        var weightsSha256: String
        var images: Int
        var skipped: [String]
    }

    static func make(folder: String, weights: String, texts: String?, holdout: Int?, seed: UInt64, batch: Int,
                     out: String) throws -> ImageEvalSet {
        var ignored = 0
        let paths = try ImageInputs.expand([folder], ignored: &ignored)
        let sha = try SHA256.hexDigest(ofFile: WeightSource.open(weights).weightsFile)
        let listing = paths.map { p -> String in
            let a = try? FileManager.default.attributesOfItem(atPath: p)
            let size = (a?[.size] as? Int) ?? -1
            let mtime = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(p)\t\(size)\t\(mtime)"
        }
        let key = String(SHA256.hexDigest(Array((sha + "\n" + listing.joined(separator: "\n")).utf8)).prefix(16))
        let cache = out + "/embeddings-\(key)"
        var model: CLIPModel?
        func loaded() throws -> CLIPModel {
            if let model { return model }
            model = try ModelLoading.load(weights)
            return model!
        }
        var embedded: Matrix, names: [String], note: String
        if FileManager.default.fileExists(atPath: cache + ".npy"), FileManager.default.fileExists(atPath: cache + ".names.txt") {
            embedded = try NPY.readMatrix(cache + ".npy")
            names = try TextFile.readLines(cache + ".names.txt")
            guard names.count == embedded.rows else {
                throw EvalError("images.cache", "the cached embeddings '\(cache).npy' and their names disagree (\(embedded.rows) rows, \(names.count) names); delete both to embed again")
            }
            note = "reused the cached embeddings \(cache).npy (same weights sha256 and file list)"
        } else {
            let t0 = Clock.now()
            let r = try ImageEmbedder(model: try loaded(), batch: batch).embed(paths: paths)
            embedded = r.embeddings
            embedded.normalizeRows()
            names = r.kept
            try NPY.write(embedded, to: cache + ".npy")
            try AtomicFile.write(cache + ".names.txt", chunks: [Array((names.joined(separator: "\n") + "\n").utf8)])
            let manifest = Manifest(key: key, weights: weights, weightsSha256: sha, images: names.count,
                                    skipped: r.failed.map { "\($0.path): \($0.message)" })
            try AtomicFile.write(cache + ".json", chunks: [Array(try JSONStyle.encoder().encode(manifest)) + [10]])
            note = "embedded \(names.count) images in \(String(format: "%.1f", Clock.now() - t0)) s (\(r.failed.count) skipped) → \(cache).npy"
        }
        guard embedded.rows >= 2 else {
            throw EvalError("images.too-few", "'\(folder)' gave \(embedded.rows) embeddable image(s); an evaluation needs at least 2")
        }
        let basePath = out + "/base.npy", queryPath = out + "/queries.npy"
        if let texts {
            let lines = try TextFile.readLines(texts).filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw EvalError("texts.empty", "'\(texts)' holds no texts; put one query per line") }
            var q = try TextEmbedder(model: try loaded(), batch: batch).embed(lines)
            q.normalizeRows()
            try NPY.write(embedded, to: basePath)
            try NPY.write(q, to: queryPath)
            return ImageEvalSet(base: basePath, queries: queryPath,
                                summary: note + "; base: all \(embedded.rows) images, queries: \(lines.count) texts from \(texts)")
        }
        // Held-out images: a seeded shuffle of the rows; the first `n` are the queries, the rest the base.
        let n = min(holdout ?? min(200, max(1, embedded.rows / 10)), embedded.rows - 1)
        var order = Array(0..<embedded.rows)
        var rng = Kiss64Random(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.kiss() % UInt64(i + 1))) }
        let held = order.prefix(n).sorted(), kept = order.dropFirst(n).sorted()
        func rows(_ ids: [Int]) -> Matrix {
            Matrix(rows: ids.count, cols: embedded.cols, data: ids.flatMap { embedded.row($0) })
        }
        try NPY.write(rows(kept), to: basePath)
        try NPY.write(rows(held), to: queryPath)
        try AtomicFile.write(out + "/queries.names.txt", chunks: [Array((held.map { names[$0] }.joined(separator: "\n") + "\n").utf8)])
        return ImageEvalSet(base: basePath, queries: queryPath,
                            summary: note + "; base: \(kept.count) images, queries: \(n) held-out images (seed \(seed), names in queries.names.txt)")
    }
}
