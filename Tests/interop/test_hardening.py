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
    assert free.get("pinned_core_type") is None
    assert "blas_is_openblas" in free and "cpu_avx512" in free
    # Unpinned, OpenBLAS's own choice stands unless it fell back to Prescott (SSE3) on an AVX-512 CPU it does not
    # know; then clipwb restarted itself with SkylakeX kernels and says so.
    kept = json.loads(subprocess.run([clipwb_path(), "doctor", "--json"], capture_output=True, text=True,
                                     env=dict(env, CLIPWB_BLAS_AUTO="0"), timeout=60).stdout)
    if kept.get("blas_core", "").lower() == "prescott" and has512:
        assert "set OPENBLAS_CORETYPE=SkylakeX" in kept["advice"]
        assert free["blas_core"] == "SkylakeX" and "restarted itself" in free["advice"]
    else:
        assert free.get("advice") is None and free["blas_core"] == kept["blas_core"]


def test_embed_folder_skips_unreadable_images_and_writes_names(tmp_path):
    from conftest import TINY
    imgs = tmp_path / "imgs"
    (imgs / "sub").mkdir(parents=True)
    files = sorted(SAMPLES.glob("*.jpg"))
    (imgs / "a.jpg").write_bytes(files[0].read_bytes())
    (imgs / "sub" / "c.jpg").write_bytes(files[1].read_bytes())
    (imgs / "b.jpg").write_bytes(files[2].read_bytes()[:600])  # truncated
    (imgs / "notes.txt").write_text("not an image")
    out = tmp_path / "e.npy"
    r = subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", str(imgs), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"skipped {imgs}/b.jpg" in r.stderr and "truncated" in r.stderr
    names = (tmp_path / "e.names.txt").read_text().splitlines()
    assert names == [f"{imgs}/a.jpg", f"{imgs}/sub/c.jpg"]
    e = np.load(out)
    assert e.shape[0] == 2
    # Each row is the image its line names: embedding the file alone gives its row. Alone it is a batch of
    # one, and OpenBLAS may sum a row differently when the batch has other rows (kernel-dependent: SkylakeX
    # kernels give the same bits here, Haswell and Prescott ones differ in the 7th digit), so: equal to 1e-5,
    # and not the other image's row (the negative control).
    one = tmp_path / "one.npy"
    subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", names[1], "--out", str(one)],
                   check=True, capture_output=True, timeout=120)
    alone = np.load(one)[0]
    assert np.abs(alone - e[1]).max() < 1e-5
    assert np.abs(alone - e[0]).max() > 1e-2
    strict = subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", str(imgs), "--out",
                             str(tmp_path / "s.npy"), "--strict"], capture_output=True, text=True, timeout=120)
    assert strict.returncode == 2 and "truncated" in strict.stderr
    assert not (tmp_path / "s.npy").exists()


def test_progress_is_logged_when_stderr_is_not_a_terminal(tmp_path):
    from conftest import TINY
    files = sorted(SAMPLES.glob("*.jpg"))[:12]
    r = subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", *map(str, files), "--out",
                        str(tmp_path / "p.npy")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    line = [l for l in r.stderr.splitlines() if l.startswith("embed ")]
    assert line and "12/12 images" in line[-1] and "/s" in line[-1] and "ETA" in line[-1]
    assert "\r" not in r.stderr
    quiet = subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), "--images", *map(str, files), "--out",
                            str(tmp_path / "q.npy")], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, CLIPWB_PROGRESS="0"))
    assert not [l for l in quiet.stderr.splitlines() if l.startswith("embed ")]


