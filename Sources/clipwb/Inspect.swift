// `clipwb inspect`: what a weights file holds (HDF5 or safetensors).
import ArgumentParser
import ClipCore
import ClipWeights
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's spec, parameter count and tensor table.",
        discussion: """
        Reads every weight source clipwb loads: clip-hdf5 files, clipwb weight files, plain safetensors files \
        (with a Hugging Face config.json or an open_clip open_clip_config.json beside them, when present), \
        Hugging Face CLIPModel folders and open_clip hub folders. What a source is comes from its contents.

        The spec is checked against the tensors exactly as loading does, so a file inspect accepts also loads. \
        Fields no source configuration gave (shapes cannot tell heads, activation or tokenizer) are listed as \
        assumed: OpenAI's defaults.
        """)

    @Argument(help: "A .h5 (clip-hdf5) or .safetensors file, or a Hugging Face / open_clip model folder.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Report: Encodable {
        let file: String, format: String, fileBytes: Int, source: String
        let spec: ModelSpec, parameters: Int, tensors: [StoredTensor], metadata: [String: String]
    }

    func run() throws {
        try reportingErrors {
            let w = try WeightSource.open(file)
            var meta = w.metadata.filter { !["clip_config", "clip_spec"].contains($0.key) }
            meta["naming"] = w.naming.rawValue
            if case let h as HDF5Store = w.store {
                for (k, v) in try h.file.attributes(of: "/") {
                    switch v {
                    case .string(let s): meta[k] = s
                    case .int(let i): meta[k] = String(i)
                    case .double(let d): meta[k] = String(d)
                    case .doubles(let d): meta[k] = "\(d)"
                    case .array(let shape): meta[k] = "array of shape \(shape)"
                    case .other: break
                    }
                }
            }
            let stored = w.store.stored
            let format = w.kind == .clipwb ? "safetensors" : w.kind.rawValue
            let report = Report(file: file, format: format, fileBytes: fileSize(w.weightsFile), source: w.source, spec: try w.spec(),
                                parameters: stored.reduce(0) { $0 + $1.shape.reduce(1, *) }, tensors: stored, metadata: meta)
            if json { try printJSON(report); return }
            printReport(report)
        }
    }

    func printReport(_ r: Report) {
        let (s, v, t) = (r.spec, r.spec.vision.transformer, r.spec.text.transformer)
        print("\(r.file): \(r.format), \(formatBytes(r.fileBytes))")
        print("source: \(r.source)")
        for k in r.metadata.keys.sorted() where !["source"].contains(k) { print("  \(k): \(r.metadata[k]!)") }
        func tower(_ t: TransformerSpec) -> String {
            "\(t.layers) layers, width \(t.width), \(t.heads) heads of \(t.headWidth), mlp \(t.mlpWidth), \(t.activation.rawValue)\(t.layerScale ? ", LayerScale" : ""), ε \(t.layerNormEps)"
        }
        if let rn = s.vision.resnet {
            print("vision: \(s.family) blocks \(rn.layers), width \(rn.width), attention pool width \(v.width) with \(v.heads) heads, \(s.imageResolution)px")
        } else {
            print("vision: \(s.family) \(tower(v)), patch \(s.vision.patchSize), \(s.imageResolution)px")
        }
        print("text:   \(tower(t)), context \(s.contextLength), vocab \(s.vocabSize), tokenizer \(s.tokenizer.rawValue)")
        let p = s.preprocess
        print("preprocess: \(p.pipeline.rawValue), \(p.resizeMode.rawValue) \(p.resizeTarget)→\(p.size), \(p.interpolation.rawValue), mean \(p.mean), std \(p.std)")
        print("embed:  \(s.embedDim)")
        if !s.assumed.isEmpty { print("assumed (OpenAI defaults; no source configuration says): \(s.assumed.sorted().joined(separator: ", "))") }
        print("parameters: \(r.parameters) (\(formatCount(r.parameters)))")
        let w = max(4, r.tensors.map(\.name.count).max() ?? 4)
        print("")
        print("name".padding(toLength: w, withPad: " ", startingAt: 0) + "  dtype    shape               bytes")
        for t in r.tensors {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]"
            print(t.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  "
                  + t.dtype.padding(toLength: 7, withPad: " ", startingAt: 0) + "  "
                  + shape.padding(toLength: 18, withPad: " ", startingAt: 0) + "  " + String(t.bytes))
        }
    }
}
