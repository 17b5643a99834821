// libFuzzer entry point over ClipImage's decoders and the whole CLIP preprocessing path.
// Any input must either decode (and preprocess to finite floats) or throw ImageError;
// a crash, an ASan report, a leak or any other error type is a bug.
import ClipImage

private let preprocess = CLIPPreprocess(resolution: 32)  // small crops keep iterations fast

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let image = try ImageDecoder.decode(bytes: bytes)
        precondition(image.pixels.count == image.width * image.height * image.mode.bytesPerPixel)
        let (w, h) = try ImageDecoder.size(bytes: bytes)
        precondition(w == image.width && h == image.height, "header size disagrees with decoded size")
        // Skip absurd aspect ratios the resize would (correctly) reject or take long over.
        if max(w, h) / max(1, min(w, h)) < 64 {
            let rgb = try preprocess.resizedCropped(image)
            let floats = preprocess.normalized(rgb)
            precondition(floats.allSatisfy { $0.isFinite })
        }
    } catch is ImageError {
        return 0
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
