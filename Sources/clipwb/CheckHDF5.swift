// Containment for libhdf5 (issue 12, item 9): before the process opens an HDF5 file, a child process
// (`clipwb check-hdf5`, hidden) reads the same metadata under a memory limit (RLIMIT_AS) and a time limit
// (SIGALRM). A file that makes libhdf5 crash, hang or allocate without bound kills only the child, and the
// parent refuses it with a clear error. The parent's own read then runs on a file libhdf5 has read once.
import ArgumentParser
import ClipCore
import ClipWeights
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct CheckHDF5: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-hdf5", abstract: "Read an HDF5 file's metadata under a memory budget (internal).",
        shouldDisplay: false)

    @Argument var file: String
    @Option var memoryMb: Int = 2048
    @Option var seconds: UInt32 = 60

    func run() throws {
        var r = rlimit(rlim_cur: rlim_t(memoryMb) << 20, rlim_max: rlim_t(memoryMb) << 20)
        setrlimit(Int32(RLIMIT_AS.rawValue), &r)
        alarm(seconds)
        HDF5File.preflight = nil
        do {
            let h = try HDF5Model(path: file)
            _ = (h.weights.store.stored.count, h.naming, h.spec)
        } catch let e as ClipwbError {
            // A clean refusal is the parent's to report; the child only says the read was safe.
            FileHandle.standardError.write(Data(e.message.utf8))
        }
        // Safe means libhdf5 stayed far from the budget. A file that makes it allocate until the limit stops it
        // can end in a clean error here (the allocation fails) yet run the parent, which has no limit, out of
        // memory: more than half the metadata budget counts as unsafe.
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        var st = stat()
        let fileMb = stat(file, &st) == 0 ? Int(st.st_size >> 20) : 0
        let usedMb = Int(usage.ru_maxrss) / 1024 - fileMb
        if usedMb > (memoryMb - fileMb) / 2 {
            FileHandle.standardError.write(Data("libhdf5 used \(usedMb) MB reading the metadata".utf8))
            throw ExitCode(3)
        }
    }
}

enum HDF5Containment {
    /// Memory for the child: 2 GB for libhdf5's metadata, plus the file itself (the checks map it).
    static func budgetMb(_ path: String) -> Int {
        var st = stat()
        return 2048 + (stat(path, &st) == 0 ? Int(st.st_size) >> 20 : 0)
    }

    /// Files already read safely in a child (by device, inode, size and change time), so a command that
    /// opens one file several times pays for one child.
    nonisolated(unsafe) static var checked = Set<String>()
    static let lock = NSLockLike()

    static func identity(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec)"
    }

    static func check(_ path: String) throws {
        let id = identity(path)
        if let id, lock.locked({ checked.contains(id) }) { return }
        try spawnCheck(path)
        if let id { lock.locked { _ = checked.insert(id) } }
    }

    static func spawnCheck(_ path: String) throws {
        let memoryMb = budgetMb(path)
        let exe = "/proc/self/exe"
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let args = ["clipwb", "check-hdf5", path, "--memory-mb", String(memoryMb)]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var env = ProcessInfo.processInfo.environment
        env["CLIPWB_HDF5_CHILD"] = "1"
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        guard posix_spawn(&pid, exe, &actions, nil, &argv, &envp) == 0 else { return }  // cannot contain: read as before
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signaled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        let code = (status >> 8) & 0xff
        guard signaled || code != 0 else { return }
        let why = signaled ? "it died with signal \(status & 0x7f)" : "it exited with status \(code)"
        throw WeightsError("hdf5.unsafe",
            "'\(path)' is a damaged HDF5 file: reading its metadata with libhdf5 in a child process limited to \(memoryMb) MB failed (\(why)); re-export or re-copy it")
    }
}
