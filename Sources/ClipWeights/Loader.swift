// One entry point for every weight source, detected from what is there (first bytes, file names), not from
// the name given: a clip-hdf5 file, a clipwb weight file, a plain safetensors file (with a Hugging Face
// `config.json` or an open_clip `open_clip_config.json` beside it, when there is one), a Hugging Face
// `CLIPModel` folder or an open_clip hub folder. Each becomes a tensor store plus hints; `WeightLoader` does
// the rest, the same way for all of them.
import ClipCore
import Foundation

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

public struct WeightSource {
    public enum Kind: String, Sendable {
        case clipHDF5 = "clip-hdf5", clipwb = "clipwb", safetensors, huggingFaceFolder = "hf-folder", openClipFolder = "open_clip-folder"
    }

    public let kind: Kind
    public let store: TensorStore
    public let hints: SpecHints
    /// A spec the file records (clipwb version 2), checked against the tensors at load.
    public let storedSpec: ModelSpec?
    /// The `source` attribute or metadata, or what the folder is.
    public let source: String
    /// The file whose bytes the weights are (its sha256 identifies them): the HDF5 or safetensors file.
    public let weightsFile: String
    public let metadata: [String: String]

    public static let openClipConfig = "open_clip_config.json", openClipWeights = "open_clip_model.safetensors"
    public static let hfConfig = "config.json", hfWeights = "model.safetensors", hfIndex = "model.safetensors.index.json"
    public static let hfPreprocessor = "preprocessor_config.json"

