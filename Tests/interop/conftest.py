"""Shared helpers for the interop tests: the clipwb binary (env CLIPWB, set by `make test`) and fixtures."""
import contextlib
import os
import pathlib
import re
import signal
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "weights" / "tiny" / "clip-tiny.h5"
TINY_REF = ROOT / "weights" / "tiny" / "clip-tiny-reference.h5"
SAMPLES = ROOT / "samples" / "abo"


def clipwb_path() -> str:
    path = os.environ.get("CLIPWB", str(ROOT / ".build" / "debug" / "clipwb"))
    if not os.path.exists(path):
        pytest.fail(f"clipwb binary not found at {path}: build it (make test does) or set CLIPWB")
    return path


def run_clipwb(*args, check=True, **kw):
    """Runs clipwb; with check, a non-zero exit fails the test showing stderr."""
    p = subprocess.run([clipwb_path(), *map(str, args)], capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        pytest.fail(f"clipwb {' '.join(map(str, args))} exited {p.returncode}:\n{p.stderr}")
    return p


def sample_images(folder, n):
    """The first n committed sample photos (by name) copied into a new folder; returns it."""
    import shutil
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True)
    for f in sorted(SAMPLES.glob("*.jpg"))[:n]:
        shutil.copy(f, folder / f.name)
    return folder


@contextlib.contextmanager
def served(catalog, *args, binary=None):
    """`clipwb serve --catalog CATALOG --port 0 ARGS…` for the length of the block: yields (base URL ending in "/",
    the process); the server is stopped with SIGINT (killed if it does not stop in 20 s) when the block ends."""
    proc = subprocess.Popen([binary or clipwb_path(), "serve", "--catalog", str(catalog), "--port", "0", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert m, f"serve did not print its URL: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        yield m.group(0), proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def clipwb():
    return run_clipwb
