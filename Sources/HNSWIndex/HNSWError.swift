// The error type of HNSWIndex: bad parameters, bad index files, failures inside hnswlib.
import CHNSW
import ClipCore

public enum HNSWErrors: ErrorDomain { public static let library = "HNSWIndex" }
public typealias HNSWError = LibraryError<HNSWErrors>

extension LibraryError where Domain == HNSWErrors {
    /// Runs a shim call with a message buffer; a non-OK status becomes an error carrying the shim's line.
    static func check(_ what: String, _ call: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var buf = [CChar](repeating: 0, count: 512)
        let status = buf.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
        guard status != Int32(CHNSW_OK.rawValue) else { return }
        let line = String(cString: buf)
        switch UInt32(status) {
        case CHNSW_BAD_ARGUMENT.rawValue: throw HNSWError("hnsw.\(what).argument", line)
        case CHNSW_BAD_FILE.rawValue: throw HNSWError("hnsw.\(what).file", line + "; pass a file saved by hnswlib (or clipwb) with the dimension it was built with")
        case CHNSW_IO.rawValue: throw HNSWError("hnsw.\(what).io", line, kind: .system)
        case CHNSW_NO_MEMORY.rawValue: throw HNSWError("hnsw.\(what).memory", line + "; lower the capacity or free memory", kind: .system)
        default: throw HNSWError("hnsw.\(what).failed", line, kind: .system)
        }
    }
}
