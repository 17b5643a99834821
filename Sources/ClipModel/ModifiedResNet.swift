// openai/CLIP's ModifiedResNet.forward (model.py; open_clip's modified_resnet.py computes the same): the stem of
// three 3×3 convolutions (the first with stride 2), each with BatchNorm and ReLU, then a 2×2 average pool; four
// stages of Bottlenecks (layer1 … layer4, strides 1, 2, 2, 2); the AttentionPool2d. Activations are NHWC, so a
// 1×1 convolution is one GEMM over all pixels of a batch. Images run in chunks of `chunkImages`, so the work
// buffers (sized once from the spec) stay a few activations of a few images.
import ClipCore
import ClipWeights

final class ModifiedResNet: ImageTower, @unchecked Sendable {
    /// Images per pass through the tower: enough rows for the last stage's products, few enough to keep buffers small.
    static let chunkImages = 4

    let spec: ModelSpec
    let resnet: ResNetSpec
    let stem: [Conv2d]
    let layers: [Bottleneck]
    let attnpool: AttentionPool2d
    /// Floats each activation buffer holds per image: the largest tensor between two layers.
    let activationFloats: Int
    /// How the 3×3, stride-1 convolutions run (`CLIPWB_CONV`, ConvolutionPath).
    let convolution: ConvolutionPath
    /// Per-worker convolution scratch: the most any convolution needs (im2col rows or Winograd tiles).
    let scratchFloats: Int
    private let lock = NSLockLike()
    private var cached: ResNetWorkspace?

    /// `foldBatchNorm` false keeps each BatchNorm as a scale after its convolution (to measure what folding changes).
    /// `convolution` nil: from `CLIPWB_CONV` (Winograd unless it says im2col).
    init(_ weights: CLIPWeights, foldBatchNorm fold: Bool = true, convolution: ConvolutionPath? = nil) throws {
        spec = weights.spec
        let path = try convolution ?? ConvolutionPath.fromEnvironment()
        self.convolution = path
        guard let r = spec.vision.resnet else {
            throw ModelError("model.family", "the spec of a ModifiedResNet model has no resnet section")
        }
        resnet = r
        let (w, half, res) = (r.width, r.width / 2, spec.imageResolution)
        stem = [
            try Conv2d(weights, conv: "visual.conv1", bn: "visual.bn1", out: half, in: 3, kernel: 3, stride: 2, padding: 1, fold: fold),
            try Conv2d(weights, conv: "visual.conv2", bn: "visual.bn2", out: half, in: half, kernel: 3, padding: 1, fold: fold, path: path),
            try Conv2d(weights, conv: "visual.conv3", bn: "visual.bn3", out: w, in: half, kernel: 3, padding: 1, fold: fold, path: path),
        ]
        // _make_layer: stage s has planes width·2^s; its first block takes the previous stage's 4× output.
        var blocks: [Bottleneck] = []
        var inplanes = w
        for (s, count) in r.layers.enumerated() {
            for i in 0..<count {
                blocks.append(try Bottleneck(weights, prefix: "visual.layer\(s + 1).\(i)", inplanes: inplanes, planes: w << s,
                                             stride: i == 0 && s > 0 ? 2 : 1, fold: fold, path: path))
                inplanes = 4 * (w << s)
            }
        }
        layers = blocks
        attnpool = try AttentionPool2d(weights, grid: spec.gridSize, width: r.poolWidth, heads: spec.vision.transformer.heads,
                                       outputDim: spec.embedDim)
        var most = max(3 * res * res, (res / 2) * (res / 2) * w)
        var h = res / 4
        for b in blocks {
            most = max(most, b.activationFloats(h))
            h = b.outputSize(h)
        }
        activationFloats = most
        scratchFloats = (stem + blocks.flatMap(\.convolutions)).map(\.scratchFloats).max() ?? 0
    }

    var multiplyAdds: Double {
        let res = spec.imageResolution
        var total = stem[0].multiplyAdds(res) + stem[1].multiplyAdds(res / 2) + stem[2].multiplyAdds(res / 2)
        var h = res / 4
        for b in layers {
            total += b.multiplyAdds(h)
            h = b.outputSize(h)
        }
        return total + attnpool.multiplyAdds
    }

    func encode(pixels: UnsafePointer<Float>, images: Int, out: UnsafeMutablePointer<Float>, pool: WorkerPool, probe: StageProbe?) {
        let ws = take(threads: pool.threads)
        defer { giveBack(ws) }
        let per = 3 * spec.imageResolution * spec.imageResolution
        for first in stride(from: 0, to: images, by: Self.chunkImages) {
            let b = min(Self.chunkImages, images - first)
            forward(pixels + first * per, images: b, ws, out: out + first * spec.embedDim, pool: pool, probe: probe, firstItem: first)
        }
    }

