// A loaded CLIP model's tensors in OpenAI state-dict naming, float32, row-major, PyTorch layouts.
// Whatever the source (HDF5 flat/nested/HF, safetensors f32/f16/bf16), the model sees this one shape.
import ClipCore

/// One float32 tensor. `data` stays valid while the owning `CLIPWeights` is alive.
public struct Tensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let data: UnsafeBufferPointer<Float>

    public var count: Int { data.count }
}

public final class CLIPWeights: @unchecked Sendable {
    public let config: CLIPConfig
    /// Where the weights came from (the `source` attribute/metadata), free text.
    public let source: String
    private let tensors: [String: Tensor]
    /// Keeps mmaps / buffers alive for the tensors' pointers.
    private let owners: [AnyObject]

    public init(config: CLIPConfig, source: String, tensors: [String: Tensor], owners: [AnyObject]) {
        self.config = config
        self.source = source
        self.tensors = tensors
        self.owners = owners
    }

    /// Builds weights from in-memory arrays (tests, converters). Copies each array once.
    public convenience init(config: CLIPConfig, source: String, arrays: [String: (shape: [Int], values: [Float])]) {
        var map: [String: Tensor] = [:]
        var owners: [AnyObject] = []
        for (name, a) in arrays {
            let buf = FloatBuffer(a.values)
            owners.append(buf)
            map[name] = Tensor(name: name, shape: a.shape, data: UnsafeBufferPointer(buf.pointer))
        }
        self.init(config: config, source: source, tensors: map, owners: owners)
    }

    public var names: [String] { tensors.keys.sorted() }

    /// The tensor called `name` (OpenAI key); a missing one is a loading bug, reported with its name.
    public func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else {
            throw WeightsError("weights.missing-tensor", "tensor '\(name)' is missing from the loaded weights")
        }
        return t
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { tensors.values.reduce(0) { $0 + $1.count } }
}

/// An owned, aligned float buffer whose address never moves.
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableBufferPointer<Float>

    public init(count: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: max(count, 1)), count: count)
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        _ = pointer.initialize(from: values)
    }

    deinit { UnsafeMutableRawPointer(pointer.baseAddress!).deallocate() }
}

/// The error type of ClipWeights.
public struct WeightsError: ClipwbError, Equatable {
    public let code: String
    public let message: String
    public let kind: ErrorKind

    public init(_ code: String, _ message: String, kind: ErrorKind = .badInput) {
        self.code = code
        self.message = message
        self.kind = kind
    }
}
