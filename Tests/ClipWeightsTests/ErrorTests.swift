import ClipCore
import ClipWeights
import Foundation
import Testing

/// Each bad input gives its own error code and a message naming what is wrong.
@Suite struct ErrorTests {
    let dir = Fixture.tempDir()

    @Test func missingFile() {
        expectError("file.missing", containing: ["nope.h5", "No such file"]) { _ = try CLIPWeights.load(path: dir + "/nope.h5") }
        expectError("file.missing", containing: ["nope.h5"]) { _ = try HDF5Model(path: dir + "/nope.h5") }
    }

    @Test func notAnHDF5File() throws {
        try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: dir + "/x.h5"))
        expectError("hdf5.not-hdf5", containing: ["not an HDF5 file", "text"]) { _ = try HDF5Model(path: dir + "/x.h5") }
    }

    @Test func truncatedHDF5() throws {
        let path = try Fixture.writeHDF5(dir + "/t.h5")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        expectError("hdf5.truncated", containing: ["truncated"]) { _ = try HDF5Model(path: path).load() }
    }

    @Test func missingTensorIsNamed() throws {
        let path = try Fixture.writeHDF5(dir + "/m.h5", skip: ["visual.transformer.resblocks.1.mlp.c_fc.bias"])
        expectError("weights.missing-tensor", containing: ["visual.transformer.resblocks.1.mlp.c_fc.bias"]) { _ = try CLIPWeights.load(path: path) }
    }

    @Test func missingHuggingFaceTensorNamesBothKeys() throws {
        let path = try Fixture.writeHDF5(dir + "/hf.h5", layout: .huggingface, skip: ["ln_final.bias"])
        expectError("weights.missing-tensor", containing: ["text_model.final_layer_norm.bias", "ln_final.bias"]) { _ = try CLIPWeights.load(path: path) }
    }

    @Test func wrongShapeNamesExpectedAndActual() throws {
        let path = try Fixture.writeHDF5(dir + "/s.h5", reshape: ["visual.ln_post.weight": [32, 2]])
        expectError("weights.shape", containing: ["visual.ln_post.weight", "[32, 2]", "[64]"]) { _ = try CLIPWeights.load(path: path) }
    }

    @Test func inconsistentConfig() throws {
        let path = try Fixture.writeHDF5(dir + "/c.h5", configOverrides: ["vision_width": 100])
        expectError("config.inconsistent", containing: ["vision_width 100", "divisible by 64"]) { _ = try HDF5Model(path: path) }
        let p2 = try Fixture.writeHDF5(dir + "/c2.h5", configOverrides: ["transformer_heads": 3])
        expectError("config.inconsistent", containing: ["transformer_width 64", "transformer_heads 3"]) { _ = try HDF5Model(path: p2) }
    }

    @Test func referenceFileGivenAsWeights() throws {
        let f = try HDF5File.create(path: dir + "/ref.h5")
        try f.writeAttribute("format", "clip-reference")
        try f.writeFloats("/images/embeddings", shape: [1, 4], [1, 2, 3, 4])
        expectError("hdf5.is-reference", containing: ["clip-reference", "weights file"]) { _ = try HDF5Model(path: dir + "/ref.h5") }
    }

    // MARK: safetensors

    func writeSafetensors() throws -> String { try Fixture.writeSafetensors(dir) }

    @Test func truncatedSafetensors() throws {
        let p = try writeSafetensors()
        let d = try Data(contentsOf: URL(fileURLWithPath: p))
        try d.prefix(d.count - 100).write(to: URL(fileURLWithPath: p))
        expectError("safetensors.offsets", containing: ["outside", "truncated"]) { _ = try CLIPWeights.load(path: p) }
        try d.prefix(200).write(to: URL(fileURLWithPath: p))
        expectError("safetensors.header-length", containing: ["beyond the end of the file"]) { _ = try CLIPWeights.load(path: p) }
        try d.prefix(5).write(to: URL(fileURLWithPath: p))
        expectError("weights.unknown-format", containing: ["neither"]) { _ = try CLIPWeights.load(path: p) }
        expectError("safetensors.truncated", containing: ["5 bytes"]) { _ = try SafetensorsFile(path: p) }
    }

    func forgeHeader(_ p: String, _ edit: (String) -> String) throws { try Fixture.forgeHeader(p, edit) }

    @Test func shapeDtypeMismatchInSafetensors() throws {
        let p = try writeSafetensors()
        try forgeHeader(p) { $0.replacingOccurrences(of: "\"shape\":[64],", with: "\"shape\":[65],") }
        expectError("safetensors.size", containing: ["needs 130 bytes", "span 128"]) { _ = try CLIPWeights.load(path: p) }
    }

    @Test func unsupportedDtypeInSafetensors() throws {
        let p = try writeSafetensors()
        try forgeHeader(p) { h in
            var s = h
            s.replaceSubrange(s.range(of: "\"F16\"")!, with: "\"I16\"")
            return s
        }
        expectError("safetensors.dtype", containing: ["I16", "F32, F16 and BF16"]) { _ = try CLIPWeights.load(path: p) }
    }

    @Test func offsetsOutOfRange() throws {
        let p = try writeSafetensors()
        try forgeHeader(p) { h in
            var s = h
            let r = s.range(of: "\"data_offsets\":[0,")!
            s.replaceSubrange(r, with: "\"data_offsets\":[-8,")
            return s
        }
        expectError("safetensors.offsets", containing: ["outside"]) { _ = try CLIPWeights.load(path: p) }
    }
}
