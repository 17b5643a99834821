import ClipCore
import ClipWeights
import Foundation
import Testing

@Suite struct LoaderTests {
    let dir = Fixture.tempDir()

    func assertSame(_ a: CLIPWeights, _ b: CLIPWeights) throws {
        #expect(a.spec.ignoringAssumed == b.spec.ignoringAssumed)
        #expect(a.names == b.names)
        for n in a.names {
            let x = try a.tensor(n), y = try b.tensor(n)
            #expect(x.shape == y.shape, "\(n)")
            #expect(Array(x.data) == Array(y.data), "\(n) differs")
        }
    }

    @Test func flatLayoutLoadsEveryTensorWithInferredConfig() throws {
        let path = try Fixture.writeHDF5(dir + "/flat.h5")
        let w = try CLIPWeights.load(path: path)
        #expect(w.spec.ignoringAssumed == Fixture.config)
        #expect(w.spec.assumed.sorted() == ["activation", "tokenizer", "transformer_heads", "vision_heads"])
        #expect(w.source == "test fixture")
        let t = Fixture.tensors()
        for (name, a) in t { #expect(Array(try w.tensor(name).data) == a.values, "\(name)") }
        #expect(w.parameterCount == t.values.reduce(0) { $0 + $1.values.count })
    }

    @Test func nestedAndHuggingFaceLayoutsGiveTheSameModel() throws {
        let flat = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/flat.h5"))
        let nested = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/nested.h5", layout: .nested))
        let hf = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/hf.h5", layout: .huggingface))
        try assertSame(flat, nested)
        try assertSame(flat, hf)
        #expect(try HDF5Model(path: dir + "/hf.h5").naming == .huggingface)
    }

    @Test func configGroupOverridesInference() throws {
        // heads is not inferable from shapes beyond width/64: /config may say otherwise.
        let path = try Fixture.writeHDF5(dir + "/cfg.h5", configOverrides: ["transformer_heads": 2])
        #expect(try HDF5Model(path: path).spec.text.transformer.heads == 2)
    }

    @Test func safetensorsF32IsBitIdenticalAndUsedInPlace() throws {
        let h5 = try Fixture.writeHDF5(dir + "/m.h5")
        let src = try CLIPWeights.load(path: h5)
        try SafetensorsWriter.write(src, dtype: .f32, to: dir + "/m32.safetensors")
        let st = try SafetensorsFile(path: dir + "/m32.safetensors")
        for e in st.entries.values where e.shape.reduce(1, *) * 4 % 64 == 0 { #expect(e.range.lowerBound % 64 == 0, "\(e.name) unaligned") }
        #expect(st.metadata["format"] == "clipwb-weights")
        #expect(try WeightSource.safetensors(st).spec().ignoringAssumed == Fixture.config)
        #expect(st.metadata["format_version"] == "2" && st.metadata["clip_spec"] != nil)
        try assertSame(src, try st.load())
    }

    @Test func safetensorsReadIntoMemoryOutliveTheirFile() throws {
        // Issue 12, item 10c: a server loads its weights as a private copy; truncating the file must not fault.
        let src = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/m.h5"))
        let path = dir + "/mem.safetensors"
        try SafetensorsWriter.write(src, dtype: .f32, to: path)
        let copy = try CLIPWeights.load(path: path, backing: .privateCopy)
        #expect(truncate(path, 0) == 0)
        try assertSame(src, copy)
    }

    @Test func safetensorsF16EqualsRoundToNearestEven() throws {
        let src = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/m.h5"))
        try SafetensorsWriter.write(src, dtype: .f16, to: dir + "/m16.safetensors")
        let back = try CLIPWeights.load(path: dir + "/m16.safetensors")
        var differs = 0
        for n in src.names {
            let a = try src.tensor(n).data, b = try back.tensor(n).data
            for i in 0..<a.count {
                #expect(b[i] == Float(Float16(a[i])))
                if b[i] != a[i] { differs += 1 }
            }
        }
        #expect(differs > 0, "f16 rounding should change some values")
    }

    @Test func bf16RoundTripsWithinBfloatPrecision() throws {
        let src = try CLIPWeights.load(path: try Fixture.writeHDF5(dir + "/m.h5"))
        try SafetensorsWriter.write(src, dtype: .bf16, to: dir + "/mb.safetensors")
        let back = try CLIPWeights.load(path: dir + "/mb.safetensors")
        let a = try src.tensor("visual.proj").data, b = try back.tensor("visual.proj").data
        for i in 0..<a.count { #expect(abs(a[i] - b[i]) <= abs(a[i]) / 256) }
    }
}
