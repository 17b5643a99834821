// The size and offset arithmetic of each pipeline (PreprocessGeometry), each case with a negative control:
// the other pipeline's (or the naive) arithmetic on the same input gives a different number.
// Expected numbers are Python's: open_clip 3.3.0 ResizeKeepRatio / center_crop_or_pad, torchvision 0.29
// Resize / CenterCrop, transformers 5.25.0 get_resize_output_image_size / center_crop.
import ClipCore
import Testing
@testable import ClipImage

@Suite struct PipelineGeometryTests {
    typealias G = PreprocessGeometry

    @Test func shortestEdgeTruncatesTheLongSide() {
        #expect(G.shortestEdge(width: 640, height: 480, target: 224) == (298, 224))  // int(298.67)
        #expect(G.shortestEdge(width: 1, height: 500, target: 224) == (224, 112000))
        #expect(G.shortestEdge(width: 500, height: 375, target: 256) == (341, 256))  // HF shortest_edge 256
        // negative control: rounding instead of truncating gives 299
        #expect(Int((Double(224 * 640) / 480).rounded()) == 299)
    }

    @Test func longestEdgeRoundsHalfToEven() {
        #expect(G.longestEdge(width: 640, height: 480, target: 224) == (224, 168))
        #expect(G.longestEdge(width: 301, height: 97, target: 224) == (224, 72))
        #expect(G.longestEdge(width: 97, height: 301, target: 224) == (72, 224))
        // ratio = 448 / 224 = 2 exactly: 225 / 2 = 112.5 → 112, 227 / 2 = 113.5 → 114 (Python's round)
        #expect(G.longestEdge(width: 448, height: 225, target: 224) == (224, 112))
        #expect(G.longestEdge(width: 448, height: 227, target: 224) == (224, 114))
        // negative control: Swift's default rounding (half away from zero) gives 113 for 112.5
        #expect(Int((225.0 / 2.0).rounded()) == 113)
        // negative control: the shortest-edge rule on the same image resizes the short side to 224
        #expect(G.shortestEdge(width: 448, height: 225, target: 224) != (224, 112))
    }

    @Test func longestEdgeOfExtremeAspectRatios() {
        #expect(G.longestEdge(width: 5, height: 1000, target: 224) == (1, 224))    // round(1.12)
        #expect(G.longestEdge(width: 1000, height: 3, target: 224) == (224, 1))    // round(0.672)
        #expect(G.longestEdge(width: 1, height: 1000, target: 224) == (0, 224))    // round(0.224): Pillow refuses
    }

    @Test func torchvisionCropRoundsHalfToEvenAndPadsTheOddPixelAfter() {
        #expect(G.torchvisionOffset(size: 227, crop: 224) == 2)   // round(1.5) = 2
        #expect(G.torchvisionOffset(size: 229, crop: 224) == 2)   // round(2.5) = 2
        #expect(G.torchvisionOffset(size: 231, crop: 224) == 4)   // round(3.5) = 4
        #expect(G.torchvisionOffset(size: 112000, crop: 224) == 55888)
        #expect(G.torchvisionOffset(size: 112, crop: 224) == -56)  // 56 before, 56 after
        #expect(G.torchvisionOffset(size: 113, crop: 224) == -55)  // (224 − 113) // 2 = 55 before, 56 after
        #expect(G.torchvisionOffset(size: 1, crop: 224) == -111)
    }

