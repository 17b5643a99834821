// openai/CLIP's Bottleneck (model.py): relu(bn1(conv1 1×1)) → relu(bn2(conv2 3×3, pad 1)) → avgpool(stride) when
// stride > 1 → bn3(conv3 1×1, 4× planes) + identity → relu, where identity is the input, or for the first block of
// each stage downsample(x) = bn(conv 1×1(avgpool(stride)(x))). Also nn.AvgPool2d on NHWC activations.
import ClipCore
import ClipWeights

struct Bottleneck {
    let conv1, conv2, conv3: Conv2d
    let downsample: Conv2d?
    let stride: Int
    /// The state-dict prefix, "visual.layer2.0": also the block's stage name for the verifier's probe.
    let name: String

    /// `prefix`: "visual.layer2.0". `downsample` exists when stride > 1 or inplanes ≠ 4·planes (model.py's rule).
    init(_ weights: CLIPWeights, prefix p: String, inplanes: Int, planes: Int, stride: Int, fold: Bool,
         path: ConvolutionPath = .winograd) throws {
        self.stride = stride
        name = p
        conv1 = try Conv2d(weights, conv: "\(p).conv1", bn: "\(p).bn1", out: planes, in: inplanes, kernel: 1, fold: fold)
        conv2 = try Conv2d(weights, conv: "\(p).conv2", bn: "\(p).bn2", out: planes, in: planes, kernel: 3, padding: 1, fold: fold, path: path)
        conv3 = try Conv2d(weights, conv: "\(p).conv3", bn: "\(p).bn3", out: 4 * planes, in: planes, kernel: 1, fold: fold)
        downsample = stride > 1 || inplanes != 4 * planes
            ? try Conv2d(weights, conv: "\(p).downsample.0", bn: "\(p).downsample.1", out: 4 * planes, in: inplanes, kernel: 1, fold: fold)
            : nil
    }

    var convolutions: [Conv2d] { [conv1, conv2, conv3] + (downsample.map { [$0] } ?? []) }

    /// Output size for input size h.
    func outputSize(_ h: Int) -> Int { h / stride }

    /// Floats one image needs in each activation buffer at input size h: the input, the planes-wide middle, the output.
    func activationFloats(_ h: Int) -> Int {
        let ho = outputSize(h)
        return max(h * h * conv1.inChannels, h * h * conv1.outChannels, ho * ho * conv3.outChannels)
    }

    func multiplyAdds(_ h: Int) -> Double {
        conv1.multiplyAdds(h) + conv2.multiplyAdds(h) + conv3.multiplyAdds(outputSize(h)) + (downsample?.multiplyAdds(outputSize(h)) ?? 0)
    }

    /// ws.act[0]: x [images, h, h, inplanes] → ws.act[0]: [images, h/stride, h/stride, 4·planes] (buffers 1–4 scratch).
    func forward(_ ws: ResNetWorkspace, images b: Int, size h: Int, pool: WorkerPool) {
        let (x, t1, t2, d, y) = (ws.act[0], ws.act[1], ws.act[2], ws.act[3], ws.act[4])
        func conv(_ c: Conv2d, _ src: UnsafePointer<Float>, _ size: Int, _ dst: UnsafeMutablePointer<Float>,
                  add: UnsafePointer<Float>? = nil, relu: Bool) {
            c.forward(src, images: b, size: size, into: dst, add: add, relu: relu, scratch: ws.cols, scratchStride: ws.colsStride, pool: pool)
        }
        conv(conv1, x, h, t1, relu: true)        // t1: [b, h, h, planes]
        conv(conv2, t1, h, t2, relu: true)       // t2: [b, h, h, planes]
        let ho = outputSize(h)
        var mid = UnsafePointer(t2)
        if stride > 1 {
            AvgPool2d.forward(t2, images: b, size: h, channels: conv2.outChannels, kernel: stride, into: t1, pool: pool)
            mid = UnsafePointer(t1)              // t1: [b, ho, ho, planes]
        }
        var identity = UnsafePointer(x)
        if let ds = downsample {
            var src = UnsafePointer(x)
            if stride > 1 {
                AvgPool2d.forward(x, images: b, size: h, channels: ds.inChannels, kernel: stride, into: t2, pool: pool)
                src = UnsafePointer(t2)          // t2: [b, ho, ho, inplanes]
            }
            conv(ds, src, ho, d, relu: false)    // d: [b, ho, ho, 4·planes]
            identity = UnsafePointer(d)
        }
        conv(conv3, mid, ho, y, add: identity, relu: true)  // y: [b, ho, ho, 4·planes] = relu(bn3(conv3) + identity)
        ws.act.swapAt(0, 4)
    }
}

/// nn.AvgPool2d(k) (stride k, no padding, floor): each output is the k×k window's sum divided by k², as PyTorch.
enum AvgPool2d {
    /// y: [images, h/k, h/k, c] from x: [images, h, h, c].
    static func forward(_ x: UnsafePointer<Float>, images: Int, size h: Int, channels c: Int, kernel k: Int,
                        into y: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let ho = h / k, area = Float(k * k)
        Rows.forEach(images * ho, width: ho * c * k * k, pool: pool) { r in
            let (img, oy) = (r / ho, r % ho)
            for ox in 0..<ho {
                let dst = y + ((img * ho + oy) * ho + ox) * c
                dst.update(repeating: 0, count: c)
                for dy in 0..<k {
                    for dx in 0..<k {
                        let src = x + ((img * h + oy * k + dy) * h + ox * k + dx) * c
                        Rows.add(dst, src, c)
                    }
                }
                for j in 0..<c { dst[j] /= area }
            }
        }
    }
}
