// The HTML page: one server-rendered document with inline CSS and no external assets (it works
// offline). A search box, an image upload, a grid of results with score and a "similar" link,
// pagination, and plain-spoken empty and error states. Laid out for laptop and phone widths.
import ClipSearch
import Foundation

struct PageModel {
    var query = ""
    var page = 1
    var heading: String?
    /// Shown beside the heading for image → image searches.
    var queryImage: String?
    /// The query image's file is not on disk (placeholder instead).
    var queryImageAbsent = false
    var hits: [SearchHit] = []
    var hasMore = false
    var link: (Int) -> String = { "/?page=\($0)" }
    var error: ApiError?
}

struct PageRenderer: Sendable {
    let service: SearchService

    func render(_ m: PageModel) -> String {
        var body = header(m.query)
        if let e = m.error {
            body += """
            <section class="notice error" role="alert"><h2>\(e.status.code) — something went wrong</h2>
            <p>\(esc(e.message))</p><p class="code">\(esc(e.code))</p><p><a href="/">Back to the collection</a></p></section>
            """
        } else {
            body += resultsSection(m)
        }
        body += footer()
        return document(title: m.query.isEmpty ? "clipwb image search" : "\(m.query) — clipwb image search", body: body)
    }

    func header(_ q: String) -> String {
        """
        <header><a class="brand" href="/">clip<b>wb</b></a>
        <form class="search" action="/" method="get" role="search">
          <input type="search" name="q" value="\(esc(q))" maxlength="\(SearchLimits.maxQueryCharacters)" placeholder="Describe an image, e.g. a red shoe" aria-label="Search text" autofocus>
          <button type="submit">Search</button>
        </form>
        <form class="upload" action="/search/image" method="post" enctype="multipart/form-data">
          <label class="file">Find similar to a photo<input type="file" name="image" accept="image/jpeg,image/png,image/gif,image/bmp,image/tiff,image/webp,image/x-portable-anymap" onchange="this.form.submit()"></label>
          <button type="submit" class="secondary">Upload</button>
        </form></header>
        """
    }

    func resultsSection(_ m: PageModel) -> String {
        var s = "<main>"
        if let h = m.heading {
            s += "<div class=\"heading\">"
            if let qi = m.queryImage {
                s += m.queryImageAbsent ? "<span class=\"query missing\" role=\"img\" aria-label=\"query image (no file)\">no file</span>"
                                        : "<img class=\"query\" src=\"\(qi)\" alt=\"query image\">"
            }
            s += "<h1>\(esc(h))</h1><span class=\"page-no\">page \(m.page)</span></div>"
        }
        if m.hits.isEmpty {
            let msg = service.count == 0
                ? "The catalog is empty. Add images with <code>clipwb ingest FOLDER --catalog …</code> and reload."
                : m.page > 1 ? "There are no more results on page \(m.page). <a href=\"\(m.link(1))\">Back to page 1</a>."
                : "Nothing matched. Try other words or another photo."
            return s + "<section class=\"notice\" id=\"empty\"><p>\(msg)</p></section></main>"
        }
        s += "<ol class=\"grid\" id=\"results\" start=\"\((m.page - 1) * 16 + 1)\">"
        let absent = absentFiles(m.hits.map(\.id))
        for h in m.hits {
            let thumb = absent.contains(h.id)
                ? "<div class=\"thumb missing\" role=\"img\" aria-label=\"no image file for \(esc(h.path))\"><span>no image file</span></div>"
                : "<a class=\"thumb\" href=\"/images/\(h.id)\"><img src=\"/images/\(h.id)\" loading=\"lazy\" alt=\"\(esc(h.path))\" width=\"\(h.width)\" height=\"\(h.height)\"></a>"
            let score = h.score.isNaN ? "" : "<span class=\"score\" title=\"cosine similarity\">\(String(format: "%.3f", h.score))</span>"
            s += """
            <li class="result" data-id="\(h.id)">\(thumb)
            <div class="meta">\(score)<a class="similar" href="/similar/\(h.id)">similar</a></div><div class="name" title="\(esc(h.path))">#\(h.id) · \(esc(h.path))</div></li>
            """
        }
        s += "</ol>" + pagination(m) + "</main>"
        return s
    }

    /// The ids among `ids` whose image file is not a regular file on disk — rows ingested from embeddings
    /// alone (synthetic names, photos stored elsewhere) or a file removed since: the page shows a
    /// placeholder there, not a broken image.
    func absentFiles(_ ids: [Int]) -> Set<Int> {
        guard let recs = try? service.catalog.images(ids: ids) else { return [] }
        return Set(ids.filter { id in
            guard let r = recs[id] else { return true }
            let attrs = try? FileManager.default.attributesOfItem(atPath: service.catalog.filePath(of: r))
            return attrs?[.type] as? FileAttributeType != .typeRegular
        })
    }

    func pagination(_ m: PageModel) -> String {
        guard m.page > 1 || m.hasMore else { return "" }
        var s = "<nav class=\"pager\" aria-label=\"pages\">"
        s += m.page > 1 ? "<a rel=\"prev\" href=\"\(m.link(m.page - 1))\">← Previous</a>" : "<span class=\"off\">← Previous</span>"
        let lo = max(1, m.page - 3), hi = m.hasMore ? m.page + 1 : m.page
        for p in lo...hi {
            s += p == m.page ? "<span class=\"current\" aria-current=\"page\">\(p)</span>" : "<a href=\"\(m.link(p))\">\(p)</a>"
        }
        s += m.hasMore ? "<a rel=\"next\" href=\"\(m.link(m.page + 1))\">Next →</a>" : "<span class=\"off\">Next →</span>"
        return s + "</nav>"
    }

