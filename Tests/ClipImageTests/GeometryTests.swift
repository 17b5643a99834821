// torchvision's Resize/CenterCrop arithmetic and ToTensor/Normalize in float32.
import Testing
@testable import ClipImage

@Suite struct GeometryTests {
    @Test func resizedSizeIsTorchvisions() {
        // short side → 224, long side int(224·long/short) (truncation, not rounding)
        #expect(CLIPPreprocess.resizedSize(width: 640, height: 480, resolution: 224) == (298, 224))
        #expect(CLIPPreprocess.resizedSize(width: 480, height: 640, resolution: 224) == (224, 298))
        #expect(CLIPPreprocess.resizedSize(width: 308, height: 630, resolution: 224) == (224, 458))
        #expect(CLIPPreprocess.resizedSize(width: 1, height: 500, resolution: 224) == (224, 112000))
        #expect(CLIPPreprocess.resizedSize(width: 300, height: 300, resolution: 224) == (224, 224))
        #expect(CLIPPreprocess.resizedSize(width: 225, height: 224, resolution: 224) == (225, 224))
    }

    @Test func cropOffsetRoundsHalfToEven() {
        #expect(CLIPPreprocess.cropOffset(size: 225, crop: 224) == 0)  // round(0.5) = 0
        #expect(CLIPPreprocess.cropOffset(size: 227, crop: 224) == 2)  // round(1.5) = 2
        #expect(CLIPPreprocess.cropOffset(size: 229, crop: 224) == 2)  // round(2.5) = 2
        #expect(CLIPPreprocess.cropOffset(size: 298, crop: 224) == 37)
        #expect(CLIPPreprocess.cropOffset(size: 224, crop: 224) == 0)
    }

    @Test func normalizeIsFloat32TorchvisionArithmetic() {
        let pre = CLIPPreprocess()
        let rgb = RGBImage(width: 2, height: 1, pixels: [0, 128, 255, 7, 8, 9])
        let out = pre.normalized(rgb)
        #expect(out.count == 6)
        for c in 0..<3 {
            for i in 0..<2 {
                let v = Float(rgb.pixels[3 * i + c]) / Float(255)
                #expect(out[c * 2 + i] == (v - CLIPPreprocess.mean[c]) / CLIPPreprocess.std[c])
            }
        }
        #expect(abs(out[0] - (-1.7922626)) < 1e-6)  // (0/255 − 0.48145466) / 0.26862954
    }

    @Test func passOrderIsPillow13s() {
        // vertical first only when the height shrinks by more than twice the width's shrink
        #expect(!CLIPPreprocess.horizontalFirst(width: 308, height: 630, nw: 224, nh: 458))
        #expect(CLIPPreprocess.horizontalFirst(width: 279, height: 216, nw: 78, nh: 18))
        #expect(CLIPPreprocess.horizontalFirst(width: 300, height: 300, nw: 224, nh: 224))
        #expect(CLIPPreprocess.horizontalFirst(width: 100, height: 50, nw: 448, nh: 224))
    }
}
