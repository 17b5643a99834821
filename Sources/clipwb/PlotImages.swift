// PNG copies of the eval's SVG plots, made by a renderer Debian ships: rsvg-convert (librsvg2-bin), else headless
// Chromium's screenshot (the browser test's Chromium). Neither present: the SVGs stand alone and a note says so.
import Foundation

enum PlotImages {
    /// Renders each SVG (names relative to `dir`) to a PNG beside it; returns the PNG names written.
    static func renderPNGs(_ svgs: [String], in dir: String) -> [String] {
        guard !svgs.isEmpty else { return [] }
        let rsvg = which("rsvg-convert"), chromium = which("chromium") ?? which("chromium-browser")
        guard rsvg != nil || chromium != nil else {
            stderrLine("note: no PNG plots: neither rsvg-convert (apt-get install librsvg2-bin) nor chromium is installed; the SVGs are complete")
            return []
        }
        var written: [String] = []
        for svg in svgs {
            let png = String(svg.dropLast(4)) + ".png"
            let (src, dst) = (dir + "/" + svg, dir + "/" + png)
            let ok: Bool
            if let rsvg {
                ok = run(rsvg, ["--background-color", "white", "-o", dst, src])
            } else {
                // The SVG's own size is its viewport (1000 × 640).
                ok = run(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,640",
                                     "--screenshot=" + URL(fileURLWithPath: dst).standardizedFileURL.path,
                                     URL(fileURLWithPath: src).standardizedFileURL.absoluteString])
            }
            if ok && FileManager.default.fileExists(atPath: dst) { written.append(png) } else {
                stderrLine("note: could not render \(svg) as PNG with \(rsvg ?? chromium!); the SVG is complete")
            }
        }
        return written
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}
