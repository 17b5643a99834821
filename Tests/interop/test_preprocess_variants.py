"""`clipwb preprocess --pipeline hf` against Hugging Face's real CLIPImageProcessorPil (transformers 5.25.0).

transformers 5.25 needs no torch for its PIL backend: `CLIPImageProcessorPil` (the name `CLIPImageProcessor` is the
torchvision backend, which falls back to the PIL one with a warning when torchvision is absent). The reference
runs on PIL images opened by Image.open, as a caller passes them; pixel values must be within 1e-5 (they are
bit-equal where the arithmetic is, which the test counts). open_clip's modes need torch (open_clip.transform
imports it), so they are left to committed exporter fixtures, not re-implemented here.
"""
from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:
    import transformers
    from transformers import CLIPImageProcessorPil
    from transformers.image_utils import PILImageResampling
except ImportError as e:  # requirements-test.txt has it
    raise ImportError("transformers==5.25.0 is not installed in this venv: run make venv") from e

ROOT = Path(__file__).resolve().parents[2]
CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
PIXEL_TOLERANCE = 1e-5
FIXTURES = ROOT / "Tests/ClipImageTests/Fixtures"
PHOTOS = int(os.environ.get("CLIPWB_VARIANT_PHOTOS", 100))


def photos(n: int) -> list[Path]:
    shared = Path(os.environ.get("CLIPWB_SHARED", ROOT.parent / "shared")) / "data/abo-images"
    for d in (shared, ROOT / "samples/abo"):
        files = sorted(p for p in d.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if d.is_dir() else []
        if len(files) >= 50:
            return files[:n]
    pytest.fail("need 50 photos: ../shared/data/abo-images or samples/abo (make fixtures)")


def fixtures() -> list[Path]:
    """Every mode clipwb decodes from the committed fixtures (grey, CMYK, palette, 1-bit, 16-bit, LA, RGBA),
    except images whose transparency lives in `info` (PNG tRNS): HF composites those onto white, which clipwb
    refuses to do (test_transparency_in_info_is_refused)."""
    out, left_out = [], []
    for p in sorted(FIXTURES.glob("*")):
        if p.suffix == ".json":
            continue
        with Image.open(p) as im:
            (left_out if "transparency" in im.info else out).append(p)
    assert [p.name for p in left_out] == ["20-png-p8-trns-48x64.png"]
    return out


def reference(paths: list[Path], **kwargs) -> np.ndarray:
    proc = CLIPImageProcessorPil(**kwargs)
    images = [Image.open(p) for p in paths]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = proc(images=images, return_tensors="np")["pixel_values"]
    assert out.dtype == np.float32
    return out


def clipwb(paths: list[Path], tmp: Path, *options: str) -> np.ndarray:
    out = tmp / "pixels.npy"
    r = subprocess.run([CLIPWB, "preprocess", *map(str, paths), "--out", str(out), *options],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"clipwb preprocess failed ({r.returncode}): {r.stderr}"
    return np.load(out)


def compare(ours: np.ndarray, ref: np.ndarray, names: list[str]) -> tuple[list[str], int, float]:
    """Names over the tolerance, how many are bit-equal, and the largest |Δ|."""
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64)).reshape(len(names), -1).max(axis=1)
    over = [f"{n}: max|Δ| {d:.3g}" for n, d in zip(names, diff) if d > PIXEL_TOLERANCE]
    equal = sum(bool(np.array_equal(a, b)) for a, b in zip(ours, ref))
    return over, equal, float(diff.max())


HF_B = dict(size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224},
            image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5], resample=PILImageResampling.BILINEAR)
CLIPWB_B = ("--pipeline", "hf", "--size", "224", "--resize-size", "256", "--mean", "0.5,0.5,0.5",
            "--std", "0.5,0.5,0.5", "--interpolation", "bilinear")


