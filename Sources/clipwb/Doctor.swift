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
        let version: String, blasLibrary: String, blasIsOpenBLAS: Bool, blasConfig: String?
        let blasThreads: Int, cpus: Int, f16c: Bool, build: String
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
        return Report(version: ClipwbVersion.string, blasLibrary: resolved == linked ? linked : "\(resolved) (via \(linked))",
                      blasIsOpenBLAS: config != nil, blasConfig: config, blasThreads: Int(clipwb_blas_get_num_threads()),
                      cpus: ProcessInfo.processInfo.activeProcessorCount, f16c: ck_has_f16c() == 1, build: build)
    }

    func run() throws {
        let r = Doctor.report()
        if json { try printJSON(r); return }
        print("clipwb \(r.version) (\(r.build) build)")
        print("BLAS:    \(r.blasLibrary)")
        if let c = r.blasConfig { print("         OpenBLAS \(c), \(r.blasThreads) threads") }
        else { print("         not OpenBLAS: matrix products will be slow; install libopenblas-dev (update-alternatives picks it)") }
        print("CPU:     \(r.cpus) cores, F16C \(r.f16c ? "yes" : "no")")
    }
}
