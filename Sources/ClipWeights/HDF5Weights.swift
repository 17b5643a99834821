// Reads a clip-hdf5 v1 weights file (docs/formats.md): flat or nested `/state_dict`, float32 or float16,
// OpenAI or Hugging Face key names, `/config` overrides. Loading is loud: every expected tensor must be
// present with the predicted shape, and every stored tensor used or explicitly ignored.
import ClipCore

/// One stored tensor as found in a file, for `inspect` tables.
public struct StoredTensor: Codable, Equatable, Sendable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    public let bytes: Int
}

public struct HDF5Weights {
    public let file: HDF5File
    public let source: String
    public let rootAttributes: [String: HDF5File.Attribute]

    public static let supportedVersion = 1

    /// Opens a clip-hdf5 file and checks its format attributes; nothing is inferred yet.
    public static func open(_ path: String) throws -> HDF5Weights { try HDF5Weights(opening: path) }

    private init(opening path: String) throws {
        file = try HDF5File(path: path)
        rootAttributes = try file.attributes(of: "/")
        if case .string(let format)? = rootAttributes["format"] {
            if format == "clip-reference" {
                throw WeightsError("hdf5.is-reference", "'\(path)' is a clip-reference file (reference embeddings); pass the weights file, and give this one to `clipwb verify --reference`")
            }
            guard format == "clip-hdf5" else {
                throw WeightsError("hdf5.format", "'\(path)' has format '\(format)', expected 'clip-hdf5'")
            }
        }
        if case .int(let v)? = rootAttributes["format_version"], v > HDF5Weights.supportedVersion {
            throw WeightsError("hdf5.version", "'\(path)' is clip-hdf5 version \(v); this clipwb reads version \(HDF5Weights.supportedVersion)")
        }
        if case .string(let s)? = rootAttributes["source"] { source = s } else { source = "unknown" }
    }
}

/// A clip-hdf5 file opened and its spec inferred (errors in the file or its /config are thrown here), ready
/// to load: `inspect`, `convert` and the tests use it.
public struct HDF5Model {
    public let weights: WeightSource
    public let spec: ModelSpec

    public init(path: String) throws {
        weights = try WeightSource.hdf5(HDF5Weights.open(path))
        spec = try weights.spec()
    }

    public var naming: KeyNaming { weights.naming }
    public var source: String { weights.source }
    public var stored: [StoredTensor] { weights.store.stored }
    public func load() throws -> CLIPWeights { try weights.load(halves: .widen) }
}
