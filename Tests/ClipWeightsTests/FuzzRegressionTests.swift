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
        // Named by a check, or refused by the child that reads each file with libhdf5 first.
        #expect(e?.code == "hdf5.corrupt" || e?.code == "hdf5.unsafe", "\(e?.code ?? ""): \(e?.message ?? "")")
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

    /// `make fuzz` hdf5, 2026-12-07: an attribute whose float datatype has a 0-bit exponent; libhdf5 fails listing the
    /// attributes ("exponent size can't be zero") and H5Fclose then crashed in H5A__close (under ASan).
    @Test func attributeFloatWithoutExponentIsNamed() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/attribute-float-exponent-size-0.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("0-bit exponent") == true, "\(e?.message ?? "")")
    }

    /// `make fuzz` hdf5, 2026-12-07 (a 13-second timeout; `clipwb inspect` waited out its child's 60 s): a global
    /// heap collection with a reserved byte set, which the check used to skip, and objects libhdf5 loops over.
    @Test func globalHeapWithReservedByteIsWalked() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/global-heap-reserved-byte-set.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("global heap collection at byte 2048") == true, "\(e?.message ?? "")")
    }

    /// `make fuzz` hdf5, 2026-12-07 (run 3, H5A__close SIGSEGV): an attribute of datatype version 6 in a file whose
    /// superblock declares base address 65,280, which made the walk skip the whole file.
    @Test func attributeBehindAMutatedBaseAddressIsChecked() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/attribute-datatype-version-6-behind-a-base-address.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("datatype version 6") == true, "\(e?.message ?? "")")
    }

    /// `make fuzz` hdf5, 2026-12-07 (run 4, SIGSEGV in memcpy under H5Dread; `clipwb convert` was killed): a tensor's
    /// layout message turned from version 3 into 2, which libhdf5 then reads as a compact dataset of bogus size.
    @Test func layoutMessageOfVersion2IsRefused() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/layout-version-2-read-as-compact.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.code == "hdf5.corrupt" && e?.message.contains("data layout message of version 2") == true, "\(e?.message ?? "")")
    }

    /// make fuzz (hdf5 run 5): two datasets whose storage size was mutated away from their shape's, which
    /// libhdf5 1.10.8 does not check: /state_dict/visual/ln_post/bias ([64] of float32, 256 bytes) as a compact
    /// layout of 2 bytes, and /state_dict/visual/positional_embedding ([2, 64], 512 bytes) as 1,638,400
    /// contiguous bytes in a 303,080-byte file. libhdf5 sizes its buffer by the layout and copies the shape's
    /// bytes out of it: ASan's heap-buffer-overflow in H5VM_memcpyvv (H5Dread) read 256 bytes from a 2-byte
    /// block; without ASan, a read past a heap block. Newer libhdf5 refuses the file at open.
    @Test func storageSmallerThanItsShapeIsRefused() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/contiguous-storage-smaller-than-shape.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5Model(path: path).load() }
        #expect(e?.code == "hdf5.corrupt" && e?.message.contains("but its shape needs") == true, "\(e?.message ?? "")")
        let file = try HDF5File(path: path)
        for (name, how) in [("/state_dict/visual/positional_embedding", "stores 1638400 bytes (contiguous layout) but its shape needs 512"),
                            ("/state_dict/visual/ln_post/bias", "stores 2 bytes (compact layout) but its shape needs 256")] {
            let e = #expect(throws: WeightsError.self) { _ = try file.info(name) }
            #expect(e?.code == "hdf5.corrupt" && e?.message.contains(how) == true, "\(e?.message ?? "")")
        }
        // Negative control: the datasets around them in the same file pass the check and read as stored.
        #expect(try file.readFloats("/state_dict/visual/class_embedding").count == 64)
    }

    /// make fuzz (hdf5 run 6, 53,495 executions): the root's "format" string attribute (message at byte 968) holds a
    /// variable-length value whose global heap id names object 16,777,218 (0x01000002: index 2 with its high byte
    /// set) of the collection at byte 2048. libhdf5 1.10.8's H5HG_read only asserts that the index is in the
    /// collection's table (compiled out) and reads past it: SIGSEGV in H5HG_read under H5Aread. The CLI's metadata
    /// child already died on it (signal 11) and the parent refused the file; the library itself now refuses it.
    @Test func variableLengthValueNamingAnAbsentHeapObjectIsRefused() throws {
        let found = FuzzFixtures.root.appendingPathComponent("hdf5/vlen-attribute-object-index-not-in-heap.h5").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: found))
        let dir = Fixture.tempDir()
        func variant(_ index: UInt32) throws -> String {
            withUnsafeBytes(of: index.littleEndian) { bytes.replaceSubrange(1028..<1032, with: $0) }
            let path = dir + "/index-\(index).h5"
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        }
        for (path, index) in [(found, 16_777_218), (try variant(7), 7)] {
            let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
            #expect(e?.code == "hdf5.corrupt" && e?.message.contains("object \(index) of the global heap collection at byte 2048, which holds no such object") == true, "\(e?.message ?? "")")
        }
        // Negative control: with the index as it was (2), the file opens and the attribute reads.
        let file = try HDF5File(path: try variant(2))
        guard case .string? = try file.attributes(of: "/")["format"] else { Issue.record("no string attribute 'format'"); return }
    }

    /// make fuzz (hdf5 run 7, 47,659 executions): the attributes-only seed's "logit_scale" attribute message of
    /// version 4 (libhdf5 reads 1-3). Any attribute libhdf5 1.10.8 fails to decode takes its broken error path:
    /// under ASan, SIGSEGV in H5A__close inside H5Aiterate2 (it frees the half-built table), or later at H5Fclose.
    /// Checks of each such message (six so far) were not going to end it: every file is now read by libhdf5 in a
    /// forked child first (chdf5_probe: every object, every attribute, values not stored in one piece, close),
    /// and a child that crashes, hangs, outgrows its memory or fails to decode an attribute refuses the file.
    @Test func whatLibhdf5CannotReadSafelyIsContainedInAChild() throws {
        let found = FuzzFixtures.root.appendingPathComponent("hdf5/attribute-message-version-4.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: found) }
        // (Whether H5A__close then faults depends on what the freed memory holds: either verdict refuses it.)
        #expect(e?.code == "hdf5.unsafe" && (e?.message.contains("an attribute message could not be decoded") == true
                                            || e?.message.contains("it died with signal") == true), "\(e?.message ?? "")")
        // The child's other verdicts, on files the checks before it would refuse (called directly here):
        // a crash (libhdf5 1.10.8 memcpy's a version-2 compact layout into NULL), memory, time (a local heap
        // whose free list loops: libhdf5 allocates until stopped).
        let fixture = { (name: String) in FuzzFixtures.root.appendingPathComponent("hdf5/\(name)").path }
        for (name, limits, says) in [
            ("layout-version-2-read-as-compact.h5", (memoryMb: 1024, seconds: 30.0), "it died with signal 11"),
            ("local-heap-free-list-loop.h5", (memoryMb: 200, seconds: 60.0), "it used more than 200 MB"),
            ("local-heap-free-list-loop.h5", (memoryMb: 100_000, seconds: 0.5), "it ran longer than 0 s"),
        ] {
            let e = #expect(throws: WeightsError.self) { try HDF5File.contain(fixture(name), limits: limits) }
            #expect(e?.code == "hdf5.unsafe" && e?.message.contains(says) == true, "\(name): \(e?.message ?? "")")
        }
        // Negative control: the committed weights and reference files are read whole in the child and pass.
        let weights = FuzzFixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("weights/tiny")
        for name in ["clip-tiny.h5", "clip-tiny-reference.h5"] {
            try HDF5File.contain(weights.appendingPathComponent(name).path, limits: (memoryMb: 1024, seconds: 60))
        }
    }

    /// libhdf5 asks malloc for 0xC000000000000 bytes (more than x86-64's address space) for a mutated header and
    /// reports the NULL as an error at open; only ASan aborted on it (run.sh now lets it return NULL as glibc does).
    @Test func libhdf5sOwnHugeAllocationIsAnError() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/libhdf5-allocates-2-to-51-bytes.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("memory allocation failed") == true, "\(e?.message ?? "")")
    }

    /// The fuzzer's out-of-memory: /state_dict's local heap has a free block whose "next" offset is its own (120),
    /// and libhdf5 1.10.8 follows it allocating a 32-byte node per step (38 million before libFuzzer's 2.4 GB
    /// limit). Minimized from the input as found (also a fixture): every byte the loop does not need zeroed, the
    /// blocks after the 280 KB of zeros moved down and their addresses patched (12 KB).
    @Test func localHeapFreeListThatLoopsIsNamed() throws {
        for name in ["local-heap-free-list-loop.h5", "local-heap-free-list-loop-as-found.h5"] {
            let path = FuzzFixtures.root.appendingPathComponent("hdf5/\(name)").path
            let e = #expect(throws: WeightsError.self) { _ = try HDF5Model(path: path).load() }
            #expect(e?.code == "hdf5.corrupt")
            #expect(e?.message.contains("local heap at byte 1616") == true, "\(e?.message ?? "")")
            #expect(e?.message.contains("comes back to the free block at offset 120") == true, "\(e?.message ?? "")")
        }
    }

    /// The same loop made by hand in the root group's heap (the attributes-only fuzz seed with the byte at 720, the
    /// "next" offset of the heap's only free block, changed from 1 to 8): libhdf5 keeps that heap's data in the same
    /// cache entry as its header, a second path to the same loop. With a 512-byte user block in front (libhdf5
    /// then finds the superblock at 512 and counts addresses from there) it must be found as well; and a free
    /// block too close to the segment's end for its two lengths (libhdf5 would read past its copy) is refused.
    @Test func rootHeapFreeListThatLoopsIsNamedAlsoBehindAUserBlock() throws {
        let path = FuzzFixtures.root.appendingPathComponent("hdf5/root-heap-free-list-loop.h5").path
        let e = #expect(throws: WeightsError.self) { _ = try HDF5File(path: path) }
        #expect(e?.message.contains("local heap at byte 680 (where a group's link names are kept; data segment of 88 bytes at byte 712) comes back to the free block at offset 8 (byte 720) after 1 block") == true, "\(e?.message ?? "")")

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let behind = Fixture.tempDir() + "/user-block.h5"
        try (Data(count: 512) + bytes).write(to: URL(fileURLWithPath: behind))
        let u = #expect(throws: WeightsError.self) { _ = try HDF5File(path: behind) }
        #expect(u?.message.contains("local heap at byte 1192") == true, "\(u?.message ?? "")")
        #expect(u?.message.contains("comes back to the free block at offset 8 (byte 1232)") == true, "\(u?.message ?? "")")

        var late = bytes
        late[680 + 16] = 80  // the first free block at offset 80 of 88: its two 8-byte lengths end at 96
        let lateAt = Fixture.tempDir() + "/late-block.h5"
        try late.write(to: URL(fileURLWithPath: lateAt))
        let l = #expect(throws: WeightsError.self) { _ = try HDF5File(path: lateAt) }
        #expect(l?.message.contains("free block at offset 80 whose 16-byte header runs past the segment's end") == true, "\(l?.message ?? "")")
    }

    /// The check must pass every attribute a healthy file has (strings, ints, doubles, string arrays).
    @Test func healthyFilesPassTheObjectHeaderCheck() throws {
        let weights = FuzzFixtures.root.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("weights/tiny")
        for name in ["clip-tiny.h5", "clip-tiny-reference.h5"] {
            try ObjectHeaderCheck.check(try MappedFile(path: weights.appendingPathComponent(name).path))
            try LocalHeapCheck.check(try MappedFile(path: weights.appendingPathComponent(name).path))
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
