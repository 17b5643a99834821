// OpenBLAS picks its kernels once, when the library loads (before main). A DYNAMIC_ARCH build that does not
// know the CPU (Debian's 0.3.21 on recent Xeons) falls back to "Prescott": SSE3 kernels, several times slower
// than the AVX-512 ones the CPU runs. When nobody pinned a core type, clipwb starts itself again once with
// OPENBLAS_CORETYPE=SkylakeX on such a CPU; `doctor` says so. CLIPWB_BLAS_AUTO=0 turns this off, and an
// OPENBLAS_CORETYPE that is set (even to a slower family) is always left as it is.
import CBLAS
import Foundation

enum BLASKernels {
    /// Set in the environment of the second start: the core type clipwb chose.
    static let chosenVariable = "CLIPWB_BLAS_CHOSEN"
    /// AVX-512 subsets OpenBLAS's SkylakeX kernels use.
    static let skylakeXFlags = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    static func cpuFlags() -> Set<Substring> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }

    /// The core type to start again with, or nil to keep the kernels OpenBLAS chose.
    static func upgrade(environment env: [String: String], corename: String?, flags: Set<Substring>) -> String? {
        guard env["OPENBLAS_CORETYPE"] == nil, env[chosenVariable] == nil, env["CLIPWB_BLAS_AUTO"] != "0",
              corename?.lowercased() == "prescott", skylakeXFlags.allSatisfy({ flags.contains(Substring($0)) }) else { return nil }
        return "SkylakeX"
    }

    static func upgradeIfFallback() {
        let env = ProcessInfo.processInfo.environment
        guard let core = upgrade(environment: env, corename: clipwb_blas_corename().map { String(cString: $0) }, flags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(chosenVariable, core, 1)
        let args = CommandLine.unsafeArgv
        execv("/proc/self/exe", args)
        // exec failed: carry on with the kernels we have.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
