// ann-benchmarks' HDF5 layout: `train` [n, d] and `test` [q, d] float vectors, `neighbors` [q, k]
// int ids, `distances` [q, k]. Read through the CHDF5 shim, converted to float32 / int32 by libhdf5.
import CHDF5
import ClipCore
import Foundation

final class ANNBenchmarksFile {
    let path: String
    private let id: chdf5_id
    private let fileBytes: Int

    init(path: String) throws {
        self.path = path
        try RegularFile.require(path)  // libhdf5 would block on a FIFO
        fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        var err = [CChar](repeating: 0, count: 512)
        id = chdf5_open_readonly(path, &err, err.count)
        guard id >= 0 else {
            throw EvalError("hdf5.open", "cannot open '\(path)' as HDF5: \(String(cString: err))")
        }
    }

    deinit { chdf5_close_file(id) }

    private func info(_ name: String) throws -> (rows: Int, cols: Int, cls: Int32) {
        guard chdf5_exists(id, name) == 1 else {
            throw EvalError("hdf5.missing", "'\(path)' has no dataset '\(name)'; ann-benchmarks files hold train, test, neighbors, distances")
        }
        var err = [CChar](repeating: 0, count: 512)
        var i = chdf5_info()
        guard chdf5_dataset_info(id, name, &i, &err, err.count) >= 0 else {
            throw EvalError("hdf5.read", "cannot read '\(path)':\(name): \(String(cString: err))")
        }
        guard i.rank == 2 else {
            throw EvalError("hdf5.shape", "'\(path)':\(name) is \(i.rank)-D; a 2-D dataset [rows, dim] is needed")
        }
        // Dimensions are file input: each must fit in Int and [rows, dim] × 4 bytes in the file.
        let limit = UInt64(Int.max)
        guard i.dims.0 <= limit, i.dims.1 <= limit,
              let bytes = CheckedSize.bytes([Int(i.dims.0), Int(i.dims.1)], elementSize: 4), bytes <= max(fileBytes, 1) * 1032 else {
            throw EvalError("hdf5.shape", "'\(path)':\(name) claims \(i.dims.0) × \(i.dims.1) values, more than the \(fileBytes)-byte file can hold")
        }
        return (Int(i.dims.0), Int(i.dims.1), Int32(i.type_class))
    }

    func floats(_ name: String) throws -> Matrix {
        let (r, c, cls) = try info(name)
        guard cls == Int32(CHDF5_FLOAT.rawValue) else {
            throw EvalError("hdf5.dtype", "'\(path)':\(name) is not a float dataset")
        }
        var out = [Float](repeating: 0, count: r * c)
        var err = [CChar](repeating: 0, count: 512)
        guard chdf5_read_float(id, name, &out, &err, err.count) >= 0 else {
            throw EvalError("hdf5.read", "cannot read '\(path)':\(name): \(String(cString: err))")
        }
        return Matrix(rows: r, cols: c, data: out)
    }

    func ints(_ name: String) throws -> (rows: Int, cols: Int, data: [Int]) {
        let (r, c, cls) = try info(name)
        guard cls == Int32(CHDF5_INTEGER.rawValue) else {
            throw EvalError("hdf5.dtype", "'\(path)':\(name) is not an integer dataset")
        }
        var out = [Int32](repeating: 0, count: r * c)
        var err = [CChar](repeating: 0, count: 512)
        guard chdf5_read_int32(id, name, &out, &err, err.count) >= 0 else {
            throw EvalError("hdf5.read", "cannot read '\(path)':\(name): \(String(cString: err))")
        }
        return (r, c, out.map { Int($0) })
    }
}