    @Test func hfCropFloorsAndPadsTheOddPixelBefore() {
        #expect(G.hfOffset(size: 227, crop: 224) == 1)    // 3 // 2
        #expect(G.hfOffset(size: 229, crop: 224) == 2)
        #expect(G.hfOffset(size: 231, crop: 224) == 3)    // 7 // 2
        #expect(G.hfOffset(size: 112000, crop: 224) == 55888)
        #expect(G.hfOffset(size: 112, crop: 224) == -56)
        #expect(G.hfOffset(size: 113, crop: 224) == -56)  // ceil(111 / 2) = 56 before, 55 after
        #expect(G.hfOffset(size: 1, crop: 224) == -112)
        // negative controls: torchvision's arithmetic on the same sizes
        #expect(G.torchvisionOffset(size: 227, crop: 224) != G.hfOffset(size: 227, crop: 224))
        #expect(G.torchvisionOffset(size: 231, crop: 224) != G.hfOffset(size: 231, crop: 224))
        #expect(G.torchvisionOffset(size: 113, crop: 224) != G.hfOffset(size: 113, crop: 224))
    }

    @Test func specGeometryPerPipelineAndMode() {
        let openai = PreprocessSpec.openai(size: 224)
        #expect(G.of(openai, width: 227, height: 301) == G(resizedWidth: 224, resizedHeight: 297, x0: 0, y0: 36))  // round(36.5)
        // an image already 227 × 224: no resize, crop offset 2 (torchvision) vs 1 (HF)
        #expect(G.of(openai, width: 227, height: 224) == G(resizedWidth: 227, resizedHeight: 224, x0: 2, y0: 0))
        let hf = PreprocessSpec(pipeline: .hf, size: 224, resizeSize: 224)
        #expect(G.of(hf, width: 227, height: 224) == G(resizedWidth: 227, resizedHeight: 224, x0: 1, y0: 0))
        // HF shortest_edge 256, crop 224 on 500 × 375: 341 × 256, offsets (117 // 2, 32 // 2)
        let hf256 = PreprocessSpec(pipeline: .hf, size: 224, resizeSize: 256)
        #expect(G.of(hf256, width: 500, height: 375) == G(resizedWidth: 341, resizedHeight: 256, x0: 58, y0: 16))
        #expect(G.of(PreprocessSpec(pipeline: .openai, size: 224, resizeSize: 256), width: 500, height: 375)
                == G(resizedWidth: 341, resizedHeight: 256, x0: 58, y0: 16))  // round(58.5) = 58 too
        var squash = openai
        squash.resizeMode = .squash
        #expect(G.of(squash, width: 640, height: 480) == G(resizedWidth: 224, resizedHeight: 224, x0: 0, y0: 0))
        var longest = openai
        longest.resizeMode = .longest
        #expect(G.of(longest, width: 640, height: 480) == G(resizedWidth: 224, resizedHeight: 168, x0: 0, y0: -28))
        #expect(G.of(longest, width: 301, height: 97) == G(resizedWidth: 224, resizedHeight: 72, x0: 0, y0: -76))
        // smaller than the crop (shortest_edge 201 < crop 224): 23 pixels of padding, 12 before (HF)
        // or 11 before (torchvision)
        let hfSmall = PreprocessSpec(pipeline: .hf, size: 224, resizeSize: 201)
        #expect(G.of(hfSmall, width: 400, height: 400) == G(resizedWidth: 201, resizedHeight: 201, x0: -12, y0: -12))
        let tvSmall = PreprocessSpec(pipeline: .openai, size: 224, resizeSize: 201)
        #expect(G.of(tvSmall, width: 400, height: 400) == G(resizedWidth: 201, resizedHeight: 201, x0: -11, y0: -11))
    }

    @Test func rescaleAgreesOnEveryByteButNotWithAFloat32Product() {
        // HF: float32(float64(v) · (1/255)); torchvision: float32(v) / 255 — equal on all 256 bytes
        for v in 0..<256 {
            #expect(CLIPPreprocess.normalizedByte(v, mean: 0.5, std: 0.25, pipeline: .hf)
                    == CLIPPreprocess.normalizedByte(v, mean: 0.5, std: 0.25, pipeline: .openai))
        }
        // negative control: a float32 product v · float32(1/255) differs on 126 bytes (first 3)
        let product = (0..<256).filter { Float($0) * Float(1.0 / 255.0) != Float($0) / Float(255) }
        #expect(product.count == 126 && product.first == 3)
    }
}
