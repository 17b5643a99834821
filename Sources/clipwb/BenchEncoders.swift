// `clipwb benchmark encoders`: one round of encoder timings for `make bench-encoders` (the driver,
// notebooks-export/bench_torch.py, interleaves rounds of ours and PyTorch's and takes medians).
import ArgumentParser
import ClipCore
import ClipEmbed
import ClipImage
import ClipModel
import ClipSearch
import ClipTokenizer
import ClipWeights
import Foundation

struct BenchEncoders: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders",
        abstract: "Time image and text encoding once per configuration (after a warm-up) and print JSON.",
        discussion: "Images come from --images (sorted, first 16); texts are the short queries of --texts. Timings are reported, never asserted.")

    @Option(help: "The weights file (.safetensors or .h5).")
    var weights: String

    @Option(help: "A folder of images (JPEG, PNG, GIF, BMP, TIFF, WebP, PPM) (the first 16 by name are used).")
    var images: String

    @Option(help: "A UTF-8 file of short queries, one per line (the first 32 are used).")
    var texts: String?

    @Option(help: "Half-precision weights: 'direct' (the encoders read float16 as stored; fast load, half the memory) or 'widen' (to float32 at load).")
    var halves: HalfWeights = .standard

    @Option(help: "Timed repetitions per configuration.")
    var reps: Int = 3

    @Flag(help: "Also measure OpenBLAS's sgemm peak (2048³, 2 threads).")
    var sgemm = false

    @Flag(help: "Time image preprocessing and encoding only (no texts; --texts may be omitted).")
    var imagesOnly = false

    func validate() throws {
        if reps < 1 { throw ValidationError("--reps must be at least 1") }
        if texts == nil && !imagesOnly { throw ValidationError("pass --texts FILE, or --images-only") }
    }

    struct Output: Encodable {
        var threads = WorkerPool.shared.threads
        var sgemm_gflops: Double?
        var image_gflop: Double = 0
        /// Seconds per call, one entry per repetition.
        var preprocess_16: [Double] = []
        var image_b1: [Double] = []
        var image_b16: [Double] = []
        var text_b1: [Double] = []
        var text_b32: [Double] = []
        var text_b1_tokens = 0
        var text_b32_tokens = 0
        var text_gflop_b1: Double = 0
        var text_gflop_b32: Double = 0
    }

    func run() throws {
        try reportingErrors {
            var o = Output()
            if sgemm { o.sgemm_gflops = GEMM.peakGFLOPS(threads: 2) }
            let model = try ModelLoading.load(weights, halves: halves)
            var ignored = 0
            let paths = Array(try ImageInputs.expand([images], ignored: &ignored).prefix(16))
            guard paths.count == 16 else { throw CoreError("bench.images", "\(images) holds \(paths.count) images; 16 are needed") }
            let pre = CLIPPreprocess(resolution: model.spec.imageResolution)
            let pixels = FloatBuffer(count: 16 * pre.count)
            func time(_ body: () throws -> Void) rethrows -> [Double] {
                try body()  // warm-up
                return try (0..<reps).map { _ in let t = Clock.now(); try body(); return Clock.now() - t }
            }
            o.preprocess_16 = try time { try ImageEmbedder.preprocessAll(paths, pre, into: pixels.pointer.baseAddress!, pool: .shared) }
            let all = UnsafeBufferPointer(pixels.pointer)
            o.image_b1 = try time { _ = try model.encodeImages(UnsafeBufferPointer(rebasing: all[0..<pre.count]), count: 1) }
            o.image_b16 = try time { _ = try model.encodeImages(all, count: 16) }
            o.image_gflop = 2 * model.imageMultiplyAdds / 1e9
            guard !imagesOnly, let texts else { try printJSON(o); return }
            let queries = Array(try TextFile.readLines(texts).prefix(32))
            guard queries.count == 32 else { throw CoreError("bench.texts", "\(texts) holds \(queries.count) lines; 32 are needed") }
            let tokenizer = try CLIPTokenizer.shared()
            o.text_b1 = try time { _ = try model.encodeTexts(try tokenizer.tokenize([queries[0]])) }
            o.text_b32 = try time { _ = try model.encodeTexts(try tokenizer.tokenize(queries)) }
            func positions(_ q: [String]) throws -> [Int] { try tokenizer.tokenize(q).map { r in r.firstIndex(of: CLIPTokenizer.endOfText)! + 1 } }
            o.text_b1_tokens = try positions([queries[0]]).reduce(0, +)
            o.text_b32_tokens = try positions(queries).reduce(0, +)
            o.text_gflop_b1 = 2 * (try positions([queries[0]])).map { model.textMultiplyAdds(tokens: $0) }.reduce(0, +) / 1e9
            o.text_gflop_b32 = 2 * (try positions(queries)).map { model.textMultiplyAdds(tokens: $0) }.reduce(0, +) / 1e9
            try printJSON(o)
        }
    }
}
