// ann-benchmarks' HDF5 layout: `train` [n, d] and `test` [q, d] float vectors, `neighbors` [q, k]
// int ids, `distances` [q, k]. Read through ClipWeights' HDF5File: the same checks before libhdf5 opens
// the file, the same lock, the same size checks and reads of untrusted files as for weights.
import ClipCore
import ClipWeights

final class ANNBenchmarksFile {
    let path: String
    private let file: HDF5File

    init(path: String) throws {
        self.path = path
        file = try Self.rethrown { try HDF5File(path: path) }
    }

    /// HDF5File's errors keep their codes, except a size the file cannot hold, which is a shape error here.
    private static func rethrown<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as WeightsError {
            throw EvalError(e.code == "weights.size" ? "hdf5.shape" : e.code, e.message, kind: e.kind)
        }
    }

    private func info(_ name: String) throws -> (rows: Int, cols: Int, kind: HDF5File.DatasetInfo.Kind) {
        guard file.exists(name) else {
            throw EvalError("hdf5.missing", "'\(path)' has no dataset '\(name)'; ann-benchmarks files hold train, test, neighbors, distances")
        }
        let d = try Self.rethrown { try file.info(name) }
        guard d.shape.count == 2, !d.isNullSpace else {
            throw EvalError("hdf5.shape", "'\(path)':\(name) is \(d.shape.count)-D; a 2-D dataset [rows, dim] is needed")
        }
        return (d.shape[0], d.shape[1], d.kind)
    }

    func floats(_ name: String) throws -> Matrix {
        let (r, c, kind) = try info(name)
        guard kind == .float else {
            throw EvalError("hdf5.dtype", "'\(path)':\(name) is not a float dataset")
        }
        return Matrix(rows: r, cols: c, data: try Self.rethrown { try file.readFloats(name) })
    }

    func ints(_ name: String) throws -> (rows: Int, cols: Int, data: [Int]) {
        let (r, c, kind) = try info(name)
        guard kind == .integer else {
            throw EvalError("hdf5.dtype", "'\(path)':\(name) is not an integer dataset")
        }
        return (r, c, try Self.rethrown { try file.readInt32s(name) }.map { Int($0) })
    }
}
