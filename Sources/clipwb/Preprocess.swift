// `clipwb preprocess`: a CLIP image pipeline (decode, resize, crop, RGB, normalize) as a file; the
// pipeline is a PreprocessSpec built from the options (ClipImage.CLIPPreprocess does the work).
import ArgumentParser
import ClipCore
import ClipImage
import Foundation

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Decode and preprocess images exactly as a CLIP pipeline does (OpenAI/open_clip or Hugging Face).",
        discussion: """
        Writes the N×3×R×R float32 tensor CLIP's model consumes as a NumPy .npy file \
        (R = --size, 224 by default). --uint8-out also writes the N×R×R×3 uint8 image \
        after resize, center crop (or pad) and RGB conversion, the stage that must equal Pillow's exactly. \
        --pipeline openai is torchvision on PIL (OpenAI clip, open_clip's image_transform with --resize-mode); \
        --pipeline hf is transformers' CLIPImageProcessorPil (docs/preprocessing.md).
        """
    )

    @Argument(help: "JPEG, PNG, GIF, BMP, TIFF, WebP or PPM/PGM/PBM files (the format is read from the bytes, not the name).")
    var images: [String]

    @Option(name: .long, help: "Output .npy file for the normalized float32 tensor [N, 3, R, R].")
    var out: String

    @Option(name: .long, help: "Also write the uint8 RGB crops [N, R, R, 3] to this .npy file.")
    var uint8Out: String?

    @OptionGroup var pipeline: PreprocessOptions

    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("pass at least one image file") }
    }

    struct Item: Encodable { let path: String; let mode: String; let width: Int; let height: Int }
    struct Summary: Encodable { let out: String; let shape: [Int]; let images: [Item]; let seconds: Double }

    func run() throws {
        try reportingErrors {
            let pre = CLIPPreprocess(spec: try pipeline.spec())
            let start = DispatchTime.now().uptimeNanoseconds
            var floats = [Float](repeating: 0, count: images.count * pre.count)
            var bytes: [UInt8] = []
            var items: [Item] = []
            let progress = ProgressBar(total: images.count, label: "preprocess", unit: "images",
                                       enabled: images.count > 8 && !json ? nil : false)
            try floats.withUnsafeMutableBufferPointer { buf in
                for (i, path) in images.enumerated() {
                    let image = try ImageDecoder.decode(path: path)
                    let rgb = try pre.resizedCropped(image)
                    pre.normalize(rgb, into: buf.baseAddress! + i * pre.count)
                    if uint8Out != nil { bytes += rgb.pixels }
                    items.append(Item(path: path, mode: image.mode.rawValue, width: image.width, height: image.height))
                    progress.advance()
                }
            }
            progress.finish()
            let r = pre.resolution
            try NPYTensor.write(floats, shape: [images.count, 3, r, r], to: out)
            if let uint8Out { try NPYTensor.write(bytes, shape: [images.count, r, r, 3], to: uint8Out) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if json {
                try printJSON(Summary(out: out, shape: [images.count, 3, r, r], images: items, seconds: seconds))
            } else {
                stderrLine("wrote \(out): [\(images.count), 3, \(r), \(r)] float32 in \(String(format: "%.3f", seconds)) s")
            }
        }
    }
}

/// N-D .npy writers (ClipCore's NPY.write takes 2-D matrices).
enum NPYTensor {
    static func write(_ values: [Float], shape: [Int], to path: String) throws {
        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, NPY.header(descr: NPYDType.float32.rawValue, shape: shape), path: path)
            try values.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        }
    }

    static func write(_ values: [UInt8], shape: [Int], to path: String) throws {
        try AtomicFile.write(path) { fd in
            try AtomicFile.writeAll(fd, NPY.header(descr: "|u1", shape: shape), path: path)
            try values.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        }
    }
}
