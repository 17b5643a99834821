// Builds small clip-hdf5 files in OpenAI, nested and Hugging Face layouts for the loader tests.
import ClipCore
import ClipWeights
import Foundation
import Testing

enum Fixture {
    static let config = CLIPConfig(embedDim: 16, imageResolution: 64, visionLayers: 2, visionWidth: 64, visionPatchSize: 32,
                                   contextLength: 8, vocabSize: 50, transformerWidth: 64, transformerHeads: 1, transformerLayers: 1)

    static func tempDir() -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("clipwb-weights-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Seeded values that are not representable in float16, so rounding is visible.
    static func tensors(seed: UInt64 = 1) -> [String: (shape: [Int], values: [Float])] {
        var rng = SplitMix(seed)
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (name, shape) in StateDict.expected(config) {
            out[name] = (shape, (0..<shape.reduce(1, *)).map { _ in Float(rng.nextDouble() * 2 - 1) * 0.37 })
        }
        return out
    }

    enum Layout { case flat, nested, huggingface }

    @discardableResult
    static func writeHDF5(_ path: String, layout: Layout = .flat, tensors t: [String: (shape: [Int], values: [Float])] = tensors(),
                          skip: Set<String> = [], reshape: [String: [Int]] = [:], configOverrides: [String: Int] = [:],
                          extra: (HDF5File) throws -> Void = { _ in }) throws -> String {
        let f = try HDF5File.create(path: path)
        try f.writeAttribute("format", "clip-hdf5")
        try f.writeAttribute("format_version", 1)
        try f.writeAttribute("source", "test fixture")
        for (name, a) in t where !skip.contains(name) {
            let shape = reshape[name] ?? a.shape
            switch layout {
            case .flat: try f.writeFloats("/state_dict/\(name)", shape: shape, a.values)
            case .nested: try f.writeFloats("/state_dict/" + name.replacingOccurrences(of: ".", with: "/"), shape: shape, a.values)
            case .huggingface:
                switch KeyMapping.source(of: name, naming: .huggingface) {
                case .direct(let k): try f.writeFloats("/state_dict/\(k)", shape: shape, a.values)
                case .transposed(let k):
                    let (r, c) = (shape[0], shape[1])
                    var tr = [Float](repeating: 0, count: r * c)
                    for i in 0..<r { for j in 0..<c { tr[j * r + i] = a.values[i * c + j] } }
                    try f.writeFloats("/state_dict/\(k)", shape: [c, r], tr)
                case .concatenated(let ks):
                    let part = a.values.count / ks.count
                    var s = shape
                    s[0] /= ks.count
                    for (i, k) in ks.enumerated() { try f.writeFloats("/state_dict/\(k)", shape: s, Array(a.values[(i * part)..<((i + 1) * part)])) }
                }
            }
        }
        for (k, v) in configOverrides { try f.writeAttribute(k, v, on: "/config") }
        try extra(f)
        return path
    }

    /// The HDF5 fixture converted to clipwb's float16 safetensors file, `dir/m.safetensors`.
    static func writeSafetensors(_ dir: String) throws -> String {
        let w = try CLIPWeights.load(path: try writeHDF5(dir + "/m.h5"))
        try SafetensorsWriter.write(w, dtype: .f16, to: dir + "/m.safetensors")
        return dir + "/m.safetensors"
    }

    /// Rewrites the JSON header (a new length, same data), to forge bad entries.
    static func forgeHeader(_ p: String, _ edit: (String) -> String) throws {
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        let n = Int(d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let forged = Data(edit(String(decoding: d[8..<(8 + n)], as: UTF8.self)).utf8)
        var out = withUnsafeBytes(of: UInt64(forged.count).littleEndian) { Data($0) }
        out += forged
        out += d[(8 + n)...]
        try out.write(to: URL(fileURLWithPath: p))
    }

    /// A safetensors file made of `header` (JSON text) and `dataBytes` zero bytes.
    static func rawSafetensors(_ path: String, header: String, dataBytes: Int) throws -> String {
        var out = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        out += Data(header.utf8)
        out += Data(count: dataBytes)
        try out.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Runs `body` and expects a ClipwbError with `code` whose message contains every one of `parts`.
func expectError(_ code: String, containing parts: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected error \(code), got success", sourceLocation: sourceLocation)
    } catch let e as ClipwbError {
        #expect(e.code == code, "got \(e.code): \(e.message)", sourceLocation: sourceLocation)
        for p in parts { #expect(e.message.contains(p), "message '\(e.message)' lacks '\(p)'", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
    }
}

/// SplitMix64: a tiny seeded generator for test data.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
