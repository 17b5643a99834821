// A loaded CLIP model's tensors in OpenAI state-dict naming, float32, row-major, PyTorch layouts.
// Whatever the source (HDF5 flat/nested/HF, safetensors f32/f16/bf16), the model sees this one shape.
import ClipCore
import Dispatch

/// One float32 tensor. `data` stays valid while the owning `CLIPWeights` is alive.
public struct Tensor: @unchecked Sendable {
    public let name: String
    public let shape: [Int]
    public let data: UnsafeBufferPointer<Float>

    public var count: Int { data.count }
}

public final class CLIPWeights: @unchecked Sendable {
    public let spec: ModelSpec
    /// Where the weights came from (the `source` attribute/metadata), free text.
    public let source: String
    private var tensors: [String: Tensor]
    /// Half-precision tensors not widened yet: widened on first use, once (see `Pending`).
    private var pending: [String: Pending]
    /// Keeps mmaps / buffers alive for the tensors' pointers.
    private let owners: [AnyObject]
    private let lock = NSLockLike()

    /// A float16/bfloat16 tensor in a mapping and the float32 slot it widens into.
    public struct Pending {
        public let shape: [Int]
        public let source: UnsafeRawPointer
        public let widen: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        public let slot: UnsafeMutableBufferPointer<Float>
        /// True when `source` holds IEEE float16 values the encoders can read without widening.
        public let isFloat16: Bool

        public init(shape: [Int], source: UnsafeRawPointer, slot: UnsafeMutableBufferPointer<Float>, isFloat16: Bool = false,
                    widen: @escaping (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void) {
            self.shape = shape
            self.source = source
            self.slot = slot
            self.isFloat16 = isFloat16
            self.widen = widen
        }
    }

    public init(spec: ModelSpec, source: String, tensors: [String: Tensor], pending: [String: Pending] = [:], owners: [AnyObject]) {
        self.spec = spec
        self.source = source
        self.tensors = tensors
        self.pending = pending
        self.owners = owners
    }

    /// Builds weights from in-memory arrays (tests, converters). Copies each array once.
    public convenience init(spec: ModelSpec, source: String, arrays: [String: (shape: [Int], values: [Float])]) {
        var map: [String: Tensor] = [:]
        var owners: [AnyObject] = []
        for (name, a) in arrays {
            let buf = FloatBuffer(a.values)
            owners.append(buf)
            map[name] = Tensor(name: name, shape: a.shape, data: UnsafeBufferPointer(buf.pointer))
        }
        self.init(spec: spec, source: source, tensors: map, owners: owners)
    }

    public var names: [String] { lock.locked { (Array(tensors.keys) + Array(pending.keys)).sorted() } }

    /// Number of tensors still stored as halves (not widened yet).
    public var pendingCount: Int { lock.locked { pending.count } }

    /// The tensor called `name` (OpenAI key), float32. A half-precision tensor is widened on first access.
    public func tensor(_ name: String) throws -> Tensor {
        try lock.locked {
            if let t = tensors[name] { return t }
            guard let p = pending.removeValue(forKey: name) else {
                throw WeightsError("weights.missing-tensor", "tensor '\(name)' is missing from the loaded weights")
            }
            let t = CLIPWeights.widen(name, p, threads: p.slot.count >= 1 << 18 ? 2 : 1)
            tensors[name] = t
            return t
        }
    }

    /// The float16 values of `name` when it is stored as IEEE halves and was never widened: the encoders' large
    /// matrices are read from here directly (`HalfWeights.direct`), so they are never copied to float32.
    public func float16(_ name: String) -> (shape: [Int], data: UnsafeBufferPointer<UInt16>)? {
        lock.locked {
            guard let p = pending[name], p.isFloat16 else { return nil }
            return (p.shape, UnsafeBufferPointer(start: p.source.assumingMemoryBound(to: UInt16.self), count: p.slot.count))
        }
    }

    /// Widens every pending tensor now, on two threads (what an eager loader would do).
    public func materializeAll() {
        lock.locked {
            let jobs = pending.sorted { $0.key < $1.key }
            guard !jobs.isEmpty else { return }
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                // Each thread takes half of every tensor, so the split is even whatever the sizes.
                for (_, p) in jobs {
                    let n = p.slot.count, mid = n / 2
                    let (from, to) = half == 0 ? (0, mid) : (mid, n)
                    p.widen(p.source + from * 2, p.slot.baseAddress! + from, to - from)
                }
            }
            for (name, p) in jobs { tensors[name] = Tensor(name: name, shape: p.shape, data: UnsafeBufferPointer(p.slot)) }
            pending.removeAll()
        }
    }

    private static func widen(_ name: String, _ p: Pending, threads: Int) -> Tensor {
        let n = p.slot.count
        if threads == 1 {
            p.widen(p.source, p.slot.baseAddress!, n)
        } else {
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                let mid = n / 2
                let (from, to) = half == 0 ? (0, mid) : (mid, n)
                p.widen(p.source + from * 2, p.slot.baseAddress! + from, to - from)
            }
        }
        return Tensor(name: name, shape: p.shape, data: UnsafeBufferPointer(p.slot))
    }

    /// Number of scalar parameters.
    public var parameterCount: Int {
        lock.locked { tensors.values.reduce(0) { $0 + $1.count } + pending.values.reduce(0) { $0 + $1.slot.count } }
    }
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

public enum WeightsErrors: ErrorDomain { public static let library = "ClipWeights" }
/// The error type of ClipWeights.
public typealias WeightsError = LibraryError<WeightsErrors>
