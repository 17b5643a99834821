"""Crafted inputs against the CLI: decompression bombs, environment mistakes, usage errors."""
import io
import os
import subprocess

import numpy as np
import pytest
from PIL import Image

from conftest import clipwb_path, SAMPLES


def progressive_with_repeated_scans(extra: int) -> bytes:
    """A small progressive JPEG whose last scan is repeated `extra` more times before EOI: libjpeg
    accepts the repeats (a warning) and pays a full pass for each."""
    rng = np.random.default_rng(7)
    im = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    buf = io.BytesIO()
    im.save(buf, "JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    last_sos = data.rindex(b"\xff\xda")
    eoi = data.rindex(b"\xff\xd9")
    scan = data[last_sos:eoi]
    return data[:eoi] + scan * extra + data[eoi:]


def preprocess(tmp_path, payload: bytes):
    p = tmp_path / "in.jpg"
    p.write_bytes(payload)
    return subprocess.run([clipwb_path(), "preprocess", str(p), "--out", str(tmp_path / "o.npy")],
                          capture_output=True, text=True, timeout=60)


def test_jpeg_with_too_many_scans_is_refused(tmp_path):
    bomb = preprocess(tmp_path, progressive_with_repeated_scans(400))
    assert bomb.returncode == 2, bomb.stderr
    assert "more than 200 scans" in bomb.stderr
    # Negative control: a few repeats stay under the limit and decode.
    ok = preprocess(tmp_path, progressive_with_repeated_scans(20))
    assert ok.returncode == 0, ok.stderr


def test_short_token_from_the_environment_is_refused(tmp_path):
    env = dict(os.environ, CLIPWB_TOKEN="x")
    r = subprocess.run([clipwb_path(), "serve", "--catalog", str(tmp_path / "none"), "--port", "0"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "CLIPWB_TOKEN must be at least 8 characters" in r.stderr


@pytest.mark.parametrize("args", [
    ["no-such-command"], ["index", "build"], ["embed", "--no-such-flag"], ["serve", "--port", "70000", "--catalog", "x"],
    ["tokenize", "--context-length", "ten", "hi"],
])
def test_usage_errors_exit_2(args):
    r = subprocess.run([clipwb_path(), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, f"{args}: exit {r.returncode}\n{r.stderr}"
    assert r.stderr.strip(), args


def test_help_exits_0():
    r = subprocess.run([clipwb_path(), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    assert "USAGE" in r.stdout


def _keys(obj, skip=("metadata",)):
    """Every property name in a JSON document (dictionaries named in `skip` hold data, not names)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            if k not in skip:
                yield from _keys(v, skip)
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v, skip)


@pytest.mark.parametrize("args", [["doctor", "--json"], ["inspect", "--json", "weights/tiny/clip-tiny.h5"],
                                  ["tokenize", "--json", "a photo of a cat"]])
def test_json_output_is_snake_case(args):
    import json
    import re
    from conftest import ROOT
    r = subprocess.run([clipwb_path(), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    bad = [k for k in _keys(json.loads(r.stdout)) if not re.fullmatch(r"[a-z0-9_.]+", k)]
    assert not bad, f"{args}: keys not snake_case: {bad}"


def test_doctor_names_a_pinned_core_type_that_is_slower_than_the_cpu():
    import json
    has512 = "avx512f" in open("/proc/cpuinfo").read().split()
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    pinned = subprocess.run([clipwb_path(), "doctor"], capture_output=True, text=True, env=env, timeout=60)
    assert pinned.returncode == 0
    assert "OpenBLAS OpenBLAS" not in pinned.stdout
    assert ("OPENBLAS_CORETYPE=Haswell pins" in pinned.stdout) == has512
    env.pop("OPENBLAS_CORETYPE")
    free = json.loads(subprocess.run([clipwb_path(), "doctor", "--json"], capture_output=True, text=True, env=env,
                                     timeout=60).stdout)
    assert free.get("pinned_core_type") is None and free.get("advice") is None
    assert "blas_is_openblas" in free and "cpu_avx512" in free
