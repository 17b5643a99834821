// libFuzzer target over the .npy reader: magic, version, header dictionary, shape, sizes, and reading the
// array as a float32 matrix and as integers.
import ClipCore

func fuzzSeeds() throws -> [String: [UInt8]] {
    var out: [String: [UInt8]] = [:]
    let m = Matrix(rows: 3, cols: 4, data: Fuzz.values(12, seed: 1))
    out["f4-3x4.npy"] = NPY.header(descr: "<f4", shape: [3, 4]) + m.data.withUnsafeBytes { Array($0) }
    out["i8-2x3.npy"] = NPY.header(descr: "<i8", shape: [2, 3]) + [Int64](0..<6).withUnsafeBytes { Array($0) }
    out["i4-2x2.npy"] = NPY.header(descr: "<i4", shape: [2, 2]) + [Int32](0..<4).withUnsafeBytes { Array($0) }
    out["f4-0x8.npy"] = NPY.header(descr: "<f4", shape: [0, 8])
    out["f8-1d.npy"] = NPY.header(descr: "<f8", shape: [2]) + [Double](repeating: 1, count: 2).withUnsafeBytes { Array($0) }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Fuzz.run(data, size) { bytes in
        try Fuzz.withTempFile(bytes, suffix: ".npy") { path in
            let f = try NPYFile(path: path)
            do { _ = try f.float32Matrix() } catch is CoreError {}
            _ = try f.intMatrix()
        }
    }
}
