// libFuzzer target over the safetensors reader: header length, header JSON, entries, clip_config metadata,
// config inference and loading (both half-precision policies, both backings).
import ClipCore
import ClipWeights

func fuzzSeeds() throws -> [String: [UInt8]] {
    let weights = CLIPWeights(spec: WeightsSeeds.config, source: "fuzz seed", arrays: WeightsSeeds.tensors())
    var out: [String: [UInt8]] = [:]
    for dtype in WeightDType.allCases {
        out["tiny-\(dtype.rawValue).safetensors"] = try Fuzz.written {
            try SafetensorsWriter.write(weights, dtype: dtype, to: $0)
        }
    }
    // Plain safetensors (no clip_config): the config is inferred from the shapes.
    let plain = Array("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},\"__metadata__\":{\"k\":\"v\"}}".utf8)
    out["plain.safetensors"] = withUnsafeBytes(of: UInt64(plain.count).littleEndian) { Array($0) } + plain + [UInt8](repeating: 0, count: 8)
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { bytes in
        try Fuzz.withTempFile(bytes, suffix: ".safetensors") { path in
            let backing: MappedFile.Backing = size % 2 == 0 ? .mapping : .privateCopy
            let file = try SafetensorsFile(path: path, backing: backing)
            _ = file.stored
            _ = try WeightSource.safetensors(file).spec()
            let weights = try file.load(halves: size % 3 == 0 ? .widen : .direct)
            weights.materializeAll()
            for name in weights.names { _ = try weights.tensor(name) }
        }
    }
}
