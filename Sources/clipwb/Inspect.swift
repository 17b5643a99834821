// `clipwb inspect`: what a weights file holds (HDF5 or safetensors).
import ArgumentParser
import ClipCore
import ClipWeights
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a weights file's configuration, parameter count and tensor table.",
        discussion: "Reads clip-hdf5 files and safetensors files (clipwb's or any CLIP state dict); the kind comes from the file's first bytes.")

    @Argument(help: "A .h5 (clip-hdf5) or .safetensors weights file.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Report: Encodable {
        let file: String, format: String, fileBytes: Int, source: String
        let config: CLIPConfig, parameters: Int, tensors: [StoredTensor], metadata: [String: String]
    }

    func run() throws {
        try reportingErrors {
            let f = try MappedFile(path: file)
            let report: Report
            switch FileSniffer.kind(of: f) {
            case .hdf5:
                let h = try HDF5Weights(path: file)
                var meta: [String: String] = ["naming": h.naming.rawValue]
                for (k, v) in h.rootAttributes {
                    switch v {
                    case .string(let s): meta[k] = s
                    case .int(let i): meta[k] = String(i)
                    case .double(let d): meta[k] = String(d)
                    case .array(let shape): meta[k] = "array of shape \(shape)"
                    case .other: break
                    }
                }
                report = Report(file: file, format: "clip-hdf5", fileBytes: f.count, source: h.source, config: h.config,
                                parameters: h.stored.reduce(0) { $0 + $1.shape.reduce(1, *) }, tensors: h.stored, metadata: meta)
            case .safetensors:
                let s = try SafetensorsFile(path: file)
                report = Report(file: file, format: "safetensors", fileBytes: f.count, source: s.metadata["source"] ?? "unknown",
                                config: try s.config(), parameters: s.stored.reduce(0) { $0 + $1.shape.reduce(1, *) },
                                tensors: s.stored, metadata: s.metadata.filter { $0.key != "clip_config" })
            default:
                throw WeightsError("weights.unknown-format", "'\(file)' is neither a clip-hdf5 file nor a safetensors file (\(FileSniffer.describe(f)))")
            }
            if json { try printJSON(report); return }
            printReport(report)
        }
    }

    func printReport(_ r: Report) {
        let c = r.config
        print("\(r.file): \(r.format), \(formatBytes(r.fileBytes))")
        print("source: \(r.source)")
        for k in r.metadata.keys.sorted() where !["source"].contains(k) { print("  \(k): \(r.metadata[k]!)") }
        print("vision: ViT \(c.visionLayers) layers, width \(c.visionWidth), \(c.visionHeads) heads, patch \(c.visionPatchSize), \(c.imageResolution)px")
        print("text:   \(c.transformerLayers) layers, width \(c.transformerWidth), \(c.transformerHeads) heads, context \(c.contextLength), vocab \(c.vocabSize)")
        print("embed:  \(c.embedDim)")
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
