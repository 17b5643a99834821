// Whether the reference was computed from these weights: the reference's `weights_sha256` (the sha256 of the
// clip-hdf5 file the exporter wrote) against the weights' own, which is that file's sha256 or, for a clipwb file,
// the `source_sha256` it records. Folders and plain safetensors files are other bytes than the HDF5 export, so
// for them the check says it cannot tell rather than reporting a false mismatch.
import ClipCore
import ClipWeights

public struct Provenance: Encodable, Sendable {
    public let weights_source: String
    public let reference_weights_source: String?
    public let weights_sha256: String?
    public let reference_weights_sha256: String?
    /// true: same weights; false: other weights; nil: the reference records no sha, or the two are not comparable.
    public let matches: Bool?
    public let message: String?

    public static func check(weights: WeightSource, reference: ReferenceFile) throws -> Provenance {
        let theirs = reference.weightsSha256
        var ours: String?
        switch weights.kind {
        case .clipHDF5:
            if theirs != nil { ours = try SHA256.hexDigest(ofFile: weights.weightsFile) }
        case .clipwb:
            // A clipwb file converted from clip-hdf5 records that file's sha (version 1 files: always from HDF5).
            if weights.metadata["source_kind"] ?? "clip-hdf5" == "clip-hdf5" { ours = weights.metadata["source_sha256"] }
        default:
            break
        }
        let source = "\(weights.source)"
        guard let theirs else {
            return Provenance(weights_source: source, reference_weights_source: reference.weightsSource, weights_sha256: ours,
                              reference_weights_sha256: nil, matches: nil, message: "the reference records no weights_sha256: provenance not checked")
        }
        guard let ours else {
            return Provenance(weights_source: source, reference_weights_source: reference.weightsSource, weights_sha256: nil,
                              reference_weights_sha256: theirs, matches: nil,
                              message: "the reference records the sha256 of its clip-hdf5 export; these weights are a \(weights.kind.rawValue) source, so the two cannot be compared")
        }
        let same = ours.lowercased() == theirs.lowercased()
        return Provenance(
            weights_source: source, reference_weights_source: reference.weightsSource, weights_sha256: ours, reference_weights_sha256: theirs,
            matches: same,
            message: same ? nil : "this reference was computed from other weights: it records sha256 \(theirs.prefix(16))… (source '\(reference.weightsSource ?? "?")'), these weights are \(ours.prefix(16))… (source '\(source)')")
    }
}
