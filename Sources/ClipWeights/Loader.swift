// One entry point for every weight source: the file's first bytes decide, not its name.
import ClipCore

extension CLIPWeights {
    /// Loads an HDF5 (clip-hdf5) or safetensors (clipwb or plain) weights file. With `lazy`, half-precision
    /// tensors of a safetensors file are widened to float32 on first use instead of at load.
    public static func load(path: String, lazy: Bool = false) throws -> CLIPWeights {
        let f = try MappedFile(path: path)
        switch FileSniffer.kind(of: f) {
        case .hdf5: return try HDF5Weights(path: path).load()
        case .safetensors: return try SafetensorsFile(path: path).load(lazy: lazy)
        default:
            throw WeightsError("weights.unknown-format", "'\(path)' is neither a clip-hdf5 file nor a safetensors file (\(FileSniffer.describe(f)))")
        }
    }
}
