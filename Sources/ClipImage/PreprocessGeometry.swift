// The size and offset arithmetic of each pipeline, apart from the pixels so tests can pin it:
// torchvision's Resize/CenterCrop (OpenAI `_transform`, open_clip `image_transform` 3.3.0:
// shortest, squash, and `ResizeKeepRatio(longest=1)` + `CenterCropOrPad`) and Hugging Face's
// `get_resize_output_image_size` + `center_crop` (transformers 5.25.0, image_transforms.py).
import ClipCore

/// Where a pipeline's resized image lands in the square output: out[y][x] = resized[y + y0][x + x0]
/// where that is inside the resized image, else the fill (padding).
public struct PreprocessGeometry: Equatable, Sendable {
    public var resizedWidth: Int
    public var resizedHeight: Int
    /// Crop offsets into the resized image; negative when the image is padded before it.
    public var x0: Int
    public var y0: Int

    public init(resizedWidth: Int, resizedHeight: Int, x0: Int, y0: Int) {
        (self.resizedWidth, self.resizedHeight, self.x0, self.y0) = (resizedWidth, resizedHeight, x0, y0)
    }

    /// torchvision `_compute_resized_output_size` for an int size, and HF `get_resize_output_image_size`
    /// with `default_to_square=False` (the same formula): short side → target, long side
    /// `int(target · long / short)`, truncated. Returns (width, height).
    public static func shortestEdge(width w: Int, height h: Int, target s: Int) -> (width: Int, height: Int) {
        let (short, long) = w <= h ? (w, h) : (h, w)
        let newLong = Int(Double(s * long) / Double(short))
        return w <= h ? (s, newLong) : (newLong, s)
    }

    /// open_clip `ResizeKeepRatio.get_params` with longest = 1: ratio = max(h / s, w / s) in double,
    /// each side `round(x / ratio)` with Python's half-to-even round. Returns (width, height).
    public static func longestEdge(width w: Int, height h: Int, target s: Int) -> (width: Int, height: Int) {
        let ratioH = Double(h) / Double(s), ratioW = Double(w) / Double(s)
        // max·longest + min·(1 − longest) with longest = 1.0: exactly the max
        let ratio = max(ratioH, ratioW) * 1.0 + min(ratioH, ratioW) * 0.0
        let nh = (Double(h) * 1.0 / ratio).rounded(.toNearestOrEven)
        let nw = (Double(w) * 1.0 / ratio).rounded(.toNearestOrEven)
        return (Int(nw), Int(nh))
    }

    /// torchvision `center_crop` and open_clip `center_crop_or_pad`: a side shorter than the crop is
    /// padded by (crop − n) // 2 before it (the odd pixel goes after); a longer one is cropped at
    /// `int(round((n − crop) / 2.0))`, half to even.
    public static func torchvisionOffset(size n: Int, crop: Int) -> Int {
        if n < crop { return -((crop - n) / 2) }
        return Int((Double(n - crop) / 2.0).rounded(.toNearestOrEven))
    }

    /// HF `center_crop`: a longer side is cropped at (n − crop) // 2 (floor: no rounding up at .5);
    /// a shorter one is centred with ceil((crop − n) / 2) zeros before it (the odd pixel goes before).
    public static func hfOffset(size n: Int, crop: Int) -> Int {
        if n < crop { return -((crop - n + 1) / 2) }
        return (n - crop) / 2
    }

    /// The geometry `spec` gives an image of width × height.
    public static func of(_ spec: PreprocessSpec, width w: Int, height h: Int) -> PreprocessGeometry {
        let r = spec.resizeTarget, s = spec.size
        let (nw, nh): (Int, Int)
        switch spec.pipeline == .hf ? .shortest : spec.resizeMode {
        case .shortest: (nw, nh) = shortestEdge(width: w, height: h, target: r)
        case .squash: (nw, nh) = (r, r)
        case .longest: (nw, nh) = longestEdge(width: w, height: h, target: r)
        }
        let offset = spec.pipeline == .hf ? hfOffset : torchvisionOffset
        return PreprocessGeometry(resizedWidth: nw, resizedHeight: nh, x0: offset(nw, s), y0: offset(nh, s))
    }

    /// The output columns (rows) that come from the image, the rest being padding.
    func inside(_ n: Int, _ o: Int, crop s: Int) -> Range<Int> {
        let lo = max(0, -o), hi = min(s, n - o)
        return lo < hi ? lo..<hi : 0..<0
    }

    func outputCols(crop s: Int) -> Range<Int> { inside(resizedWidth, x0, crop: s) }
    func outputRows(crop s: Int) -> Range<Int> { inside(resizedHeight, y0, crop: s) }
}
