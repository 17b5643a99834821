"""Image fixtures for ClipImage: small JPEG/PNG files in every mode Pillow opens, and Pillow's
uint8 result of CLIP's transform (resize → center crop → convert("RGB")) for each.

Run with the light venv (Pillow only, no torch):
    .venv/bin/python notebooks-export/image_fixtures.py --out Tests/ClipImageTests/Fixtures
The same generators feed Tests/interop/test_preprocess.py with fresh random images.

PNGs are written by a small encoder here (not Pillow) so every colour type / bit depth /
interlace combination of the PNG spec can be produced, including 16-bit colour Pillow cannot save.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

N_PX = 224


def clip_uint8(im: Image.Image, n: int = N_PX) -> np.ndarray:
    """CLIP's _transform up to ToTensor, with torchvision's arithmetic spelled out in PIL."""
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = n, int(n * long / short)  # torchvision _compute_resized_output_size
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    if (nh, nw) != (h, w):  # torchvision returns the image untouched when the size already fits
        im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    if nw < n or nh < n:  # torchvision pads with 0 before cropping (never reached after Resize)
        raise AssertionError("crop larger than image after resize")
    top = int(round((nh - n) / 2.0))  # Python round: half to even
    left = int(round((nw - n) / 2.0))
    im = im.crop((left, top, left + n, top + n))
    return np.asarray(im.convert("RGB"))


MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def normalize(rgb: np.ndarray) -> np.ndarray:
    """ToTensor + Normalize in float32, as torchvision: x / 255, then (v − mean) / std."""
    x = rgb.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    return (x - MEAN[:, None, None]) / STD[:, None, None]


# ---------------------------------------------------------------- PNG encoder

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pack_rows(samples: np.ndarray, depth: int) -> list[bytes]:
    """samples: [h, w, c] integers → filter-less scanlines (filter byte 0)."""
    h = samples.shape[0]
    rows = []
    for y in range(h):
        row = samples[y].reshape(-1)
        if depth == 16:
            data = row.astype(">u2").tobytes()
        elif depth == 8:
            data = row.astype(np.uint8).tobytes()
        else:
            data = np.packbits(np.unpackbits(row.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].reshape(-1)).tobytes()
        rows.append(b"\x00" + data)
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def encode_png(samples: np.ndarray, color_type: int, depth: int, palette: np.ndarray | None = None,
               trns: bytes | None = None, interlace: bool = False) -> bytes:
    """samples: [h, w, channels] of raw sample values for the colour type."""
    h, w = samples.shape[:2]
    raw = b""
    if interlace:
        for x0, y0, dx, dy in ADAM7:
            sub = samples[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += b"".join(_pack_rows(sub, depth))
    else:
        raw = b"".join(_pack_rows(samples, depth))
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        out += _chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None:
        out += _chunk(b"tRNS", trns)
    out += _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    return out


# ---------------------------------------------------------------- random images

NOISE = 6  # noise amplitude is hi // NOISE; the committed fixtures use less to stay small


def _content(rng: np.random.Generator, h: int, w: int, c: int, hi: int) -> np.ndarray:
    """Smooth gradients plus noise plus a few hard edges: exercises every resampling tap."""
    yy, xx = np.mgrid[0:h, 0:w]
    slope = (lambda: int(rng.integers(1, 4))) if NOISE > 6 else (lambda: rng.uniform(0.5, 3))
    base = np.stack([(xx * slope() + yy * slope() + rng.uniform(0, hi)) % (hi + 1) for _ in range(c)], axis=-1)
    noise = rng.integers(-(hi // NOISE), hi // NOISE + 1, size=(h, w, c))
    if NOISE > 6:  # committed fixtures: sparse noise, so files stay small
        noise = noise * (rng.random((h, w, 1)) < 0.05)
    edges = (((xx // max(1, w // 5)) + (yy // max(1, h // 4))) % 2)[..., None] * (hi // 3)
    return np.clip(base + noise + edges, 0, hi).astype(np.int64)


PNG_KINDS = ["png-gray1", "png-gray2", "png-gray4", "png-gray8", "png-gray16", "png-rgb8", "png-rgb16",
             "png-p1", "png-p2", "png-p4", "png-p8", "png-p8-trns", "png-p4-short-plte", "png-la8", "png-la16",
             "png-rgba8", "png-rgba16", "png-rgb8-interlaced", "png-rgba8-interlaced", "png-gray16-low"]
JPEG_KINDS = ["jpeg-rgb-420", "jpeg-rgb-444", "jpeg-rgb-422", "jpeg-gray", "jpeg-cmyk", "jpeg-progressive"]
KINDS = PNG_KINDS + JPEG_KINDS


def make_image(kind: str, w: int, h: int, rng: np.random.Generator) -> bytes:
    if kind.startswith("png-"):
        return _make_png(kind[4:], w, h, rng)
    return _make_jpeg(kind[5:], w, h, rng)


def _make_png(kind: str, w: int, h: int, rng: np.random.Generator) -> bytes:
    interlace = kind.endswith("-interlaced")
    kind = kind.replace("-interlaced", "")
    if kind.startswith("gray"):
        depth = 16 if kind == "gray16-low" else int(kind[4:])
        hi = 300 if kind == "gray16-low" else (1 << depth) - 1  # -low: values around 255 (Pillow clips I;16 → RGB)
        return encode_png(_content(rng, h, w, 1, hi), 0, depth, interlace=interlace)
    if kind.startswith("rgba") or kind.startswith("la"):
        depth = int(kind.lstrip("rgbal"))
        c = 4 if kind.startswith("rgba") else 2
        s = _content(rng, h, w, c, (1 << depth) - 1)
        s[..., -1] = np.where(rng.random((h, w)) < 0.2, 0, s[..., -1])  # some fully transparent pixels
        s[..., -1] = np.where(rng.random((h, w)) < 0.2, (1 << depth) - 1, s[..., -1])
        return encode_png(s, 6 if c == 4 else 4, depth, interlace=interlace)
    if kind.startswith("rgb"):
        depth = int(kind[3:])
        return encode_png(_content(rng, h, w, 3, (1 << depth) - 1), 2, depth, interlace=interlace)
    if kind.startswith("p"):
        depth = int(kind[1:].split("-")[0])
        n = 1 << depth
        plte_n = max(1, n - 3) if "short-plte" in kind else n  # indices past the PLTE → black in Pillow
        palette = rng.integers(0, 256, size=(plte_n, 3))
        idx = _content(rng, h, w, 1, n - 1)
        trns = bytes(rng.integers(0, 256, size=plte_n).astype(np.uint8)) if "trns" in kind else None
        return encode_png(idx, 3, depth, palette=palette, trns=trns, interlace=interlace)
    raise ValueError(kind)


def _make_jpeg(kind: str, w: int, h: int, rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    if kind == "gray":
        Image.fromarray(_content(rng, h, w, 1, 255)[..., 0].astype(np.uint8), "L").save(buf, "JPEG", quality=90)
    elif kind == "cmyk":
        Image.fromarray(_content(rng, h, w, 4, 255).astype(np.uint8), "CMYK").save(buf, "JPEG", quality=90)
    else:
        im = Image.fromarray(_content(rng, h, w, 3, 255).astype(np.uint8), "RGB")
        sub = {"rgb-420": 2, "rgb-444": 0, "rgb-422": 1, "progressive": 2}[kind]
        im.save(buf, "JPEG", quality=int(rng.integers(60, 96)), subsampling=sub, progressive=kind == "progressive")
    return buf.getvalue()


ODD_SIZES = [(1, 500), (500, 1), (225, 224), (224, 225), (224, 224), (37, 1000), (1000, 37), (100, 50), (3, 3),
             (223, 223), (7, 300), (300, 301)]


# ---------------------------------------------------------------- committed fixtures

FIXTURES = [  # (kind, width, height): small, covering each mode and every resize branch
    ("jpeg-rgb-420", 96, 64), ("jpeg-rgb-444", 64, 96), ("jpeg-rgb-422", 300, 240), ("jpeg-gray", 80, 80),
    ("jpeg-cmyk", 90, 60), ("jpeg-progressive", 120, 90), ("jpeg-rgb-420", 256, 256), ("jpeg-rgb-420", 224, 300),
    ("png-gray1", 50, 70), ("png-gray2", 33, 40), ("png-gray4", 40, 33), ("png-gray8", 301, 250),
    ("png-gray16", 60, 45), ("png-gray16-low", 45, 60), ("png-rgb8", 230, 224), ("png-rgb16", 64, 48),
    ("png-p1", 20, 30), ("png-p2", 30, 20), ("png-p4", 70, 50), ("png-p8", 64, 64), ("png-p8-trns", 48, 64),
    ("png-p4-short-plte", 40, 40), ("png-la8", 50, 60), ("png-la16", 60, 50), ("png-rgba8", 80, 60),
    ("png-rgba16", 60, 80), ("png-rgb8-interlaced", 70, 90), ("png-rgba8-interlaced", 33, 17),
    ("png-rgb8", 1, 300), ("png-rgb8", 224, 224), ("png-rgb8", 225, 224),
    ("jpeg-rgb-420", 308, 630), ("jpeg-gray", 230, 700),  # Pillow 13 runs the vertical pass first here
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="Tests/ClipImageTests/Fixtures")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    global NOISE
    NOISE = 40
    manifest = []
    for i, (kind, w, h) in enumerate(FIXTURES):
        name = f"{i:02d}-{kind}-{w}x{h}.{'png' if kind.startswith('png') else 'jpg'}"
        data = make_image(kind, w, h, rng)
        (out / name).write_bytes(data)
        im = Image.open(io.BytesIO(data))
        expected = clip_uint8(im)
        manifest.append({"file": name, "kind": kind, "pil_mode": im.mode, "width": w, "height": h,
                         "sha256": hashlib.sha256(expected.tobytes()).hexdigest(),
                         "sum": int(expected.astype(np.int64).sum()),
                         "first": expected.reshape(-1)[:12].tolist()})
    import PIL
    provenance = {"expected": "sha256/sum/first values of Pillow's 224x224x3 uint8 HWC result of CLIP's transform",
                  "command": " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]), "seed": args.seed,
                  "pillow": PIL.__version__, "numpy": np.__version__, "images": manifest}
    (out / "manifest.json").write_text(json.dumps(provenance, indent=1) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(manifest)} fixtures to {out} ({total} bytes)")


if __name__ == "__main__":
    main()