    /// pixels: [images, 3, res, res] normalized (NCHW, as `encode_image` takes them) → out: [images, embedDim].
    /// A probe records the stem, each Bottleneck and the attention pool, for images numbered from `firstItem`.
    func forward(_ pixels: UnsafePointer<Float>, images b: Int, _ ws: ResNetWorkspace, out: UnsafeMutablePointer<Float>, pool: WorkerPool,
                 probe: StageProbe? = nil, firstItem: Int = 0) {
        let res = spec.imageResolution
        // act[0]: [b, res, res, 3] = pixels: [b, 3, res, res] transposed to NHWC
        let x = ws.act[0]
        Rows.forEach(b * res, width: res * 3, pool: pool) { r in
            let (img, y) = (r / res, r % res)
            for c in 0..<3 {
                let src = pixels + ((img * 3 + c) * res + y) * res
                for i in 0..<res { x[(r * res + i) * 3 + c] = src[i] }
            }
        }
        func conv(_ c: Conv2d, _ src: UnsafeMutablePointer<Float>, _ size: Int, _ dst: UnsafeMutablePointer<Float>) {
            c.forward(src, images: b, size: size, into: dst, relu: true, scratch: ws.cols, scratchStride: ws.colsStride, pool: pool)
        }
        conv(stem[0], ws.act[0], res, ws.act[1])          // [b, res/2, res/2, width/2]
        conv(stem[1], ws.act[1], res / 2, ws.act[2])      // [b, res/2, res/2, width/2]
        conv(stem[2], ws.act[2], res / 2, ws.act[1])      // [b, res/2, res/2, width]
        AvgPool2d.forward(ws.act[1], images: b, size: res / 2, channels: resnet.width, kernel: 2, into: ws.act[0], pool: pool)
        var h = res / 4                                    // act[0]: [b, res/4, res/4, width]
        func record(_ stage: String, _ channels: Int) {
            for img in 0..<b {
                probe?.recordNCHW(stage, item: firstItem + img, ws.act[0] + img * h * h * channels, size: h, channels: channels)
            }
        }
        record("visual.stem", resnet.width)
        for block in layers {
            block.forward(ws, images: b, size: h, pool: pool)
            h = block.outputSize(h)
            record(block.name, block.conv3.outChannels)
        }
        // act[0]: [b, res/32, res/32, 32·width] → out: [b, embedDim]
        attnpool.forward(ws.act[0], images: b, ws, out: out, pool: pool)
        for img in 0..<b {
            probe?.record("visual.attnpool", item: firstItem + img, rows: out + img * spec.embedDim, count: 1, width: spec.embedDim)
        }
    }

    private func take(threads: Int) -> ResNetWorkspace {
        lock.locked {
            if let w = cached, w.threads >= threads {
                cached = nil
                return w
            }
            return ResNetWorkspace(self, threads: threads)
        }
    }

    private func giveBack(_ w: ResNetWorkspace) { lock.locked { cached = w } }
}

/// The buffers of one ModifiedResNet forward over `chunkImages` images, sized once from the spec.
final class ResNetWorkspace {
    let threads: Int
    private let storage: FloatBuffer
    /// Five activation buffers: act[0] holds the stage input/output between blocks, the rest are a block's scratch.
    var act: [UnsafeMutablePointer<Float>]
    /// Per-worker convolution scratch: `threads` blocks of `colsStride` floats (the most any convolution asks for:
    /// ConvTiles.rowsPerTile rows of the widest im2col patch, or WinogradTiles.scratchFloats).
    let cols: UnsafeMutablePointer<Float>
    let colsStride: Int
    /// The attention pool's tokens [images·n, w], q/k/v [images·n, 3w], context [images, w], attention scratch.
    let poolTokens, poolQKV, poolContext, attention: UnsafeMutablePointer<Float>

    init(_ m: ModifiedResNet, threads: Int) {
        self.threads = threads
        let b = ModifiedResNet.chunkImages, a = m.attnpool
        colsStride = max(m.scratchFloats, 1)
        let sizes = Array(repeating: b * m.activationFloats, count: 5) + [
            threads * colsStride, b * a.tokens * a.width, b * a.tokens * 3 * a.width, b * a.width,
            threads * Attention.scratchCount(longest: a.tokens, headDim: a.headDim),
        ]
        storage = FloatBuffer(count: sizes.reduce(0, +))
        storage.pointer.update(repeating: .nan)  // a read before a write shows as NaN, never as stale numbers
        var p = storage.pointer.baseAddress!
        var parts: [UnsafeMutablePointer<Float>] = []
        for s in sizes {
            parts.append(p)
            p += s
        }
        act = Array(parts[0..<5])
        (cols, poolTokens, poolQKV, poolContext, attention) = (parts[5], parts[6], parts[7], parts[8], parts[9])
    }
}