    func footer() -> String {
        """
        <footer>\(service.count) images · \(service.indexedCount) indexed · model \(esc(service.embedder.modelName)) (\(service.embedder.dimension)-d) · Annoy index, \(service.parameters.trees) trees\(service.isRebuilding ? " · rebuilding…" : "")<br>
        Scores are cosine similarities. With randomly initialised weights the ranking is meaningless; export real CLIP weights for real search.</footer>
        """
    }

    func document(title: String, body: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(esc(title))</title><style>\(Self.css)</style></head><body>\(body)</body></html>
        """
    }

    static let css = """
    :root{--bg:#f6f5f2;--card:#fff;--ink:#1d1f23;--muted:#6b7078;--line:#e2e0da;--accent:#2f6fdf;--accent-ink:#fff;--bad:#b3261e}
    *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
    header{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:10px 16px;align-items:center;padding:12px 24px;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line)}
    .brand{font-size:22px;font-weight:600;letter-spacing:-.5px;color:var(--ink);text-decoration:none}.brand b{color:var(--accent)}
    form{display:flex;gap:8px;margin:0}.search{flex:1 1 380px}
    input[type=search]{flex:1;min-width:0;padding:10px 14px;font:inherit;border:1px solid var(--line);border-radius:10px;background:#fff}
    input[type=search]:focus{outline:2px solid var(--accent);border-color:transparent}
    button{padding:10px 18px;font:inherit;font-weight:600;border:0;border-radius:10px;background:var(--accent);color:var(--accent-ink);cursor:pointer}
    button.secondary{background:#e8eefb;color:var(--accent)}
    .file{display:inline-flex;align-items:center;padding:10px 14px;border:1px dashed #b8c4dc;border-radius:10px;color:var(--muted);cursor:pointer;white-space:nowrap}
    .file input{width:0;height:0;opacity:0;position:absolute}
    main{max-width:1240px;margin:0 auto;padding:20px 24px 8px}
    .heading{display:flex;align-items:center;gap:14px;margin:4px 0 16px}.heading h1{flex:1;margin:0;font-size:20px;font-weight:600;overflow-wrap:anywhere}
    .heading img.query{width:56px;height:56px;object-fit:cover;border-radius:8px;border:1px solid var(--line)}
    .page-no{color:var(--muted);font-size:13px}
    .grid{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px}
    .result{background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden;display:flex;flex-direction:column;transition:box-shadow .15s}
    .result:hover{box-shadow:0 6px 20px rgba(0,0,0,.08)}
    .thumb{display:block;position:relative;aspect-ratio:1;overflow:hidden;background:#fff;border-bottom:1px solid #f0eee9}.thumb img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;padding:8px}
    .thumb.missing{display:flex;align-items:center;justify-content:center;background:repeating-linear-gradient(45deg,#f4f3ef,#f4f3ef 10px,#eceae4 10px,#eceae4 20px);color:var(--muted);font-size:13px}
    .heading .query.missing{display:inline-flex;align-items:center;justify-content:center;width:56px;height:56px;border-radius:8px;border:1px dashed var(--line);color:var(--muted);font-size:11px}
    .meta{display:flex;justify-content:space-between;align-items:center;padding:8px 10px 0}
    .score{font:600 13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef3ea;color:#2d6a1f;padding:2px 8px;border-radius:999px}
    .similar{font-size:13px;font-weight:600;color:var(--accent);text-decoration:none;margin-left:auto}.similar:hover{text-decoration:underline}
    .name{padding:2px 10px 10px;font-size:12px;color:var(--muted);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    .pager{display:flex;flex-wrap:wrap;justify-content:center;gap:6px;margin:24px 0 8px}
    .pager a,.pager span{min-width:40px;text-align:center;padding:8px 12px;border-radius:8px;border:1px solid var(--line);background:#fff;color:var(--ink);text-decoration:none}
    .pager .current{background:var(--accent);border-color:var(--accent);color:#fff;font-weight:600}.pager .off{color:#b5b8bd}
    .notice{max-width:640px;margin:48px auto;padding:24px 28px;background:#fff;border:1px solid var(--line);border-radius:12px;text-align:center;color:var(--muted)}
    .notice.error{border-color:#f0c4c0;background:#fff7f6;color:var(--ink);text-align:left}.notice.error h2{margin:0 0 8px;color:var(--bad);font-size:18px}
    .code{font:12px ui-monospace,monospace;color:var(--muted)}
    footer{max-width:1240px;margin:0 auto;padding:16px 24px 32px;color:var(--muted);font-size:12px;text-align:center}
    @media (max-width:600px){header{position:static;padding:10px 12px}.search{flex-basis:100%}.upload{flex-basis:100%}.upload .file{flex:1;justify-content:center}
    main{padding:14px 12px}.grid{grid-template-columns:repeat(2,1fr);gap:10px}.heading h1{font-size:17px}}
    """
}

/// HTML-escapes text for element content and quoted attributes.
func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}
