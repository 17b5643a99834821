// One JSON style for everything clipwb writes (CLI --json, results.json, sidecars, the API):
// snake_case keys. Only a type's own property names are converted; the keys of dictionaries
// (tensor names, file metadata, "1"/"2" thread counts) are data and pass through unchanged.
import Foundation

public enum JSONStyle {
    /// A key-sorted encoder with snake_case property names; `pretty` adds indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        enc.keyEncodingStrategy = .custom { path in
            let key = path[path.count - 1]
            guard isPropertyKey(key) else { return key }
            return SnakeKey(snakeCase(key.stringValue))
        }
        return enc
    }

    /// The decoder that reads what `encoder` writes.
    public static func decoder() -> JSONDecoder {
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        return dec
    }

    /// Synthesized (and hand-written) coding keys are enums named CodingKeys; dictionary keys are not.
    static func isPropertyKey(_ key: any CodingKey) -> Bool { String(describing: type(of: key)) == "CodingKeys" }

    /// "blasIsOpenBLAS" → "blas_is_open_blas", "p50Us" → "p50_us"; already-snake keys are unchanged.
    public static func snakeCase(_ s: String) -> String {
        let chars = Array(s)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase {
                let prevLower = i > 0 && (chars[i - 1].isLowercase || chars[i - 1].isNumber)
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                let prevUpper = i > 0 && chars[i - 1].isUppercase
                if i > 0 && (prevLower || (prevUpper && nextLower)) { out.append("_") }
                out.append(Character(c.lowercased()))
            } else {
                out.append(c)
            }
        }
        return out
    }

    struct SnakeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
}

/// A small JSON file beside another one (index sidecars): pretty, key-sorted, written atomically, read without
/// blocking on a FIFO.
public enum SidecarJSON {
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(path, chunks: [Array(try enc.encode(value)) + [10]])
    }

    /// nil when there is no file at `path`; `invalid` maps a decoding failure to the caller's error.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, invalid: (Error) -> Error) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(RegularFile.contents(path)))
        } catch {
            throw invalid(error)
        }
    }
}
