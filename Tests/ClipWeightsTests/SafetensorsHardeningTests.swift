// Issue 12: safetensors headers the safetensors crate refuses, sizes that overflow, configurations that
// claim more layers than the file holds.
import ClipCore
import ClipWeights
import Foundation
import Testing

@Suite struct SafetensorsHardeningTests {
    let dir = Fixture.tempDir()

    func entry(_ name: String, _ shape: String, _ begin: Int, _ end: Int) -> String {
        "\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
    }

    func raw(_ entries: [String], dataBytes: Int) throws -> String {
        try Fixture.rawSafetensors(dir + "/r.safetensors", header: "{" + entries.joined(separator: ",") + "}", dataBytes: dataBytes)
    }

    @Test func tilingDataAcceptedInAnyHeaderOrder() throws {
        let p = try raw([entry("b", "[1]", 8, 12), entry("a", "[2]", 0, 8), entry("empty", "[0]", 12, 12)], dataBytes: 12)
        #expect(try SafetensorsFile(path: p).entries.count == 3)
    }

    @Test func gapBetweenTensors() throws {
        let p = try raw([entry("a", "[2]", 0, 8), entry("b", "[1]", 12, 16)], dataBytes: 16)
        expectError("safetensors.offsets", containing: ["'b'", "gap", "8"]) { _ = try SafetensorsFile(path: p) }
        let q = try raw([entry("a", "[2]", 4, 12)], dataBytes: 12)
        expectError("safetensors.offsets", containing: ["'a'", "gap"]) { _ = try SafetensorsFile(path: q) }
    }

    @Test func overlappingTensors() throws {
        let p = try raw([entry("a", "[2]", 0, 8), entry("b", "[1]", 4, 8)], dataBytes: 8)
        expectError("safetensors.offsets", containing: ["'b'", "overlaps", "'a'"]) { _ = try SafetensorsFile(path: p) }
    }

    @Test func bytesAfterTheLastTensor() throws {
        let p = try raw([entry("a", "[2]", 0, 8)], dataBytes: 12)
        expectError("safetensors.offsets", containing: ["4 bytes", "after the last tensor"]) { _ = try SafetensorsFile(path: p) }
    }

    @Test func duplicateKeys() throws {
        let p = try raw([entry("a", "[2]", 0, 8), entry("a", "[2]", 0, 8)], dataBytes: 8)
        expectError("safetensors.duplicate-key", containing: ["'a'"]) { _ = try SafetensorsFile(path: p) }
        let m = try Fixture.rawSafetensors(dir + "/m.safetensors", header: "{\"__metadata__\":{\"x\":\"1\",\"x\":\"2\"}," + entry("a", "[2]", 0, 8) + "}", dataBytes: 8)
        expectError("safetensors.duplicate-key", containing: ["'x'", "__metadata__"]) { _ = try SafetensorsFile(path: m) }
    }

