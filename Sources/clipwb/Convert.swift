// `clipwb convert`: clip-hdf5 weights → clipwb's safetensors-compatible weight file.
import ArgumentParser
import ClipCore
import ClipWeights
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert CLIP weights into clipwb's compact, mmap-able weight file.",
        discussion: """
        Reads a clip-hdf5 file, a Hugging Face CLIPModel folder (config.json + model.safetensors + \
        preprocessor_config.json), an open_clip hub folder (open_clip_config.json + open_clip_model.safetensors) \
        or a safetensors file. The output is a valid safetensors file (Python's `safetensors` loads it unchanged) \
        whose metadata holds the model spec (format version 2: towers, heads, activation, LayerScale, ε, \
        preprocessing, tokenizer), the source, and the sha256 of the source weights file. Tensors are 64-byte \
        aligned and named as in OpenAI's state dict, whatever naming the source used (OpenAI, nested, Hugging Face).

        f16 (the default) halves the file; f32 keeps the weights bit-identical and is used in place, with no copy.
        """)

    @Argument(help: "The weights: a clip-hdf5 file (notebooks-export/export_clip.py), a safetensors file, or a Hugging Face / open_clip model folder.")
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
            let source = try WeightSource.open(input)
            let weights = try source.load(halves: .widen)
            let digest = try SHA256.hexDigest(ofFile: source.weightsFile)
            try SafetensorsWriter.write(weights, dtype: dtype, to: output, metadata: [
                "source_sha256": digest,
                "source_file": URL(fileURLWithPath: source.weightsFile).lastPathComponent,
                "source_kind": source.kind.rawValue,
                "source_naming": source.naming.rawValue,
                "converted_by": "clipwb \(ClipwbVersion.string)",
            ])
            let s = Summary(input: input, output: output, dtype: dtype.rawValue, tensors: weights.names.count,
                            parameters: weights.parameterCount, inputBytes: fileSize(source.weightsFile), outputBytes: fileSize(output),
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
