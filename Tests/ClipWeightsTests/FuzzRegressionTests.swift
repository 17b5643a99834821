// Inputs the libFuzzer targets (Fuzz/, `make fuzz`) found crashing, kept in Tests/Fixtures/fuzz/<target>/ and run
// through the same code path as the target: each must now be refused with a WeightsError, not crash.
import ClipCore
@testable import ClipWeights
import Foundation
import Testing

enum FuzzFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    static func files(_ target: String) -> [String] {
        let dir = root.appendingPathComponent(target).path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { "\(dir)/\($0)" }
    }
}

@Suite struct FuzzRegressionTests {
    @Test func everyTargetWithACrashHasItsFixtures() {
        #expect(!FuzzFixtures.files("hdf5").isEmpty)
    }

    /// Fuzz/FuzzHDF5.swift: HDF5Model(path:) then load().
    @Test(arguments: FuzzFixtures.files("hdf5"))
    func hdf5CrashInputIsRefused(_ path: String) throws {
        let e = #expect(throws: WeightsError.self) { _ = try HDF5Model(path: path).load() }
        #expect(e?.code == "hdf5.corrupt")
    }

    /// The attribute found by fuzzing: "labels" (2 variable-length strings) with its first dimension mutated to
    /// 0x13000000000002, so 16-byte values of that count cannot be in the 96-byte message.
    @Test func attributeWhoseValuesRunPastItsMessageIsNamed() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/attribute-dims-past-message.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("holds 5348024557502466 values of 16 bytes") == true, "\(e?.message ?? "")")
    }

    /// The root group's continuation message mutated to a block of 2^48 + 64 bytes at byte 0xC000000000000, which
    /// libhdf5 allocated before looking at the address (ASan: allocation-size-too-big in H5C_protect).
    @Test func continuationBlockOutsideTheFileIsNamed() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/continuation-of-2-to-48-bytes.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("names a block of 281474976710720 bytes at byte 3377699720527872") == true, "\(e?.message ?? "")")
    }

    /// The "source" string attribute's length mutated to 0xFFFF0009: libhdf5 filled 4 GB before finding the
    /// global heap object shorter (`clipwb inspect` reached 4.2 GB of resident memory; libFuzzer: out-of-memory).
    @Test func variableLengthValueLongerThanTheFileIsNamed() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/string-attribute-of-4-gb.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("variable-length value 0 of 4294901769 elements") == true, "\(e?.message ?? "")")
    }

    /// The "logit_scale" attribute's dataspace zeroed to version 0: libhdf5 fails to decode it, and its error
    /// path reaches the same H5A__close crash at H5Fclose.
    @Test func attributeLibhdf5CannotDecodeIsNamed() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/attribute-dataspace-version-0.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("dataspace version 0, which libhdf5 cannot decode") == true, "\(e?.message ?? "")")
    }

    /// libhdf5 asks malloc for 0xC000000000000 bytes (more than x86-64's address space) for a mutated header and
    /// reports the NULL as an error at open; only ASan aborted on it (run.sh now lets it return NULL as glibc does).
    @Test func libhdf5sOwnHugeAllocationIsAnError() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/libhdf5-allocates-2-to-51-bytes.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("memory allocation failed") == true, "\(e?.message ?? "")")
    }

    /// The check must pass every attribute a healthy file has (strings, ints, doubles, string arrays).
    @Test func healthyFilesPassTheObjectHeaderCheck() throws {
        let weights = FuzzFixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("weights/tiny")
        for name in ["clip-tiny.h5", "clip-tiny-reference.h5"] {
            try ObjectHeaderCheck.check(try MappedFile(path: weights.appendingPathComponent(name).path))
        }
        let path = Fixture.tempDir() + "/attributes.h5"
        do {  // closed at the end of the scope, before it is opened for reading
            let f = try HDF5File.create(path: path)
            try f.writeAttribute("labels", strings: ["a", "bc", "def"], on: "/")
            try f.writeAttribute("scales", doubles: [1, 2, 3, 4], on: "/")
            try f.writeAttribute("fixed", strings: ["x", "y"], fixedSize: 8, on: "/")
            try f.writeAttribute("n", 3, on: "/")
        }
        _ = try HDF5File(path: path).attributes(of: "/")
    }
}