    @Test func floatsInShapeOrOffsets() throws {
        let p = try raw([entry("a", "[2.0]", 0, 8)], dataBytes: 8)
        expectError("safetensors.header", containing: ["'a'", "shape", "2.0"]) { _ = try SafetensorsFile(path: p) }
        let q = try Fixture.rawSafetensors(dir + "/q.safetensors", header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", dataBytes: 8)
        expectError("safetensors.header", containing: ["'a'", "data_offsets"]) { _ = try SafetensorsFile(path: q) }
        let b = try raw([entry("a", "[true]", 0, 8)], dataBytes: 8)
        expectError("safetensors.header", containing: ["'a'", "shape"]) { _ = try SafetensorsFile(path: b) }
    }

    @Test func shapeWhoseSizeOverflows() throws {
        let p = try raw([entry("a", "[4294967296,4294967296]", 0, 8)], dataBytes: 8)
        expectError("safetensors.size", containing: ["'a'", "[4294967296, 4294967296]", "overflows"]) { _ = try SafetensorsFile(path: p) }
        let q = try raw([entry("a", "[99999999999999999999]", 0, 8)], dataBytes: 8)
        expectError("safetensors.header", containing: ["'a'", "shape"]) { _ = try SafetensorsFile(path: q) }
    }

    @Test func nonStringMetadata() throws {
        let p = try Fixture.rawSafetensors(dir + "/n.safetensors", header: "{\"__metadata__\":{\"x\":1}," + entry("a", "[2]", 0, 8) + "}", dataBytes: 8)
        expectError("safetensors.header", containing: ["__metadata__", "'x'", "string"]) { _ = try SafetensorsFile(path: p) }
    }

    // MARK: clip_config metadata

    /// The fixture's safetensors file with `from` replaced by `to` in its clip_config metadata (a JSON text
    /// inside a JSON string, so its quotes are escaped: `\"vision_layers\":2`).
    func withClipConfig(_ from: String, _ to: String) throws -> String {
        let p = try Fixture.writeSafetensorsV1(dir)
        let esc = { (s: String) in s.replacingOccurrences(of: "\"", with: "\\\"") }
        try Fixture.forgeHeader(p) { h in
            #expect(h.contains(esc(from)))
            return h.replacingOccurrences(of: esc(from), with: esc(to))
        }
        return p
    }

    @Test func clipConfigClaimingABillionLayers() throws {
        let p = try withClipConfig("\"vision_layers\":2", "\"vision_layers\":1000000000")
        expectError("weights.missing-tensor", containing: ["visual.transformer.resblocks.2.attn.in_proj_weight", "vision_layers 1000000000"]) {
            _ = try CLIPWeights.load(path: p)
        }
        let e = try withClipConfig("\"vision_layers\":2", "\"vision_layers\":1e9")
        expectError("config.inconsistent", containing: ["clip_config", "vision_layers", "integer"]) { _ = try CLIPWeights.load(path: e) }
    }

    @Test func clipConfigHugeValues() throws {
        let w = try withClipConfig("\"vision_width\":64", "\"vision_width\":4611686018427387904")
        expectError("config.size", containing: ["vision_width", "4611686018427387904"]) { _ = try CLIPWeights.load(path: w) }
        let r = try withClipConfig("\"image_resolution\":64", "\"image_resolution\":1099511627776")
        expectError("config.size", containing: ["image_resolution", "1099511627776"]) { _ = try CLIPWeights.load(path: r) }
        let d = try withClipConfig("\"vision_layers\":2", "\"vision_layers\":2,\"vision_layers\":3")
        expectError("safetensors.duplicate-key", containing: ["'vision_layers'", "clip_config"]) { _ = try CLIPWeights.load(path: d) }
    }

    @Test func layerKeyOfIntMaxWithoutClipConfig() throws {
        let key = "visual.transformer.resblocks.9223372036854775807.attn.in_proj_weight"
        let w = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/m.h5"))
        try SafetensorsWriter.write(w, dtype: .f32, to: dir + "/x.safetensors")
        try Fixture.forgeHeader(dir + "/x.safetensors") { h in
            // Drop the metadata (so the config is inferred) and rename layer 1's in_proj weight.
            Fixture.droppingMetadata(h).replacingOccurrences(of: "visual.transformer.resblocks.1.attn.in_proj_weight", with: key)
        }
        expectError("weights.missing-tensor", containing: ["visual.transformer.resblocks.1.attn.in_proj_weight"]) {
            _ = try CLIPWeights.load(path: dir + "/x.safetensors")
        }
    }

    // MARK: version 2 (clip_spec) and versions

    @Test func versionOneFilesStillLoad() throws {
        let w = try CLIPWeights.load(path: try Fixture.writeSafetensorsV1(dir))
        #expect(w.spec.ignoringAssumed == Fixture.config)
    }

    /// The fixture's version 2 file with `from` replaced by `to` inside its clip_spec metadata.
    func withClipSpec(_ from: String, _ to: String) throws -> String {
        let p = try Fixture.writeSafetensors(dir)
        let esc = { (s: String) in s.replacingOccurrences(of: "\"", with: "\\\"") }
        try Fixture.forgeHeader(p) { h in
            #expect(h.contains(esc(from)))
            return h.replacingOccurrences(of: esc(from), with: esc(to))
        }
        return p
    }

    @Test func clipSpecThatTheTensorsContradictIsRefused() throws {
        let layers = try withClipSpec("\"layers\":2", "\"layers\":1000000000")
        expectError("weights.missing-tensor", containing: ["visual.transformer.resblocks.2.attn.in_proj_weight", "vision_layers 1000000000"]) {
            _ = try CLIPWeights.load(path: layers)
        }
        // An activation is invisible in the shapes: the recorded one is what runs, and an unknown one is refused.
        let gelu = try withClipSpec("\"activation\":\"quick_gelu\",\"heads\":1,\"layer_norm_eps\":1e-05,\"layer_scale\":false,\"layers\":2",
                                    "\"activation\":\"gelu\",\"heads\":1,\"layer_norm_eps\":1e-05,\"layer_scale\":false,\"layers\":2")
        #expect(try CLIPWeights.load(path: gelu).spec.vision.transformer.activation == .gelu)
        let tanh = try withClipSpec("\"activation\":\"quick_gelu\",\"heads\":1,\"layer_norm_eps\":1e-05,\"layer_scale\":false,\"layers\":2",
                                    "\"activation\":\"gelu_tanh\",\"heads\":1,\"layer_norm_eps\":1e-05,\"layer_scale\":false,\"layers\":2")
        expectError("config.spec", containing: ["clip_spec", "vision.transformer.activation"]) { _ = try CLIPWeights.load(path: tanh) }
        let scale = try withClipSpec("\"layer_scale\":false,\"layers\":2", "\"layer_scale\":true,\"layers\":2")
        expectError("config.spec", containing: ["contradict"]) { _ = try CLIPWeights.load(path: scale) }
    }

    @Test func unknownFormatVersionIsRefused() throws {
        let p = try Fixture.writeSafetensors(dir)
        try Fixture.forgeHeader(p) { $0.replacingOccurrences(of: "\"format_version\":\"2\"", with: "\"format_version\":\"3\"") }
        expectError("weights.version", containing: ["version 3", "versions 1 and 2"]) { _ = try CLIPWeights.load(path: p) }
    }
}
