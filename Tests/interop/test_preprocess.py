"""`clipwb preprocess` against the real Pillow (light venv, no torch).

CLIP's transform is replayed with Pillow plus torchvision's arithmetic written out
(notebooks-export/image_fixtures.py: clip_uint8, normalize). The uint8 stage (after resize,
center crop and convert("RGB")) must be EQUAL; the normalized floats within 1e-5.
Random images use a fresh seed each run, printed on failure; set CLIPWB_IMAGE_SEED to replay one.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "notebooks-export"))
import image_fixtures as fx  # noqa: E402
import format_images as ff  # noqa: E402

CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
PIXEL_TOLERANCE = 1e-5  # normalized floats: float32 rounding of (x/255 − mean)/std only


def abo_images() -> list[Path]:
    for d in (ROOT / "samples/abo", Path(os.environ.get("CLIPWB_SHARED", ROOT.parent / "shared")) / "data/abo-images"):
        files = sorted(p for p in d.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if d.is_dir() else []
        if files:
            return files[:200]
    pytest.fail("no sample images: expected samples/abo (make fixtures) or ../shared/data/abo-images")


def run_clipwb(paths: list[Path], tmp: Path) -> tuple[np.ndarray, np.ndarray]:
    out, u8 = tmp / "pixels.npy", tmp / "rgb.npy"
    r = subprocess.run([CLIPWB, "preprocess", *map(str, paths), "--out", str(out), "--uint8-out", str(u8)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"clipwb preprocess failed ({r.returncode}): {r.stderr}"
    return np.load(u8), np.load(out)


def pil_reference(data_or_path) -> tuple[np.ndarray, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about palette transparency given as bytes
        im = Image.open(io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path)
        return fx.clip_uint8(im), im.mode


def compare(paths, labels, tmp: Path, context: str) -> int:
    rgb, pixels = run_clipwb(paths, tmp)
    assert rgb.shape == (len(paths), 224, 224, 3) and pixels.shape == (len(paths), 3, 224, 224)
    worst = []
    for i, (p, label) in enumerate(zip(paths, labels)):
        ref, _ = pil_reference(p)
        d = int(np.abs(ref.astype(int) - rgb[i].astype(int)).max())
        f = float(np.abs(fx.normalize(ref) - pixels[i]).max())
        if d != 0 or f > PIXEL_TOLERANCE:
            worst.append(f"{label}: uint8 max|diff| {d}, float max|diff| {f:.3g}")
    assert not worst, f"{context}: {len(worst)}/{len(paths)} images differ from Pillow:\n" + "\n".join(worst[:20])
    return len(paths)


def test_abo_samples_equal_pillow(tmp_path):
    paths = abo_images()
    n = compare(paths, [p.name for p in paths], tmp_path, "samples")
    assert n == len(paths) and n >= 1


def random_size(rng: np.random.Generator) -> tuple[int, int]:
    r = rng.random()
    if r < 0.3:
        return tuple(int(v) for v in rng.integers(1, 224, size=2))        # smaller than the crop
    if r < 0.5:
        a = int(rng.integers(1, 40)); b = int(rng.integers(200, 900))     # extreme aspect ratios
        return (a, b) if rng.random() < 0.5 else (b, a)
    return tuple(int(v) for v in rng.integers(150, 700, size=2))


def test_random_images_every_mode_equal_pillow(tmp_path):
    seed = int(os.environ.get("CLIPWB_IMAGE_SEED", time.time_ns() % 2**32))
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    cases = [(k, w, h) for k in fx.KINDS for (w, h) in [random_size(rng), random_size(rng)]]
    cases += [(fx.KINDS[i % len(fx.KINDS)], w, h) for i, (w, h) in enumerate(fx.ODD_SIZES)]
    cases += [(k, int(rng.integers(600, 1600)), int(rng.integers(600, 1600)))  # large downscales: many taps
              for k in ("jpeg-rgb-420", "png-rgba8", "png-gray16", "jpeg-cmyk")]
    for i, (kind, w, h) in enumerate(cases):
        p = tmp_path / f"{i:03d}-{kind}-{w}x{h}"  # no extension: the format must come from the bytes
        p.write_bytes(fx.make_image(kind, w, h, rng))
        paths.append(p)
        labels.append(f"{kind} {w}x{h} ({pil_reference(p)[1]})")
    compare(paths, labels, tmp_path, f"random images, seed {seed} (replay: CLIPWB_IMAGE_SEED={seed})")


FORMATS = sorted({k.split("-")[0] for k in ff.FORMAT_KINDS})
FORMAT_SIZES = [(1, 1), (3, 5), (224, 224), (225, 224), (37, 500), (500, 37), (300, 301)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_every_mode_equal_pillow(tmp_path, fmt):
    """Each GIF/BMP/TIFF/WebP/PPM kind at fixed odd sizes and two random ones; counts are printed (-s)."""
    seed = int(os.environ.get("CLIPWB_IMAGE_SEED", time.time_ns() % 2**32))
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for kind in (k for k in ff.FORMAT_KINDS if k.split("-")[0] == fmt):
        sizes = FORMAT_SIZES[:3] + [FORMAT_SIZES[3 + len(paths) % 4], random_size(rng), random_size(rng)]
        for w, h in sizes:
            p = tmp_path / f"{len(paths):03d}-{kind}-{w}x{h}"  # no extension: the format must come from the bytes
            p.write_bytes(ff.make_format_image(kind, w, h, rng))
            paths.append(p)
            labels.append(f"{kind} {w}x{h} ({pil_reference(p)[1]})")
    n = compare(paths, labels, tmp_path, f"{fmt} images, seed {seed} (replay: CLIPWB_IMAGE_SEED={seed})")
    print(f"{fmt}: {n}/{len(paths)} images equal to Pillow ({len(set(lb.split()[0] for lb in labels))} kinds)")


@pytest.mark.parametrize("name,data,needle", [
    ("empty", b"", "empty"),
    ("text", b"hello, this is not an image\n", "clipwb decodes JPEG, PNG, GIF, BMP, TIFF, WebP and PPM"),
    ("ico", b"\0\0\1\0\1\0\x10\x10" + b"\0" * 40, "is an ICO file"),
    ("truncated-jpeg", None, "truncated"),
    ("corrupt-png", None, "corrupt"),
])
def test_bad_inputs_exit_2_with_message(tmp_path, name, data, needle):
    if name == "truncated-jpeg":
        data = fx.make_image("jpeg-rgb-420", 64, 64, np.random.default_rng(0))[:300]
    if name == "corrupt-png":
        good = bytearray(fx.make_image("png-rgb8", 32, 32, np.random.default_rng(0)))
        good[16] ^= 0xFF  # inside IHDR: Pillow rejects the checksum
        data = bytes(good)
    p = tmp_path / name
    p.write_bytes(data)
    r = subprocess.run([CLIPWB, "preprocess", str(p), "--out", str(tmp_path / "o.npy")], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr and str(p) in r.stderr, r.stderr
    with pytest.raises(Exception):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(p).load()  # Pillow refuses it too


def _edge_cases() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    jpg = fx.make_image("jpeg-rgb-420", 120, 90, rng)
    prog = fx.make_image("jpeg-progressive", 120, 90, rng)
    png = fx.make_image("png-rgb8", 60, 40, rng)
    return {"jpeg-no-eoi": jpg[:-2], "jpeg-cut-10": jpg[:-10], "jpeg-trailing-bytes": jpg + b"junk" * 10,
            "progressive-cut-5": prog[:-5], "png-no-iend": png[:-12], "png-trailing-bytes": png + b"xx" * 20,
            "png-cut-in-idat": png[:-40], "jpeg-header-only": jpg[:200], **_format_edge_cases(rng)}


def _format_edge_cases(rng) -> dict[str, bytes]:
    """The new formats cut short, with trailing bytes, and cut in their headers (an uncompressed
    tiled TIFF cut inside the padding of its last tile: Pillow's raw decoder accepts it)."""
    out = {}
    for kind in ("gif-p", "gif-p-trns", "bmp-rgb", "bmp-p8", "bmp-16-565", "bmp-rle8", "bmp-rle4-delta", "tiff-rgb", "tiff-rgb-lzw", "tiff-l-jpeg",
                 "tiff-hand-tiled-rgb", "webp-lossy-rgb", "webp-lossless-rgba", "ppm-p6", "ppm-p5-max1000", "ppm-p3"):
        d = ff.make_format_image(kind, 61, 47, rng)
        out.update({f"{kind}-cut-half": d[: len(d) // 2], f"{kind}-cut-10": d[:-10], f"{kind}-cut-1": d[:-1],
                    f"{kind}-header-only": d[:20], f"{kind}-trailing-bytes": d + b"junk" * 10})
    return out


@pytest.mark.parametrize("name", list(_edge_cases()))
def test_accepts_and_rejects_what_pillow_does(tmp_path, name):
    data = _edge_cases()[name]
    p = tmp_path / name
    p.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Image.open(p).load()
        pillow_ok = True
    except Exception:
        pillow_ok = False
    r = subprocess.run([CLIPWB, "preprocess", str(p), "--out", str(tmp_path / "o.npy")], capture_output=True, text=True)
    assert (r.returncode == 0) == pillow_ok, f"Pillow {'accepts' if pillow_ok else 'rejects'} it; clipwb: {r.returncode} {r.stderr}"
    if not pillow_ok:
        assert r.returncode == 2 and "error:" in r.stderr
