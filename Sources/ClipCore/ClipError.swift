// The error shape every clipwb library uses: a stable code, a sentence the user can act on,
// and the underlying cause. Only the CLI maps these to exit codes.

/// What kind of failure an error is, so shells (CLI, server) can map it without knowing the library.
public enum ErrorKind: String, Sendable, Codable {
    /// The user's input is wrong (bad file, bad argument): exit status 2, HTTP 4xx.
    case badInput
    /// A comparison or check ran and failed: exit status 1.
    case failed
    /// The environment failed us (I/O, a C library): exit status 2, HTTP 500.
    case system
}

/// Conformed to by each library's error type.
public protocol ClipwbError: Error, CustomStringConvertible {
    /// Stable, machine-readable identifier, e.g. `hdf5.missing-tensor`.
    var code: String { get }
    /// A sentence the user can act on.
    var message: String { get }
    var kind: ErrorKind { get }
}

extension ClipwbError {
    public var description: String { message }
}

/// Which library an error comes from: each library declares one and names its error type after it
/// (`typealias WeightsError = LibraryError<WeightsErrors>`), so there is one error shape, written once.
public protocol ErrorDomain: Sendable {
    /// The library, for messages and logs ("ClipWeights").
    static var library: String { get }
}

/// The one error type of every clipwb library, told apart by its domain.
public struct LibraryError<Domain: ErrorDomain>: ClipwbError, Equatable, Sendable {
    public let code: String
    public let message: String
    public let kind: ErrorKind

    public init(_ code: String, _ message: String, kind: ErrorKind = .badInput) {
        self.code = code
        self.message = message
        self.kind = kind
    }

    public var library: String { Domain.library }
}

public enum CoreErrors: ErrorDomain { public static let library = "ClipCore" }
/// The error type of ClipCore itself (files, .npy, mmap).
public typealias CoreError = LibraryError<CoreErrors>