    /// Opens `path` and works out what it is; an error says what is missing and what to pass.
    public static func open(_ path: String, backing: MappedFile.Backing = .mapping) throws -> WeightSource {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            return try folder(path, backing: backing)
        }
        let f = try MappedFile(path: path)
        switch FileSniffer.kind(of: f) {
        case .hdf5:
            return try hdf5(HDF5Weights.open(path))
        case .safetensors:
            return try safetensors(SafetensorsFile(path: path, backing: backing))
        default:
            throw WeightsError("weights.unknown-format", "'\(path)' is neither a clip-hdf5 file nor a safetensors file (\(FileSniffer.describe(f))); pass a weights file or a Hugging Face / open_clip model folder")
        }
    }

    public static func hdf5(_ file: HDF5Weights) throws -> WeightSource {
        let path = file.file.path
        return WeightSource(kind: .clipHDF5, store: try HDF5Store(file.file), hints: try SpecHints.from(hdf5: file.file, path: path),
                            storedSpec: nil, source: file.source, weightsFile: path, metadata: [:])
    }

    public static func safetensors(_ st: SafetensorsFile) throws -> WeightSource {
        let path = st.file.path
        let store = try SafetensorsStore([st], path: path)
        let meta = st.metadata
        if meta["format"] == SafetensorsWriter.format {
            let version = Int(meta["format_version"] ?? "") ?? 0
            switch version {
            case 1:
                guard let text = meta["clip_config"] else {
                    throw WeightsError("config.inconsistent", "'\(path)' is a clipwb version 1 file without clip_config metadata")
                }
                let members: [(key: String, value: HeaderJSON)]
                do {
                    guard case .object(let m) = try HeaderJSON.parse(Array(text.utf8)) else {
                        throw WeightsError("config.inconsistent", "'\(path)' has clip_config metadata that is not a JSON object")
                    }
                    members = m
                } catch let failure as HeaderJSON.Failure {
                    throw SafetensorsFile.error(failure, path: path, within: "the clip_config metadata")
                }
                return WeightSource(kind: .clipwb, store: store, hints: try SpecHints.from(clipConfig: members, path: path), storedSpec: nil,
                                    source: meta["source"] ?? "unknown", weightsFile: path, metadata: meta)
            case 2:
                guard let text = meta["clip_spec"] else {
                    throw WeightsError("config.spec", "'\(path)' is a clipwb version 2 file without clip_spec metadata")
                }
                return WeightSource(kind: .clipwb, store: store, hints: SpecHints(origin: path), storedSpec: try ModelSpec.parse(json: text, file: path),
                                    source: meta["source"] ?? "unknown", weightsFile: path, metadata: meta)
            default:
                throw WeightsError("weights.version", "'\(path)' is clipwb weight format version \(meta["format_version"] ?? "?"); this clipwb reads versions 1 and \(SafetensorsWriter.formatVersion); convert it again with this clipwb")
            }
        }
        // A plain safetensors file: its folder's configuration, when there is one, says what shapes cannot.
        let dir = (path as NSString).deletingLastPathComponent
        let beside = { (name: String) in (dir.isEmpty ? name : "\(dir)/\(name)") }
        let naming = KeyMapping.naming(of: store.shapes.keys)
        var hints = SpecHints(origin: path)
        var source = "safetensors \((path as NSString).lastPathComponent)"
        if naming == .huggingface, FileManager.default.fileExists(atPath: beside(hfConfig)) {
            let pre = FileManager.default.fileExists(atPath: beside(hfPreprocessor)) ? try JSONFile(path: beside(hfPreprocessor)) : nil
            hints = try HFConfig.hints(config: try JSONFile(path: beside(hfConfig)), preprocessor: pre)
            source = "huggingface \(beside(hfConfig))"
        } else if naming == .openai, FileManager.default.fileExists(atPath: beside(openClipConfig)) {
            hints = try OpenCLIPConfig.hints(try JSONFile(path: beside(openClipConfig)))
            source = "open_clip \(beside(openClipConfig))"
        }
        return WeightSource(kind: .safetensors, store: store, hints: hints, storedSpec: nil, source: source, weightsFile: path, metadata: meta)
    }

    static func folder(_ dir: String, backing: MappedFile.Backing) throws -> WeightSource {
        let fm = FileManager.default
        let at = { (name: String) in "\(dir)/\(name)" }
        if fm.fileExists(atPath: at(openClipConfig)) {
            guard fm.fileExists(atPath: at(openClipWeights)) else {
                let bin = fm.fileExists(atPath: at("open_clip_pytorch_model.bin")) ? " (it has open_clip_pytorch_model.bin: PyTorch pickles are not read; save the model with safetensors)" : ""
                throw WeightsError("weights.folder", "'\(dir)' has \(openClipConfig) but no \(openClipWeights)\(bin)")
            }
            let st = try SafetensorsFile(path: at(openClipWeights), backing: backing)
            return WeightSource(kind: .openClipFolder, store: try SafetensorsStore([st], path: at(openClipWeights)),
                                hints: try OpenCLIPConfig.hints(try JSONFile(path: at(openClipConfig))), storedSpec: nil,
                                source: "open_clip folder \((dir as NSString).lastPathComponent)", weightsFile: at(openClipWeights), metadata: st.metadata)
        }
        if fm.fileExists(atPath: at(hfConfig)) {
            guard fm.fileExists(atPath: at(hfPreprocessor)) else {
                throw WeightsError("weights.folder", "'\(dir)' has \(hfConfig) but no \(hfPreprocessor); a Hugging Face CLIPModel folder needs it for its preprocessing (pass the model.safetensors file instead to use CLIPImageProcessor's defaults)")
            }
            var files: [String]
            if fm.fileExists(atPath: at(hfWeights)) {
                files = [at(hfWeights)]
            } else if fm.fileExists(atPath: at(hfIndex)) {
                files = try shards(index: at(hfIndex), dir: dir)
            } else {
                let bin = fm.fileExists(atPath: at("pytorch_model.bin")) ? " (it has pytorch_model.bin: PyTorch pickles are not read; `save_pretrained(..., safe_serialization=True)`)" : ""
                throw WeightsError("weights.folder", "'\(dir)' has \(hfConfig) but neither \(hfWeights) nor \(hfIndex)\(bin)")
            }
            let st = try files.map { try SafetensorsFile(path: $0, backing: backing) }
            let hints = try HFConfig.hints(config: try JSONFile(path: at(hfConfig)), preprocessor: try JSONFile(path: at(hfPreprocessor)))
            return WeightSource(kind: .huggingFaceFolder, store: try SafetensorsStore(st, path: dir), hints: hints, storedSpec: nil,
                                source: "huggingface folder \((dir as NSString).lastPathComponent)", weightsFile: files[0], metadata: st[0].metadata)
        }
        throw WeightsError("weights.folder", "'\(dir)' is a folder without \(hfConfig) (a Hugging Face CLIPModel folder) or \(openClipConfig) (an open_clip hub folder); pass one of those folders, or a clip-hdf5 / safetensors file")
    }

    /// The shard files a `model.safetensors.index.json` names (its weight_map values), each inside `dir`.
    static func shards(index: String, dir: String) throws -> [String] {
        guard let map = try JSONFile(path: index).object("weight_map") else {
            throw WeightsError("weights.folder", "'\(index)' has no weight_map object")
        }
        var names: [String] = []
        for (_, v) in map.members {
            guard case .string(let name) = v, !name.contains("/"), !name.hasPrefix(".") else {
                throw WeightsError("weights.folder", "'\(index)' names shard \(v.text); shards are file names inside the folder")
            }
            if !names.contains(name) { names.append(name) }
        }
        guard !names.isEmpty else { throw WeightsError("weights.folder", "'\(index)' names no shard files") }
        for n in names where !FileManager.default.fileExists(atPath: "\(dir)/\(n)") {
            throw WeightsError("weights.folder", "'\(dir)' lacks shard '\(n)', which \((index as NSString).lastPathComponent) names")
        }
        return names.sorted().map { "\(dir)/\($0)" }
    }

    /// The model spec, checked against the tensors (no tensor is read).
    public func spec() throws -> ModelSpec { try WeightLoader.spec(store, hints: hints, stored: storedSpec) }

    public func load(halves: HalfWeights = .standard) throws -> CLIPWeights {
        try WeightLoader.load(store, hints: hints, stored: storedSpec, source: source, halves: halves)
    }

    public var naming: KeyNaming { KeyMapping.naming(of: store.shapes.keys) }
}

extension SafetensorsFile {
    /// This file's model, as `CLIPWeights.load` would load it.
    public func load(halves: HalfWeights = .standard) throws -> CLIPWeights {
        try WeightSource.safetensors(self).load(halves: halves)
    }
}

extension CLIPWeights {
    /// Loads any weight source `WeightSource` recognises. `halves` says whether half-precision tensors of a
    /// safetensors file are widened at load or left for the encoders to read; `backing` whether safetensors
    /// files stay mapped or are read into memory (HDF5 is always read).
    public static func load(path: String, halves: HalfWeights = .standard, backing: MappedFile.Backing = .mapping) throws -> CLIPWeights {
        try WeightSource.open(path, backing: backing).load(halves: halves)
    }
}
