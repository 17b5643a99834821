"""Shared helpers for the interop tests: the clipwb binary (env CLIPWB, set by `make test`) and fixtures."""
import os
import pathlib
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


@pytest.fixture
def clipwb():
    return run_clipwb