@pytest.mark.parametrize("case", ["default", "256-bilinear-mean0.5", "smaller-than-crop"])
def test_hf_pipeline_equals_clip_image_processor_pil(case, tmp_path):
    paths = photos(PHOTOS if case != "smaller-than-crop" else 50) + fixtures()
    kwargs, options = {
        "default": ({}, ("--pipeline", "hf")),
        "256-bilinear-mean0.5": (HF_B, CLIPWB_B),
        # shortest_edge 200 < crop 224: HF's center_crop pads with zeros, ceil(24 / 2) = 12 rows before
        "smaller-than-crop": (dict(size={"shortest_edge": 200}), ("--pipeline", "hf", "--resize-size", "200")),
    }[case]
    ref = reference(paths, **kwargs)
    ours = clipwb(paths, tmp_path, *options)
    over, equal, worst = compare(ours, ref, [p.name for p in paths])
    print(f"{case}: {len(paths)} images, {equal} bit-equal, max|Δ| {worst:.3g}")
    assert transformers.__version__ == "5.25.0" and len(paths) >= 50 + 20
    assert not over, f"{case}: {len(over)}/{len(paths)} differ from CLIPImageProcessorPil:\n" + "\n".join(over[:20])


def odd_quarter(w: int, h: int, short_target: int = 224, crop: int = 224) -> bool:
    """True when torchvision's crop offset (round half to even) and HF's (floor) differ: n − crop ≡ 3 (mod 4)."""
    s, l = min(w, h), max(w, h)
    return (int(short_target * l / s) - crop) % 4 == 3


def test_openai_pipeline_differs_from_hf_where_the_crop_offset_does(tmp_path):
    """Negative control: the same photos through the openai pipeline, against HF's pixels. They differ on
    exactly the photos whose resized long side minus 224 is 3 mod 4 (offset k+1 vs k); elsewhere the two
    pipelines agree bit for bit (same size rule, same bicubic, same float32 normalisation)."""
    paths = photos(PHOTOS)
    ref = reference(paths)
    over, _, _ = compare(clipwb(paths, tmp_path, "--pipeline", "openai"), ref, [p.name for p in paths])
    differing = {o.split(":")[0] for o in over}
    predicted = {p.name for p in paths if odd_quarter(*Image.open(p).size)}
    print(f"openai vs hf: {len(differing)}/{len(paths)} photos differ (predicted {len(predicted)})")
    assert predicted, "no photo has an odd-quarter offset; the control cannot fail"
    assert differing == predicted
    # and the wrong filter (bicubic for HF's bilinear) differs on exactly the photos the resize touches:
    # those whose short side is not already 256
    over_b, _, _ = compare(clipwb(paths, tmp_path, *CLIPWB_B[:-1], "bicubic"), reference(paths, **HF_B),
                           [p.name for p in paths])
    resized = {p.name for p in paths if min(Image.open(p).size) != 256}
    print(f"bicubic for bilinear: {len(over_b)}/{len(paths)} photos differ (resized {len(resized)})")
    assert resized and {o.split(":")[0] for o in over_b} == resized


def test_transparency_in_info_is_refused(tmp_path):
    """A tRNS palette PNG: HF's pixels differ from convert("RGB")'s, so clipwb's hf pipeline refuses it (exit 2)
    while the openai pipeline (which drops transparency, as Pillow's convert("RGB") does) accepts it."""
    trns = FIXTURES / "20-png-p8-trns-48x64.png"
    out = tmp_path / "o.npy"
    r = subprocess.run([CLIPWB, "preprocess", str(trns), "--out", str(out), "--pipeline", "hf"], capture_output=True, text=True)
    assert r.returncode == 2 and "transparency outside an alpha band" in r.stderr, r.stderr
    ours = clipwb([trns], tmp_path, "--pipeline", "openai")
    assert np.abs(ours - reference([trns])).max() > 1.0  # what the hf pipeline would get wrong without refusing
