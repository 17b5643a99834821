// The model spec: everything the encoders and the preprocessing read about a CLIP model, as one value.
// It replaces build_model's ten integers (format version 1) and is written into clipwb weight files as
// format version 2 (`clip_spec` metadata, JSON with the field names below). Names follow open_clip's
// `CLIPVisionCfg`/`CLIPTextCfg` and Hugging Face's `CLIPVisionConfig`/`CLIPTextConfig` where they differ
// from openai/CLIP's.
import ClipCore

public struct ModelSpec: Codable, Equatable, Sendable {
    /// The spec format this clipwb writes; it reads this one and version 1's `clip_config`.
    public static let formatVersion = 2

    /// The registry family of the image tower (`ArchitectureRegistry`): "vit" or "modified_resnet".
    public var family: String
    public var embedDim: Int
    public var vision: VisionSpec
    public var text: TextSpec
    public var preprocess: PreprocessSpec
    public var tokenizer: TokenizerKind
    /// Fields no source said anything about, filled with OpenAI's defaults (shapes cannot tell them).
    public var assumed: [String]

    public init(family: String = "vit", embedDim: Int, vision: VisionSpec, text: TextSpec, preprocess: PreprocessSpec,
                tokenizer: TokenizerKind = .openai, assumed: [String] = []) {
        self.family = family
        self.embedDim = embedDim
        self.vision = vision
        self.text = text
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.assumed = assumed
    }

    // Shorthands the pipeline reads.
    public var imageResolution: Int { vision.imageSize }
    public var contextLength: Int { text.contextLength }
    public var vocabSize: Int { text.vocabSize }
    public var gridSize: Int { vision.imageSize / vision.patchSize }
    /// Tokens the ViT sees: one class token plus grid².
    public var visionTokens: Int { gridSize * gridSize + 1 }
}

/// x·σ(1.702x) (OpenAI, `-quickgelu` open_clip configs, HF `quick_gelu`) or exact erf GELU (open_clip's
/// default `nn.GELU`, HF `gelu`).
public enum Activation: String, Codable, CaseIterable, Sendable {
    case quickGELU = "quick_gelu"
    case gelu
}

/// One tower's residual attention blocks (openai/CLIP `Transformer`, open_clip `Transformer`, HF `CLIPEncoder`).
public struct TransformerSpec: Codable, Equatable, Sendable {
    public var layers: Int
    public var width: Int
    public var heads: Int
    /// The MLP's hidden width (`c_fc` rows): 4·width for OpenAI, `mlp_ratio`·width for open_clip.
    public var mlpWidth: Int
    public var activation: Activation
    /// open_clip's LayerScale (`ls_1.gamma`, `ls_2.gamma`): each branch is scaled per channel before the residual add.
    public var layerScale: Bool
    public var layerNormEps: Float

    public init(layers: Int, width: Int, heads: Int, mlpWidth: Int, activation: Activation = .quickGELU,
                layerScale: Bool = false, layerNormEps: Float = 1e-5) {
        self.layers = layers
        self.width = width
        self.heads = heads
        self.mlpWidth = mlpWidth
        self.activation = activation
        self.layerScale = layerScale
        self.layerNormEps = layerNormEps
    }

    /// Width of one attention head.
    public var headWidth: Int { heads > 0 ? width / heads : 0 }
}

/// The image tower. For a ViT: its blocks, patch and input size. For OpenAI's ModifiedResNet (`resnet` set):
/// `transformer` is the attention pool (no blocks: layers 0, MLP 0; width = 32·stem width, the heads), and
/// `patchSize` is the tower's total stride, 32, so `gridSize` is the grid the attention pool sees.
public struct VisionSpec: Codable, Equatable, Sendable {
    public var transformer: TransformerSpec
    public var patchSize: Int
    public var imageSize: Int
    /// Only for the ModifiedResNet family; absent (nil) in ViT specs, so their JSON is unchanged.
    public var resnet: ResNetSpec?

    public init(transformer: TransformerSpec, patchSize: Int, imageSize: Int, resnet: ResNetSpec? = nil) {
        self.transformer = transformer
        self.patchSize = patchSize
        self.imageSize = imageSize
        self.resnet = resnet
    }
}

