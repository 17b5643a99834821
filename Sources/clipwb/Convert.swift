// `clipwb convert`: clip-hdf5 weights → clipwb's safetensors-compatible weight file.
import ArgumentParser
import ClipCore
import ClipWeights
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert clip-hdf5 weights into clipwb's compact, mmap-able weight file.",
        discussion: """
        The output is a valid safetensors file (Python's `safetensors` loads it unchanged) whose metadata holds \
        the CLIP configuration, the source, the format version and the sha256 of the source HDF5. Tensors are \
        64-byte aligned and named as in OpenAI's state dict, whatever naming the HDF5 used (OpenAI, nested, \
        Hugging Face).

        f16 (the default) halves the file; f32 keeps the weights bit-identical and is used in place, with no copy.
        """)

    @Argument(help: "The clip-hdf5 weights file (from notebooks-export/export_clip.py).")
    var input: String

    @Argument(help: "Where to write the weight file (.safetensors).")
    var output: String

    @Option(help: "Stored precision: f16, f32 or bf16.")
    var dtype: WeightDType = .f16

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    func validate() throws {
        if URL(fileURLWithPath: input).standardized.path == URL(fileURLWithPath: output).standardized.path {
            throw ValidationError("the output would overwrite the input; choose another output path")
        }
    }

    struct Summary: Encodable {
        let input: String, output: String, dtype: String, tensors: Int, parameters: Int
        let inputBytes: Int, outputBytes: Int, sourceSha256: String, seconds: Double
    }

    func run() throws {
        try reportingErrors {
            let t0 = Clock.now()
            let hdf5 = try HDF5Weights(path: input)
            let weights = try hdf5.load()
            let digest = try SHA256.hexDigest(ofFile: input)
            try SafetensorsWriter.write(weights, dtype: dtype, to: output, metadata: [
                "source_sha256": digest,
                "source_file": URL(fileURLWithPath: input).lastPathComponent,
                "source_naming": hdf5.naming.rawValue,
                "converted_by": "clipwb \(ClipwbVersion.string)",
            ])
            let s = Summary(input: input, output: output, dtype: dtype.rawValue, tensors: weights.names.count,
                            parameters: weights.parameterCount, inputBytes: fileSize(input), outputBytes: fileSize(output),
                            sourceSha256: digest, seconds: Clock.now() - t0)
            if json { try printJSON(s); return }
            print("converted \(input) → \(output)")
            print("  \(s.tensors) tensors, \(formatCount(s.parameters)) parameters, \(dtype.rawValue)")
            print("  \(formatBytes(s.inputBytes)) → \(formatBytes(s.outputBytes)) (\(Int((Double(s.outputBytes) / Double(max(s.inputBytes, 1)) * 100).rounded()))%)")
            print("  source sha256 \(digest)")
        }
    }
}

extension WeightDType: ExpressibleByArgument {}
extension HalfWeights: ExpressibleByArgument {}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}

func formatCount(_ n: Int) -> String {
    n >= 1_000_000 ? String(format: "%.1fM", Double(n) / 1e6) : n >= 1000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
}
