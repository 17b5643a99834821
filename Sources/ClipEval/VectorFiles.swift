// Vector inputs of the runner: NumPy .npy (float32, 2-D), the TEXMEX .fvecs/.ivecs of ann-benchmarks'
// sources (each row: int32 dimension, then the values), and ann-benchmarks' HDF5 files
// (`train`, `test`, `neighbors`, `distances`), addressed as FILE.hdf5:DATASET.
import AnnoyIndex
import ClipCore

public enum VectorFiles {
    /// Reads float vectors; `what` names them in errors ("vector", "query"). An HDF5 path without
    /// `:DATASET` reads `defaultDataset` (ann-benchmarks: `train` for the base, `test` for queries).
    public static func readFloats(_ path: String, what: String = "vector", defaultDataset: String = "train") throws -> Matrix {
        let (file, dataset) = splitDataset(path)
        let m: Matrix
        if file.hasSuffix(".fvecs") {
            m = try readVecs(file, isFloat: true).floats
        } else if file.hasSuffix(".hdf5") || file.hasSuffix(".h5") {
            m = try ANNBenchmarksFile(path: file).floats(dataset ?? defaultDataset)
        } else {
            m = try NPYFile(path: file).float32Matrix()
        }
        try m.requireFinite(what)
        return m
    }

    /// Reads integer rows (ground-truth neighbour ids): .npy (int32/int64), .ivecs, HDF5 `neighbors`.
    public static func readInts(_ path: String) throws -> (rows: Int, cols: Int, data: [Int]) {
        let (file, dataset) = splitDataset(path)
        if file.hasSuffix(".ivecs") { return try readVecs(file, isFloat: false).ints }
        if file.hasSuffix(".hdf5") || file.hasSuffix(".h5") { return try ANNBenchmarksFile(path: file).ints(dataset ?? "neighbors") }
        return try NPYFile(path: file).intMatrix()
    }

    /// `x.hdf5:test` → ("x.hdf5", "test").
    static func splitDataset(_ path: String) -> (String, String?) {
        for ext in [".hdf5:", ".h5:"] {
            if let r = path.range(of: ext) {
                return (String(path[..<r.lowerBound]) + ext.dropLast(), String(path[r.upperBound...]))
            }
        }
        return (path, nil)
    }

    static func readVecs(_ path: String, isFloat: Bool) throws -> (floats: Matrix, ints: (rows: Int, cols: Int, data: [Int])) {
        let f = try MappedFile(path: path)
        return try f.withBytes { b in
            guard b.count >= 4 else { throw EvalError("vecs.empty", "'\(path)' is empty or truncated (no dimension header)") }
            let dim = Int(b.loadUnaligned(fromByteOffset: 0, as: Int32.self))
            guard dim > 0, b.count % (4 + 4 * dim) == 0 else {
                throw EvalError("vecs.size", "'\(path)' is not a valid \(isFloat ? ".fvecs" : ".ivecs") file: \(b.count) bytes is not a whole number of rows of dimension \(dim)")
            }
            let rows = b.count / (4 + 4 * dim)
            var fl = [Float](), ints = [Int]()
            if isFloat { fl.reserveCapacity(rows * dim) } else { ints.reserveCapacity(rows * dim) }
            for r in 0..<rows {
                let off = r * (4 + 4 * dim)
                guard Int(b.loadUnaligned(fromByteOffset: off, as: Int32.self)) == dim else {
                    throw EvalError("vecs.ragged", "'\(path)' row \(r) has a different dimension than row 0 (\(dim))")
                }
                for c in 0..<dim {
                    if isFloat { fl.append(b.loadUnaligned(fromByteOffset: off + 4 + 4 * c, as: Float.self)) }
                    else { ints.append(Int(b.loadUnaligned(fromByteOffset: off + 4 + 4 * c, as: Int32.self))) }
                }
            }
            return (Matrix(rows: isFloat ? rows : 0, cols: dim, data: fl), (rows, dim, ints))
        }
    }
}

public enum EvalErrors: ErrorDomain { public static let library = "ClipEval" }
/// The error type of ClipEval.
public typealias EvalError = LibraryError<EvalErrors>
