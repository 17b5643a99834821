"""The search page in a real browser: headless Chromium (Debian's `chromium`) driven over the DevTools
protocol (--remote-debugging-pipe, standard library only) against a live `clipwb serve` on a catalog
ingested by `clipwb ingest` from the committed samples with the committed tiny model. The test types a
text search, pages, uploads an image through the page's file input, and checks the rendered grid in the
DOM. Screenshots (laptop and phone widths) are kept in artifacts/ (git-ignored)."""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import served

ROOT = Path(__file__).resolve().parents[2]
CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
WEIGHTS = ROOT / "weights/tiny/clip-tiny.h5"
SAMPLES = ROOT / "samples/abo"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """Chromium over a DevTools pipe: fd 3 carries commands in, fd 4 messages out, NUL-terminated JSON."""

    def __init__(self, profile):
        self.cmd_r, self.cmd_w = os.pipe()
        self.out_r, self.out_w = os.pipe()
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1280,900"]
        def remap():  # in the child: the pipe ends become fds 3 and 4 (moved high first so neither clobbers the other)
            r, w = fcntl.fcntl(self.cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(self.out_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(args, preexec_fn=remap, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self.cmd_r)
        os.close(self.out_w)
        self.next_id = 0
        self.buffer = b""
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def _read(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.time()
            if remaining <= 0 or not select.select([self.out_r], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer over the DevTools pipe in time")
            chunk = os.read(self.out_r, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        msg, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for_load(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == "Page.loadEventFired":
                    del self.events[: i + 1]
                    return
            self.events.append(self._read(deadline))

    def js(self, expression):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def act_and_wait(self, expression):
        self.events.clear()
        self.js(expression)
        self.wait_for_load()

    def goto(self, url):
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for_load()

    def screenshot(self, path, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)
        self.js("new Promise(r => setTimeout(r, 300))")
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert Path(CLIPWB).exists(), f"build clipwb first (CLIPWB={CLIPWB})"
    assert CHROMIUM, "Debian's chromium is needed for the browser test: apt-get install chromium"
    images = tmp_path_factory.mktemp("images")
    for f in sorted(SAMPLES.glob("*.jpg"))[:48]:
        shutil.copy(f, images / f.name)
    catalog = tmp_path_factory.mktemp("catalog")
    subprocess.run([CLIPWB, "ingest", str(images), "--weights", str(WEIGHTS), "--catalog", str(catalog)],
                   check=True, capture_output=True, timeout=300)
    with served(catalog, binary=CLIPWB) as (url, _):
        yield {"url": url, "images": images}


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def grid(browser):
    return browser.js("""({
        results: document.querySelectorAll('#results li.result').length,
        scores: [...document.querySelectorAll('#results .score')].map(e => parseFloat(e.textContent)),
        similar: document.querySelectorAll('#results a.similar').length,
        next: document.querySelector('a[rel=next]') ? document.querySelector('a[rel=next]').getAttribute('href') : null,
        current: document.querySelector('.pager .current') ? document.querySelector('.pager .current').textContent : null,
        heading: document.querySelector('h1') ? document.querySelector('h1').textContent : null,
        firstId: document.querySelector('#results li.result') ? document.querySelector('#results li.result').dataset.id : null,
    })""")


def test_text_search_pages_and_screenshot(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    browser.goto(server["url"])
    assert grid(browser)["results"] == 16  # the browse view
    browser.act_and_wait("""document.querySelector('input[name=q]').value = 'a red shoe';
                            document.querySelector('form.search').submit()""")
    g = grid(browser)
    assert g["heading"] == "Images matching “a red shoe”"
    assert g["results"] == 16 and g["similar"] == 16
    # Every thumbnail is served by /images/{id} and decodes (forced eager here: they load lazily).
    loaded = browser.js("""Promise.all([...document.querySelectorAll('#results img')].map(i => {
        i.loading = 'eager';
        return i.complete ? i : new Promise(r => { i.onload = i.onerror = () => r(i); });
    })).then(all => all.filter(i => i.naturalWidth > 0).length)""")
    assert loaded == 16
    assert len(g["scores"]) == 16 and g["scores"] == sorted(g["scores"], reverse=True)
    assert g["current"] == "1" and g["next"] == "/?q=a%20red%20shoe&page=2"
    browser.screenshot(ARTIFACTS / "search-page-laptop.png", 1280, 900)
    browser.screenshot(ARTIFACTS / "search-page-phone.png", 390, 844, mobile=True)
    browser.call("Emulation.clearDeviceMetricsOverride", session=True)
    browser.act_and_wait("document.querySelector('a[rel=next]').click()")
    g2 = grid(browser)
    assert g2["current"] == "2" and g2["results"] == 16
    browser.act_and_wait("document.querySelector('a[rel=next]').click()")
    g3 = grid(browser)
    assert g3["current"] == "3" and g3["results"] == 16 and g3["next"] is None  # 48 images = 3 pages
    assert (ARTIFACTS / "search-page-laptop.png").stat().st_size > 10_000


def test_upload_through_the_file_input(server, browser):
    browser.goto(server["url"])
    target = sorted(server["images"].glob("*.jpg"))[5]
    root = browser.call("DOM.getDocument", session=True)["root"]["nodeId"]
    node = browser.call("DOM.querySelector", session=True, nodeId=root, selector="form.upload input[type=file]")["nodeId"]
    browser.events.clear()
    browser.call("DOM.setFileInputFiles", session=True, nodeId=node, files=[str(target)])
    try:  # choosing a file submits the form (its onchange); the Upload button is the fallback
        browser.wait_for_load(timeout=10)
    except TimeoutError:
        browser.act_and_wait("document.querySelector('form.upload button').click()")
    g = grid(browser)
    assert g["heading"] == "Images similar to your upload"
    assert g["results"] == 16 and g["firstId"] == "5"  # the uploaded photo is in the catalog as id 5
    assert abs(g["scores"][0] - 1.0) < 1e-3
    assert g["next"] and g["next"].startswith("/upload/")
    browser.screenshot(ARTIFACTS / "upload-results.png", 1280, 900)
    browser.call("Emulation.clearDeviceMetricsOverride", session=True)
    browser.act_and_wait("document.querySelector('#results a.similar').click()")
    assert grid(browser)["heading"].startswith("Images similar to #")


def test_error_page_in_the_browser(server, browser):
    browser.goto(server["url"] + "?q=" + "x" * 1001)
    text = browser.js("document.querySelector('[role=alert]').textContent")
    assert "at most 1000" in text
