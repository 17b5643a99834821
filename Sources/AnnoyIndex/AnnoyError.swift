// The error type of AnnoyIndex: bad vectors, bad index files, bad query parameters.
import ClipCore

public enum AnnoyErrors: ErrorDomain { public static let library = "AnnoyIndex" }
public typealias AnnoyError = LibraryError<AnnoyErrors>

extension Matrix {
    /// Throws naming the first row holding NaN or ±Inf: Annoy would silently build garbage from it.
    public func requireFinite(_ what: String) throws {
        if let bad = firstNonFinite() {
            let v = data[bad.row * cols + bad.col]
            throw AnnoyError("vectors.non-finite",
                             "\(what) row \(bad.row) holds \(v) at column \(bad.col); remove or repair that row (NaN/Inf cannot be indexed)")
        }
    }
}
