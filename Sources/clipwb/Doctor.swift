// `clipwb doctor`: what this process links and will use (BLAS library and threads, F16C), so a slow run
// can be traced to a reference BLAS at a glance.
import ArgumentParser
import CBLAS
import CKernels
import Foundation

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the libraries and CPU features clipwb uses on this machine.")

    @Flag(help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        let version: String, blasLibrary: String, blasIsOpenblas: Bool, blasConfig: String?
        let blasThreads: Int, cpus: Int, f16c: Bool, build: String
        /// The kernels OpenBLAS runs, what OPENBLAS_CORETYPE pins (if set), whether the CPU has AVX-512.
        let blasCore: String?, pinnedCoreType: String?, cpuAvx512: Bool
        /// Set when a pinned core type leaves speed on the table.
        let advice: String?
    }

    /// OpenBLAS kernel families written for AVX2 or older, slower than the AVX-512 ones on a CPU that has it.
    static let pre512Cores: Set<String> = ["haswell", "zen", "sandybridge", "nehalem", "core2", "prescott", "atom", "barcelona",
                                           "bulldozer", "piledriver", "steamroller", "excavator", "penryn", "dunnington"]

    static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        return flags.split(separator: " ").contains("avx512f")
    }

    static func report() -> Report {
        let config = clipwb_blas_config().map { String(cString: $0) }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        // dladdr names the alternatives link (libblas.so.3); resolve it to the implementation's file.
        let linked = String(cString: clipwb_blas_library_path())
        let resolved = URL(fileURLWithPath: linked).resolvingSymlinksInPath().path
        let core = clipwb_blas_corename().map { String(cString: $0) }
        let env = ProcessInfo.processInfo.environment
        let chosen = env[BLASKernels.chosenVariable]
        let pinned = chosen == nil ? env["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 } : nil
        let avx512 = cpuHasAVX512()
        var advice: String?
        if let chosen {
            advice = "OpenBLAS did not recognise this CPU and picked Prescott (SSE3) kernels; clipwb restarted itself with "
                + "OPENBLAS_CORETYPE=\(chosen) (CLIPWB_BLAS_AUTO=0 keeps OpenBLAS's choice)"
        } else if pinned == nil, avx512, let core, pre512Cores.contains(core.lowercased()) {
            advice = "OpenBLAS runs \(core) kernels on a CPU with AVX-512: sgemm runs well below what the CPU allows; "
                + "set OPENBLAS_CORETYPE=SkylakeX"
        } else if let pinned, avx512, pre512Cores.contains(pinned.lowercased()) {
            advice = "OPENBLAS_CORETYPE=\(pinned) pins AVX2-era kernels on a CPU with AVX-512: sgemm can run at about half "
                + "the speed the CPU allows; unset OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for timing runs"
        }
        return Report(version: ClipwbVersion.string, blasLibrary: resolved == linked ? linked : "\(resolved) (via \(linked))",
                      blasIsOpenblas: config != nil, blasConfig: config, blasThreads: Int(clipwb_blas_get_num_threads()),
                      cpus: ProcessInfo.processInfo.activeProcessorCount, f16c: ck_has_f16c() == 1, build: build,
                      blasCore: core, pinnedCoreType: pinned, cpuAvx512: avx512, advice: advice)
    }

    func run() throws {
        let r = Doctor.report()
        if json { try printJSON(r); return }
        print("clipwb \(r.version) (\(r.build) build)")
        print("BLAS:    \(r.blasLibrary)")
        if let c = r.blasConfig {
            // openblas_get_config() already starts with "OpenBLAS <version>".
            print("         \(c.hasPrefix("OpenBLAS") ? c : "OpenBLAS " + c), \(r.blasThreads) threads, kernels \(r.blasCore ?? "unknown")"
                  + (r.pinnedCoreType.map { " (pinned by OPENBLAS_CORETYPE=\($0))" } ?? "")
                  + (ProcessInfo.processInfo.environment[BLASKernels.chosenVariable].map { " (chosen by clipwb: \($0))" } ?? ""))
        } else {
            print("         not OpenBLAS: matrix products will be slow; install libopenblas-dev (update-alternatives picks it)")
        }
        print("CPU:     \(r.cpus) cores, F16C \(r.f16c ? "yes" : "no"), AVX-512 \(r.cpuAvx512 ? "yes" : "no")")
        if let a = r.advice { print("note:    \(a)") }
    }
}
