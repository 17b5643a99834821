// libFuzzer target over the clip-hdf5 weight loader: libhdf5 opening a damaged file, the global-heap check,
// attributes, /config, dataset infos and reading every tensor. Inputs above `maxBytes` are skipped: the
// loader reads every tensor, and the fixtures' float data teaches the fuzzer nothing.
import ClipCore
import ClipWeights

let maxBytes = 1 << 20

func fuzzSeeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    for (label, nested) in [("flat", false), ("nested", true)] {
        out["tiny-\(label).h5"] = try Fuzz.written { path in
            let f = try HDF5File.create(path: path)
            try f.writeAttribute("format", "clip-hdf5")
            try f.writeAttribute("format_version", 1)
            try f.writeAttribute("source", "fuzz seed")
            for (name, a) in WeightsSeeds.tensors() {
                let key = nested ? name.replacingOccurrences(of: ".", with: "/") : name
                try f.writeFloats("/state_dict/\(key)", shape: a.shape, a.values)
            }
            let c = WeightsSeeds.config
            for (name, value) in [("vision_layers", c.vision.transformer.layers), ("transformer_heads", c.text.transformer.heads)] {
                try f.writeAttribute(name, value, on: "/config")
            }
            try f.writeAttribute("labels", strings: ["a", "bc"], on: "/")
        }
    }
    // Attributes only (no tensors): small, so most mutations land in the structures libhdf5 decodes.
    out["attributes-only.h5"] = try Fuzz.written { path in
        let f = try HDF5File.create(path: path)
        try f.writeAttribute("format", "clip-hdf5")
        try f.writeAttribute("format_version", 1)
        try f.writeAttribute("labels", strings: ["a", "bc"], on: "/")
        try f.writeAttribute("logit_scale", doubles: [4.6], on: "/")
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHDF5(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size <= maxBytes else { return 0 }
    // The containment child within libFuzzer's -timeout=10 (a hang there is refused after 5 s, not a timeout).
    HDF5File.containment = (memoryMb: 1024, seconds: 5)
    return Fuzz.run(data, size) { bytes in
        try Fuzz.withTempFile(bytes, suffix: ".h5") { path in
            let w = try HDF5Model(path: path)
            _ = try w.load()
        }
    }
}
