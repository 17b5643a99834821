// The verifier's view inside the towers: what each named stage of the forward pass computed, per item, in the
// layout of a clip-reference file's /intermediates (docs/formats.md; notebooks-export/intermediates.py takes the
// same stages from the reference library). The encoders record only when handed a probe; without one they do
// no extra work and run exactly as before.
import ClipCore

public final class StageProbe: @unchecked Sendable {
    /// Stage names in the order the forward pass reached them.
    public private(set) var order: [String] = []
    private var values: [String: [Int: [Float]]] = [:]

    public init() {}

    /// Item `item`'s output at `stage`, flattened as the reference stores one item (nil: not recorded).
    public func values(_ stage: String, item: Int) -> [Float]? { values[stage]?[item] }

    /// rows: [count, width] of item `item`, plus `owed` on every row (a bias the fused passes have not added yet).
    func record(_ stage: String, item: Int, rows: UnsafePointer<Float>, count: Int, width: Int, owed: UnsafePointer<Float>? = nil) {
        var v = Array(UnsafeBufferPointer(start: rows, count: count * width))
        if let owed {
            for r in 0..<count { for j in 0..<width { v[r * width + j] += owed[j] } }
        }
        store(stage, item, v)
    }

    /// x: one image's NHWC activation [size, size, channels], stored NCHW [channels, size, size] as PyTorch holds it.
    func recordNCHW(_ stage: String, item: Int, _ x: UnsafePointer<Float>, size: Int, channels: Int) {
        var v = [Float](repeating: 0, count: size * size * channels)
        for p in 0..<(size * size) {
            for c in 0..<channels { v[c * size * size + p] = x[p * channels + c] }
        }
        store(stage, item, v)
    }

    private func store(_ stage: String, _ item: Int, _ v: [Float]) {
        if values[stage] == nil { order.append(stage) }
        values[stage, default: [:]][item] = v
    }
}