def test_verify_names_a_missing_images_folder(tmp_path):
    from conftest import TINY, TINY_REF
    r = subprocess.run([clipwb_path(), "verify", "--weights", str(TINY), "--reference", str(TINY_REF), "--images",
                        str(tmp_path / "nope")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert f"--images '{tmp_path / 'nope'}' is not a folder" in r.stderr


def test_index_build_help_states_one_default():
    r = subprocess.run([clipwb_path(), "index", "build", "--help"], capture_output=True, text=True, timeout=60)
    options = r.stdout[r.stdout.index("OPTIONS:"):]
    seed = options[options.index("--seed <seed>"):].split("--threads")[0]
    assert seed.count("default") == 1, seed


def test_eval_refuses_an_hdf5_shape_the_file_cannot_hold(tmp_path):
    import h5py
    path = tmp_path / "huge.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train", shape=(2 ** 40, 512), dtype="f4", chunks=(1, 512))  # nothing stored
        f["test"] = np.zeros((2, 512), np.float32)
    r = subprocess.run([clipwb_path(), "eval", "--vectors", f"{path}:train", "--queries", f"{path}:test", "--trees", "1",
                        "--k", "1", "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "train" in r.stderr and "more than the file holds" in r.stderr, r.stderr


def test_reingest_with_other_trees_rebuilds_the_index(tmp_path):
    from conftest import TINY, sample_images
    imgs = sample_images(tmp_path / "imgs", 6)
    cat = tmp_path / "cat"
    base = [clipwb_path(), "ingest", str(imgs), "--weights", str(TINY), "--catalog", str(cat)]
    subprocess.run(base, check=True, capture_output=True, timeout=120)
    again = subprocess.run(base + ["--trees", "3"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "rebuilding the index: Annoy, 10 trees, seed 42 → Annoy, 3 trees, seed 42" in again.stderr
    same = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert "rebuilding" not in same.stderr and "building the index" not in same.stderr
    bad = subprocess.run(base + ["--search-k", "0"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--search-k must be" in bad.stderr


def test_hdf5_that_exhausts_libhdf5_is_refused(tmp_path):
    """A fuzzer's 300 KB file makes libhdf5 allocate without bound (23.5 GB seen): a group's local heap whose free
    list comes back on itself. The library now refuses it before libhdf5 opens the file (LocalHeapCheck), in the
    CLI's containment child and again in the CLI itself. The parent runs under 3 GB here, so a file that reached
    libhdf5 unchecked and uncontained would fail the test (a crash) rather than exhaust the machine."""
    from conftest import ROOT, TINY
    bad = ROOT / "Tests" / "Fixtures" / "fuzz" / "hdf5" / "local-heap-free-list-loop-as-found.h5"
    limit = "ulimit -v 3000000; exec \"$0\" \"$@\""
    for cmd in (["inspect", str(bad)], ["convert", str(bad), str(tmp_path / "o.safetensors")]):
        r = subprocess.run(["bash", "-c", limit, clipwb_path(), *cmd], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, f"{cmd}: exit {r.returncode}\n{r.stderr[-500:]}"
        assert "is a damaged HDF5 file: the free list of its local heap at byte 1616" in r.stderr, r.stderr[-500:]
        assert "comes back to the free block at offset 120" in r.stderr, r.stderr[-500:]
        assert not (tmp_path / "o.safetensors").exists()
    ok = subprocess.run(["bash", "-c", limit, clipwb_path(), "inspect", str(TINY)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr


def test_verify_refuses_chunked_variable_length_strings_it_cannot_check(tmp_path):
    """clipwb checks each variable-length string's global heap id before libhdf5 1.10.8 follows it (it trusts
    them: a damaged id crashed the process); it can do so where the ids lie in one piece. A reference whose
    /texts/strings h5py wrote chunked is refused by name; the same strings contiguous verify (control)."""
    import h5py
    from conftest import TINY, TINY_REF

    def copy(name, **strings_kw):
        path = tmp_path / name
        with h5py.File(TINY_REF, "r") as src, h5py.File(path, "w", libver="earliest") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v
            for group in src:
                g = dst.create_group(group)
                for k, v in src[group].attrs.items():
                    g.attrs[k] = v
                for name_, ds in src[group].items():
                    kw = strings_kw if (group, name_) == ("texts", "strings") else {}
                    g.create_dataset(name_, data=ds[()], dtype=ds.dtype, **kw)
        return path

    def verify(ref):
        return subprocess.run([clipwb_path(), "verify", "--weights", str(TINY), "--reference", str(ref),
                               "--images", str(SAMPLES)], capture_output=True, text=True, timeout=300)

    chunked = verify(copy("chunked.h5", chunks=(4,)))
    assert chunked.returncode == 2, chunked.stderr
    assert "'/texts/strings'" in chunked.stderr and "chunked layout" in chunked.stderr, chunked.stderr
    contiguous = verify(copy("contiguous.h5"))
    assert contiguous.returncode == 0, contiguous.stderr
