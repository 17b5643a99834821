// The CLIP architecture hyper-parameters, named after openai/CLIP's `build_model` arguments.

public struct CLIPConfig: Codable, Equatable, Sendable {
    public var embedDim: Int
    public var imageResolution: Int
    public var visionLayers: Int
    public var visionWidth: Int
    public var visionPatchSize: Int
    public var contextLength: Int
    public var vocabSize: Int
    public var transformerWidth: Int
    public var transformerHeads: Int
    public var transformerLayers: Int

    /// openai/CLIP: `vision_heads = vision_width // 64`.
    public var visionHeads: Int { visionWidth / 64 }
    /// Patches per side: resolution / patch size.
    public var gridSize: Int { imageResolution / visionPatchSize }
    /// Tokens the ViT sees: one class token plus grid².
    public var visionTokens: Int { gridSize * gridSize + 1 }

    public init(embedDim: Int, imageResolution: Int, visionLayers: Int, visionWidth: Int, visionPatchSize: Int,
                contextLength: Int, vocabSize: Int, transformerWidth: Int, transformerHeads: Int, transformerLayers: Int) {
        self.embedDim = embedDim
        self.imageResolution = imageResolution
        self.visionLayers = visionLayers
        self.visionWidth = visionWidth
        self.visionPatchSize = visionPatchSize
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.transformerWidth = transformerWidth
        self.transformerHeads = transformerHeads
        self.transformerLayers = transformerLayers
    }

    /// OpenAI's ViT-B/32.
    public static let vitB32 = CLIPConfig(embedDim: 512, imageResolution: 224, visionLayers: 12, visionWidth: 768,
                                          visionPatchSize: 32, contextLength: 77, vocabSize: 49408,
                                          transformerWidth: 512, transformerHeads: 8, transformerLayers: 12)

    /// The `build_model` argument names, as used by `/config` attributes and safetensors metadata.
    public static let argumentNames = ["embed_dim", "image_resolution", "vision_layers", "vision_width",
                                       "vision_patch_size", "context_length", "vocab_size", "transformer_width",
                                       "transformer_heads", "transformer_layers"]

    public subscript(argument name: String) -> Int? {
        get {
            switch name {
            case "embed_dim": embedDim
            case "image_resolution": imageResolution
            case "vision_layers": visionLayers
            case "vision_width": visionWidth
            case "vision_patch_size": visionPatchSize
            case "context_length": contextLength
            case "vocab_size": vocabSize
            case "transformer_width": transformerWidth
            case "transformer_heads": transformerHeads
            case "transformer_layers": transformerLayers
            default: nil
            }
        }
        set {
            guard let v = newValue else { return }
            switch name {
            case "embed_dim": embedDim = v
            case "image_resolution": imageResolution = v
            case "vision_layers": visionLayers = v
            case "vision_width": visionWidth = v
            case "vision_patch_size": visionPatchSize = v
            case "context_length": contextLength = v
            case "vocab_size": vocabSize = v
            case "transformer_width": transformerWidth = v
            case "transformer_heads": transformerHeads = v
            case "transformer_layers": transformerLayers = v
            default: break
            }
        }
    }
}
