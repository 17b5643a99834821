// The smallest CLIP ViT a weights file can describe (vision_width must be a multiple of 64), written by
// the library's own writers as seeds for fuzz-safetensors and fuzz-hdf5.
import ClipCore
import ClipWeights

enum WeightsSeeds {
    static let config = ModelSpec.openai(embedDim: 4, imageResolution: 8, visionLayers: 1, visionWidth: 64, visionPatchSize: 8,
                                   contextLength: 4, vocabSize: 10, transformerWidth: 8, transformerHeads: 2, transformerLayers: 1)

    static func tensors() -> [String: (shape: [Int], values: [Float])] {
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (i, (name, shape)) in config.expectedTensors.enumerated() {
            out[name] = (shape, Fuzz.values(shape.reduce(1, *), seed: UInt64(i)))
        }
        return out
    }
}
