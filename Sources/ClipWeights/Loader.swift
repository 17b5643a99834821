// One entry point for every weight source: the file's first bytes decide, not its name.
import ClipCore

extension CLIPWeights {
    /// Loads an HDF5 (clip-hdf5) or safetensors (clipwb or plain) weights file.
    public static func load(path: String) throws -> CLIPWeights {
        let f = try MappedFile(path: path)
        switch FileSniffer.kind(of: f) {
        case .hdf5: return try HDF5Weights(path: path).load()
        case .safetensors: return try SafetensorsFile(path: path).load()
        default:
            throw WeightsError("weights.unknown-format", "'\(path)' is neither a clip-hdf5 file nor a safetensors file (\(FileSniffer.describe(f)))")
        }
    }
}
