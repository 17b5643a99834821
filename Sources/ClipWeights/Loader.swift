// One entry point for every weight source: the file's first bytes decide, not its name.
import ClipCore

/// What loading does with a safetensors file's half-precision tensors.
public enum HalfWeights: String, CaseIterable, Sendable {
    /// Widen every tensor to float32 at load, on two threads (the encoders then run on float32 weights).
    case widen
    /// Widen nothing at load: the encoders read float16 matrices directly (widening them in registers or in
    /// cache-sized blocks as they multiply) and the few small tensors are widened when the model first asks.
    case direct

    /// What the CLI and the server use unless told otherwise.
    public static let standard: HalfWeights = .direct
}

extension CLIPWeights {
    /// Loads an HDF5 (clip-hdf5) or safetensors (clipwb or plain) weights file. `halves` says whether
    /// half-precision tensors of a safetensors file are widened at load or left for the encoders to read;
    /// `backing` whether a safetensors file stays mapped or is read into memory (HDF5 is always read).
    public static func load(path: String, halves: HalfWeights = .standard, backing: MappedFile.Backing = .mapping) throws -> CLIPWeights {
        let f = try MappedFile(path: path)
        switch FileSniffer.kind(of: f) {
        case .hdf5: return try HDF5Weights(path: path).load()
        case .safetensors: return try SafetensorsFile(path: path, backing: backing).load(halves: halves)
        default:
            throw WeightsError("weights.unknown-format", "'\(path)' is neither a clip-hdf5 file nor a safetensors file (\(FileSniffer.describe(f)))")
        }
    }
}