/// openai/CLIP's ModifiedResNet(layers, output_dim, heads, input_resolution, width): `layers` Bottleneck blocks
/// in each of the 4 stages ([3, 4, 6, 3] for RN50), `width` the stem's output channels (64 for RN50); stage s
/// has `width·2^s` planes and outputs 4× that. Heads and output dim are the attention pool's (`transformer`,
/// `embedDim`).
public struct ResNetSpec: Codable, Equatable, Sendable {
    public var layers: [Int]
    public var width: Int

    public init(layers: [Int], width: Int) {
        self.layers = layers
        self.width = width
    }

    /// Channels of the last stage's output, the attention pool's embed_dim: width·32.
    public var poolWidth: Int { width * 32 }
}

public struct TextSpec: Codable, Equatable, Sendable {
    /// Which position's features the text embedding is read from.
    public enum Pooling: String, Codable, Sendable {
        /// `text.argmax(dim=-1)`: the end token, the largest id (OpenAI, open_clip, HF with eos 49407).
        case argmax
    }

    public var transformer: TransformerSpec
    public var contextLength: Int
    public var vocabSize: Int
    public var pooling: Pooling

    public init(transformer: TransformerSpec, contextLength: Int, vocabSize: Int, pooling: Pooling = .argmax) {
        self.transformer = transformer
        self.contextLength = contextLength
        self.vocabSize = vocabSize
        self.pooling = pooling
    }
}

extension ModelSpec {
    /// OpenAI's ViT-B/32.
    public static let vitB32 = ModelSpec(
        embedDim: 512,
        vision: VisionSpec(transformer: TransformerSpec(layers: 12, width: 768, heads: 12, mlpWidth: 3072), patchSize: 32, imageSize: 224),
        text: TextSpec(transformer: TransformerSpec(layers: 12, width: 512, heads: 8, mlpWidth: 2048), contextLength: 77, vocabSize: 49408),
        preprocess: .openai(size: 224))

    /// A model as openai/CLIP's `build_model` makes it from its ten arguments: vision heads width/64, MLPs 4×,
    /// QuickGELU, ε 1e-5, OpenAI's transform and tokenizer.
    public static func openai(embedDim: Int, imageResolution: Int, visionLayers: Int, visionWidth: Int, visionPatchSize: Int,
                              contextLength: Int, vocabSize: Int, transformerWidth: Int, transformerHeads: Int,
                              transformerLayers: Int) -> ModelSpec {
        ModelSpec(embedDim: embedDim,
                  vision: VisionSpec(transformer: TransformerSpec(layers: visionLayers, width: visionWidth, heads: visionWidth / 64, mlpWidth: 4 * visionWidth),
                                     patchSize: visionPatchSize, imageSize: imageResolution),
                  text: TextSpec(transformer: TransformerSpec(layers: transformerLayers, width: transformerWidth, heads: transformerHeads, mlpWidth: 4 * transformerWidth),
                                 contextLength: contextLength, vocabSize: vocabSize),
                  preprocess: .openai(size: imageResolution))
    }

    /// The same model with no record of which fields were assumed (for comparing models).
    public var ignoringAssumed: ModelSpec {
        var c = self
        c.assumed = []
        return c
    }

    /// Every tensor a model of this spec has, from its family's registry entry.
    public var expectedTensors: [(name: String, shape: [Int])] {
        ArchitectureRegistry.family(named: family)?.expected(self) ?? []
    }

    /// The spec as clipwb writes it (`clip_spec` metadata): sorted keys, snake_case.
    public func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        var copy = self
        copy.assumed = copy.assumed.sorted()
        return String(decoding: (try? e.encode(copy)) ?? Data(), as: UTF8.self)
    }

    /// Reads `clip_spec` metadata; an unknown field value is an error that names it.
    public static func parse(json: String, file: String) throws -> ModelSpec {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try d.decode(ModelSpec.self, from: Data(json.utf8))
        } catch let DecodingError.dataCorrupted(c) {
            throw WeightsError("config.spec", "'\(file)' has clip_spec metadata that is not usable at \(Self.path(c.codingPath)): \(c.debugDescription)")
        } catch let DecodingError.keyNotFound(k, c) {
            throw WeightsError("config.spec", "'\(file)' has clip_spec metadata without '\(Self.path(c.codingPath + [k]))'")
        } catch let DecodingError.typeMismatch(_, c) {
            throw WeightsError("config.spec", "'\(file)' has clip_spec metadata with a value of the wrong type at \(Self.path(c.codingPath))")
        } catch {
            throw WeightsError("config.spec", "'\(file)' has clip_spec metadata that is not a model spec: \(error)")
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

import Foundation
