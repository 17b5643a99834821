"""Random images in every mode Pillow writes (and some it only reads) for GIF, BMP, TIFF, WebP
and PPM/PGM/PBM, for Tests/interop/test_preprocess.py. Pillow writes most of them; the rest
(plain PNM, other maxvals, 4/16-bit and bitfield BMPs, OS/2 and top-down BMPs) are assembled
here byte by byte, since Pillow reads those layouts but never writes them."""
from __future__ import annotations

import io
from pathlib import Path
import struct

import numpy as np
from PIL import Image

from image_fixtures import _content


def _pil(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _u8(rng, h, w, c):
    a = _content(rng, h, w, c, 255).astype(np.uint8)
    return a[..., 0] if c == 1 else a


# ---------------------------------------------------------------- PPM / PGM / PBM

def _pnm_header(magic: str, w: int, h: int, maxval: int | None, comment: bool = False) -> bytes:
    c = b"# made by format_images.py\n" if comment else b""
    return f"{magic}\n".encode() + c + f"{w} {h}\n".encode() + (f"{maxval}\n".encode() if maxval else b"")


def _make_ppm(kind: str, w: int, h: int, rng) -> bytes:
    if kind == "p4":
        return _pil(Image.fromarray(_u8(rng, h, w, 1) > 127), "PPM")
    if kind == "p5":
        return _pil(Image.fromarray(_u8(rng, h, w, 1), "L"), "PPM")
    if kind == "p6":
        return _pil(Image.fromarray(_u8(rng, h, w, 3), "RGB"), "PPM")
    if kind in ("p5-16", "p5-16-low"):  # Pillow writes "I" as P5 with maxval 65535
        hi = 300 if kind.endswith("low") else 65535
        return _pil(Image.fromarray(_content(rng, h, w, 1, hi)[..., 0].astype(np.int32), "I"), "PPM")
    if kind.startswith("p5-max") or kind.startswith("p6-max"):
        maxval = int(kind.split("max")[1])
        c = 1 if kind.startswith("p5") else 3
        v = _content(rng, h, w, c, maxval)
        if maxval > 255 and maxval < 600:  # values around 255: exercise i2rgb's clip after the resize
            v = np.clip(v, 0, maxval)
        data = v.astype(">u2" if maxval > 255 else np.uint8).tobytes()
        return _pnm_header("P5" if c == 1 else "P6", w, h, maxval) + data
    if kind == "p1":
        bits = (_u8(rng, h, w, 1) > 127).astype(int)
        rows = [" ".join(map(str, r)) for r in bits]
        return _pnm_header("P1", w, h, None, comment=True) + "\n".join(rows).encode() + b"\n"
    if kind.startswith("p2") or kind.startswith("p3"):
        maxval = int(kind.split("max")[1]) if "max" in kind else 255
        c = 1 if kind.startswith("p2") else 3
        v = _content(rng, h, w, c, maxval).reshape(h, -1)
        rows = [" ".join(map(str, r)) for r in v]
        return _pnm_header("P2" if c == 1 else "P3", w, h, maxval, comment=True) + "\n".join(rows).encode() + b"\n"
    raise ValueError(kind)


# ---------------------------------------------------------------- BMP

def bmp_bytes(w: int, h: int, bits: int, rows: list[bytes], palette: bytes = b"", header: int = 40,
              compression: int = 0, masks: tuple[int, ...] = (), top_down: bool = False, colors: int = 0) -> bytes:
    """rows: top row first, each unpadded; stored bottom-up unless top_down."""
    stride = ((w * bits + 31) >> 3) & ~3
    body = b"".join(r.ljust(stride, b"\0") for r in (rows if top_down else rows[::-1]))
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header, w, -h if top_down else h, 1, bits, compression, len(body),
                           2835, 2835, colors, 0)
        extra = b"".join(struct.pack("<I", m) for m in masks)
        info += extra[: header - 40] + b"\0" * max(0, header - 40 - len(extra))
        if header == 40:
            info += extra  # BITFIELDS masks after a 40-byte header
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body


def _pack(idx: np.ndarray, bits: int) -> list[bytes]:
    out = []
    for r in idx:
        v = 0; n = 0; b = bytearray()
        for x in r:
            v = (v << bits) | int(x); n += bits
            if n == 8:
                b.append(v); v = 0; n = 0
        if n:
            b.append(v << (8 - n))
        out.append(bytes(b))
    return out


def _make_bmp(kind: str, w: int, h: int, rng) -> bytes:
    if kind == "1":
        return _pil(Image.fromarray(_u8(rng, h, w, 1) > 127), "BMP")
    if kind == "l":
        return _pil(Image.fromarray(_u8(rng, h, w, 1), "L"), "BMP")
    if kind in ("p8", "p8-small"):
        n = 256 if kind == "p8" else 20
        im = Image.fromarray(_content(rng, h, w, 1, n - 1)[..., 0].astype(np.uint8), "P")
        im.putpalette(rng.integers(0, 256, 3 * n).astype(np.uint8).tobytes())
        return _pil(im, "BMP")
    if kind == "rgb":
        return _pil(Image.fromarray(_u8(rng, h, w, 3), "RGB"), "BMP")
    if kind == "rgba":  # Pillow writes 32-bit BGRA; it reads it back as RGB (alpha ignored)
        return _pil(Image.fromarray(_u8(rng, h, w, 4), "RGBA"), "BMP")
    if kind in ("p1-colour", "p4", "p4-short", "os2-p8"):
        bits = {"p1-colour": 1, "p4": 4, "p4-short": 4, "os2-p8": 8}[kind]
        n = 1 << bits
        used = 10 if kind == "p4-short" else n  # colors = 10: indices 10..15 are black in Pillow
        idx = _content(rng, h, w, 1, n - 1)[..., 0]
        pad = 3 if kind == "os2-p8" else 4
        pal = b"".join(bytes(rng.integers(0, 256, 3).astype(np.uint8)) + b"\0" * (pad - 3) for _ in range(used))
        rows = _pack(idx, bits) if bits < 8 else [bytes(r.astype(np.uint8)) for r in idx]
        return bmp_bytes(w, h, bits, rows, pal, header=12 if kind == "os2-p8" else 40,
                         colors=used if kind == "p4-short" else 0)
    if kind == "rgb-top-down":
        a = _u8(rng, h, w, 3)
        return bmp_bytes(w, h, 24, [bytes(r[:, ::-1].reshape(-1)) for r in a], top_down=True)
    if kind in ("16-555", "16-565", "16-555-bitfields"):
        a = _content(rng, h, w, 3, 255)
        if kind == "16-565":
            v = (a[..., 0] >> 3 << 11) | (a[..., 1] >> 2 << 5) | (a[..., 2] >> 3)
            masks = (0xF800, 0x7E0, 0x1F)
        else:
            v = (a[..., 0] >> 3 << 10) | (a[..., 1] >> 3 << 5) | (a[..., 2] >> 3)
            masks = (0x7C00, 0x3E0, 0x1F)
        rows = [r.astype("<u2").tobytes() for r in v]
        if kind == "16-555":
            return bmp_bytes(w, h, 16, rows)
        return bmp_bytes(w, h, 16, rows, compression=3, masks=masks)
    if kind in ("32-bitfields-alpha", "32-bitfields-xbgr", "32-v5-rgba"):
        a = _u8(rng, h, w, 4)
        a[..., 3] = np.where(rng.random((h, w)) < 0.2, 0, a[..., 3])
        if kind == "32-bitfields-xbgr":  # memory X B G R
            masks, order = (0xFF000000, 0xFF0000, 0xFF00, 0), [3, 2, 1, 0]
        elif kind == "32-v5-rgba":  # memory R G B A
            masks, order = (0xFF, 0xFF00, 0xFF0000, 0xFF000000), [0, 1, 2, 3]
        else:  # memory B G R A
            masks, order = (0xFF0000, 0xFF00, 0xFF, 0xFF000000), [2, 1, 0, 3]
        rows = [bytes(r[:, order].reshape(-1)) for r in a]
        return bmp_bytes(w, h, 32, rows, compression=3, masks=masks, header=124 if kind == "32-v5-rgba" else 56)
    if kind.startswith("rle"):
        return _rle_bmp(kind, w, h, rng)
    raise ValueError(kind)


def _rle_bmp(kind: str, w: int, h: int, rng) -> bytes:
    """RLE8/RLE4 BMPs as Windows encoders write them: encoded runs, absolute runs padded to a
    16-bit word, end-of-line, end-of-bitmap; '-delta' also jumps over pixels (left 0)."""
    rle4 = kind.startswith("rle4")
    n = 16 if rle4 else 256
    # runs of equal indices (so encoded runs occur) with noisy stretches (absolute runs)
    idx = _content(rng, h, w, 1, n - 1)[..., 0] // (3 if "runs" in kind else 1)
    if kind.endswith("bw"):  # black/white: Pillow opens it as "1", every non-zero index white
        pal = b"\0\0\0\0\xff\xff\xff\0"
    elif "grey" in kind:
        pal = b"".join(bytes([i, i, i, 0]) for i in range(n))
    else:
        pal = b"".join(bytes(rng.integers(0, 256, 3).astype(np.uint8)) + b"\0" for _ in range(n))
    out = bytearray()
    for y, row in enumerate(idx[::-1]):  # bottom-up
        x = 0
        if "delta" in kind and y == 1 and w > 4:
            out += bytes([0, 2, 3, 1])  # 3 right, 1 up: pixels skipped are index 0
            x = 3
        while x < w:
            run = 1
            while x + run < w and run < 255 and row[x + run] == row[x]:
                run += 1
            if run >= 3 or w - x < 3:
                v = int(row[x])
                out += bytes([run, (v << 4 | v) if rle4 else v])
                x += run
            else:
                m = min(255, w - x, int(rng.integers(3, 40)))
                vals = [int(v) for v in row[x:x + m]]
                body = bytes((vals[i] << 4 | (vals[i + 1] if i + 1 < m else 0)) for i in range(0, m, 2)) if rle4 else bytes(vals)
                out += bytes([0, m]) + body + (b"\0" if len(body) % 2 else b"")
                x += m
        out += b"\0\0"
    out += b"\0\1"
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 4 if rle4 else 8, 2 if rle4 else 1, len(out), 2835, 2835,
                       len(pal) // 4, 0)
    offset = 14 + 40 + len(pal)
    return b"BM" + struct.pack("<IHHI", offset + len(out), 0, 0, offset) + info + pal + bytes(out)


# ---------------------------------------------------------------- GIF

def _make_gif(kind: str, w: int, h: int, rng) -> bytes:
    if kind in ("p", "p-trns", "p-no-interlace", "p-small-palette"):
        n = 13 if kind == "p-small-palette" else 256
        im = Image.fromarray(_content(rng, h, w, 1, n - 1)[..., 0].astype(np.uint8), "P")
        im.putpalette(rng.integers(0, 256, 3 * n).astype(np.uint8).tobytes())
        kw = {"optimize": False}
        if kind == "p-trns":
            kw["transparency"] = int(rng.integers(0, n))
        if kind == "p-no-interlace":
            kw["interlace"] = False
        return _pil(im, "GIF", **kw)
    if kind == "l":
        return _pil(Image.fromarray(_u8(rng, h, w, 1), "L"), "GIF")
    if kind == "gray-ramp":  # palette entry i = (i, i, i): Pillow opens it as "L"
        im = Image.fromarray(_u8(rng, h, w, 1), "P")
        im.putpalette(bytes(i for i in range(256) for _ in range(3)))
        return _pil(im, "GIF", optimize=False)
    if kind == "1":
        return _pil(Image.fromarray(_u8(rng, h, w, 1) > 127), "GIF")
    if kind == "rgb":
        return _pil(Image.fromarray(_u8(rng, h, w, 3), "RGB"), "GIF")
    if kind == "animated":
        frames = [Image.fromarray(_u8(rng, h, w, 3), "RGB") for _ in range(2)]
        buf = io.BytesIO()
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
        return buf.getvalue()
    if kind in ("offset-frame", "offset-frame-trns", "no-palette"):
        # Pillow writes frame 0 at (0, 0) on a screen of its size; patch the bytes for layouts it only reads
        n = 64
        im = Image.fromarray(_content(rng, h, w, 1, n - 1)[..., 0].astype(np.uint8), "P")
        im.putpalette(rng.integers(0, 256, 3 * n).astype(np.uint8).tobytes())
        kw = {"optimize": False, "interlace": False}
        if kind.endswith("trns"):
            kw["transparency"] = 5
        d = bytearray(_pil(im, "GIF", **kw))
        desc = d.index(b"," + struct.pack("<HHHH", 0, 0, w, h))
        if kind == "no-palette":  # drop the global colour table: Pillow opens it as "L"
            bits = (d[10] & 7) + 1
            del d[13:13 + (3 << bits)]
            d[10] &= 0x7F
            return bytes(d)
        # frame at (7, 3): Pillow grows the canvas to hold it; the uncovered pixels get the
        # transparent index (or 0)
        d[desc + 1:desc + 5] = struct.pack("<HH", 7, 3)
        return bytes(d)
    raise ValueError(kind)


# ---------------------------------------------------------------- WebP

def _make_webp(kind: str, w: int, h: int, rng) -> bytes:
    alpha = "rgba" in kind
    a = _u8(rng, h, w, 4 if alpha else 3)
    if alpha:
        a[..., 3] = np.where(rng.random((h, w)) < 0.2, 0, a[..., 3])
    im = Image.fromarray(a, "RGBA" if alpha else "RGB")
    if kind.startswith("lossless"):
        return _pil(im, "WEBP", lossless=True, exact="exact" in kind)
    if kind == "animated":
        frames = [im, Image.fromarray(_u8(rng, h, w, 3), "RGB")]
        buf = io.BytesIO()
        frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=100, quality=80)
        return buf.getvalue()
    return _pil(im, "WEBP", quality=int(rng.integers(50, 96)))


FORMAT_KINDS = (
    [f"ppm-{k}" for k in ("p4", "p5", "p6", "p5-16", "p5-16-low", "p5-max100", "p5-max1000", "p5-max300", "p6-max31",
                          "p6-max1000", "p1", "p2", "p2-max1000", "p2-max15", "p3", "p3-max1023")]
    + [f"bmp-{k}" for k in ("1", "l", "p8", "p8-small", "rgb", "rgba", "p1-colour", "p4", "p4-short", "os2-p8",
                            "rgb-top-down", "16-555", "16-565", "16-555-bitfields", "32-bitfields-alpha",
                            "32-bitfields-xbgr", "32-v5-rgba", "rle8", "rle8-runs", "rle8-delta", "rle8-grey", "rle4", "rle4-runs",
                            "rle4-delta", "rle4-grey", "rle8-bw", "rle4-bw")]
    + [f"gif-{k}" for k in ("p", "p-trns", "p-no-interlace", "p-small-palette", "l", "gray-ramp", "1", "rgb", "animated",
                            "offset-frame", "offset-frame-trns", "no-palette")]
    + [f"webp-{k}" for k in ("lossy-rgb", "lossy-rgba", "lossless-rgb", "lossless-rgba", "lossless-rgba-exact", "animated")]
)


def make_format_image(kind: str, w: int, h: int, rng: np.random.Generator) -> bytes:
    fmt, rest = kind.split("-", 1)
    return _MAKERS[fmt](rest, w, h, rng)


# ---------------------------------------------------------------- TIFF

def tiff_bytes(w: int, h: int, spp: int, bps: int, photometric: int, pixels: np.ndarray, *, big_endian: bool = False,
               tile: int = 0, planar: int = 1, extra: tuple[int, ...] = (), colormap: np.ndarray | None = None,
               orientation: int = 0, sample_format: int = 1, rows_per_strip: int = 0) -> bytes:
    """A minimal uncompressed classic TIFF. pixels: [h, w, spp] sample values (bps ≥ 8) or
    [h, w] packed-bit values (spp == 1, bps < 8). Tiles of `tile` × `tile` if tile, else strips."""
    e = ">" if big_endian else "<"
    dt = {8: np.uint8, 16: np.uint16, 32: np.uint32}.get(bps)
    if dt is not None and sample_format == 2:
        dt = {8: np.int8, 16: np.int16, 32: np.int32}[bps]

    def pack_rows(a: np.ndarray) -> bytes:  # a: [rows, cols(, spp)] → bytes, rows padded to a byte
        if bps >= 8:
            return a.astype(np.dtype(dt).newbyteorder(e)).tobytes()
        return b"".join(_pack(a.reshape(a.shape[0], -1), bps))

    planes = [pixels[..., p:p + 1] for p in range(spp)] if planar == 2 else [pixels]
    blocks = []
    if tile:
        for plane in planes:
            for ty in range(0, h, tile):
                for tx in range(0, w, tile):
                    t = np.zeros((tile, tile) + plane.shape[2:], dtype=plane.dtype)
                    part = plane[ty:ty + tile, tx:tx + tile]
                    t[:part.shape[0], :part.shape[1]] = part
                    blocks.append(pack_rows(t))
    else:
        rps = rows_per_strip or h
        for plane in planes:
            for y in range(0, h, rps):
                blocks.append(pack_rows(plane[y:y + rps]))
    tags: dict[int, tuple[int, list[int]]] = {
        256: (4, [w]), 257: (4, [h]), 258: (3, [bps] * spp), 259: (3, [1]), 262: (3, [photometric]),
        277: (3, [spp]), 284: (3, [planar]), 339: (3, [sample_format] * spp),
    }
    if tile:
        tags.update({322: (4, [tile]), 323: (4, [tile]), 324: (4, [0] * len(blocks)), 325: (4, [len(b) for b in blocks])})
    else:
        tags.update({278: (4, [rows_per_strip or h]), 273: (4, [0] * len(blocks)), 279: (4, [len(b) for b in blocks])})
    if extra:
        tags[338] = (3, list(extra))
    if colormap is not None:
        tags[320] = (3, [int(v) for v in colormap.T.reshape(-1)])  # reds, greens, blues
    if orientation:
        tags[274] = (3, [orientation])
    size = {3: 2, 4: 4}
    n = len(tags)
    ifd_end = 8 + 2 + 12 * n + 4
    overflow = b""
    layout = {}
    for tag in sorted(tags):
        typ, vals = tags[tag]
        nbytes = size[typ] * len(vals)
        if nbytes > 4:
            layout[tag] = ifd_end + len(overflow)
            overflow += b"\0" * nbytes + (b"\0" if nbytes % 2 else b"")
    data_start = ifd_end + len(overflow)
    offsets, pos = [], data_start
    for b in blocks:
        offsets.append(pos)
        pos += len(b)
    tags[324 if tile else 273] = (4, offsets)
    out = bytearray((b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", 8) + struct.pack(e + "H", n))
    over = bytearray(overflow)
    for tag in sorted(tags):
        typ, vals = tags[tag]
        fmt = e + ("H" if typ == 3 else "I") * len(vals)
        raw = struct.pack(fmt, *vals)
        if len(raw) <= 4:
            out += struct.pack(e + "HHI", tag, typ, len(vals)) + raw.ljust(4, b"\0")
        else:
            out += struct.pack(e + "HHII", tag, typ, len(vals), layout[tag])
            o = layout[tag] - ifd_end
            over[o:o + len(raw)] = raw
    out += struct.pack(e + "I", 0) + over + b"".join(blocks)
    return bytes(out)


def _make_tiff(kind: str, w: int, h: int, rng) -> bytes:
    pil_modes = {"1": "1", "l": "L", "la": "LA", "p": "P", "rgb": "RGB", "rgba": "RGBA", "i": "I", "i16": "I;16",
                 "i16b": "I;16B", "cmyk": "CMYK", "ycbcr": "YCbCr"}
    mode_key, _, comp = kind.partition("-")
    if mode_key in pil_modes and not comp.startswith("hand"):
        mode = pil_modes[mode_key]
        if mode == "1":
            im = Image.fromarray(_u8(rng, h, w, 1) > 127)
        elif mode == "P":
            im = Image.fromarray(_content(rng, h, w, 1, 255)[..., 0].astype(np.uint8), "P")
            im.putpalette(rng.integers(0, 256, 768).astype(np.uint8).tobytes())
        elif mode in ("I", "I;16", "I;16B"):
            hi = 400 if "low" in comp else 65535
            a = _content(rng, h, w, 1, hi)[..., 0]
            dtype = {"I": np.int32, "I;16": "<u2", "I;16B": ">u2"}[mode]
            im = Image.fromarray(a.astype(dtype))
        else:
            c = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "YCbCr": 3}[mode]
            a = _u8(rng, h, w, c)
            if mode in ("LA", "RGBA"):
                a[..., -1] = np.where(rng.random((h, w)) < 0.2, 0, a[..., -1])
            im = Image.fromarray(a, mode)
        comp = comp.replace("-low", "").replace("low", "")
        kw = {}
        if comp.startswith("strips"):
            kw["strip_size"] = 4096
            comp = comp[len("strips"):].lstrip("-")
        compression = {"": None, "raw": None, "lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate", "packbits": "packbits",
                       "jpeg": "jpeg", "group4": "group4"}[comp]
        if compression:
            kw["compression"] = compression
        return _pil(im, "TIFF", **kw)
    # hand-made layouts Pillow reads but does not write
    if kind == "hand-tiled-rgb":
        return tiff_bytes(w, h, 3, 8, 2, _u8(rng, h, w, 3), tile=16)
    if kind == "hand-tiled-gray1":
        return tiff_bytes(w, h, 1, 1, 1, (_u8(rng, h, w, 1) > 127).astype(np.uint8), tile=16)
    if kind == "hand-planar-rgb":
        return tiff_bytes(w, h, 3, 8, 2, _u8(rng, h, w, 3), planar=2, rows_per_strip=7)
    if kind == "hand-planar-tiled-rgba":
        a = _u8(rng, h, w, 4)
        return tiff_bytes(w, h, 4, 8, 2, a, planar=2, tile=32, extra=(2,))
    if kind in ("hand-miniswhite-1", "hand-miniswhite-l8", "hand-gray2", "hand-gray4", "hand-miniswhite-gray4"):
        bps = {"1": 1, "l8": 8, "gray2": 2, "gray4": 4, "gray4": 4}[kind.split("-")[-1]]
        v = _content(rng, h, w, 1, (1 << bps) - 1)[..., 0]
        pm = 0 if "miniswhite" in kind else 1
        return tiff_bytes(w, h, 1, bps, pm, v if bps < 8 else v[..., None])
    if kind == "hand-p4":
        cm = rng.integers(0, 65536, size=(16, 3))
        return tiff_bytes(w, h, 1, 4, 3, _content(rng, h, w, 1, 15)[..., 0], colormap=cm)
    if kind in ("hand-rgb16", "hand-rgba16-mm"):
        c = 3 if kind == "hand-rgb16" else 4
        return tiff_bytes(w, h, c, 16, 2, _content(rng, h, w, c, 65535), big_endian=kind.endswith("mm"),
                          extra=(2,) if c == 4 else ())
    if kind == "hand-rgba-associated":
        a = _u8(rng, h, w, 4).astype(int)
        a[..., 3] = np.where(rng.random((h, w)) < 0.2, 0, a[..., 3])
        a[..., :3] = a[..., :3] * a[..., 3:] // 255
        return tiff_bytes(w, h, 4, 8, 2, a, extra=(1,))
    if kind == "hand-la-unspecified":
        return tiff_bytes(w, h, 2, 8, 1, _u8(rng, h, w, 2), extra=(0,))
    if kind == "hand-int16":
        return tiff_bytes(w, h, 1, 16, 1, _content(rng, h, w, 1, 600)[..., 0:1] - 150, sample_format=2)
    if kind.startswith("hand-orientation-"):
        return tiff_bytes(w, h, 3, 8, 2, _u8(rng, h, w, 3), orientation=int(kind.rsplit("-", 1)[1]))
    if kind == "hand-mm-l8":
        return tiff_bytes(w, h, 1, 8, 1, _u8(rng, h, w, 1)[..., None], big_endian=True, rows_per_strip=5)
    raise ValueError(kind)


TIFF_KINDS = [f"tiff-{k}" for k in (
    "1", "1-group4", "1-packbits", "l", "l-lzw", "l-deflate", "l-packbits", "l-jpeg", "l-strips-lzw", "la", "la-deflate",
    "p", "p-lzw", "rgb", "rgb-lzw", "rgb-deflate", "rgb-packbits", "rgb-jpeg", "rgb-strips", "rgb-strips-jpeg",
    "rgba", "rgba-lzw", "rgba-deflate", "i", "i-low", "i-deflate", "i16", "i16-low", "i16-lzw", "i16b", "i16b-low",
    "cmyk", "cmyk-lzw", "ycbcr-jpeg",
    "hand-tiled-rgb", "hand-tiled-gray1", "hand-planar-rgb", "hand-planar-tiled-rgba", "hand-miniswhite-1",
    "hand-miniswhite-l8", "hand-gray2", "hand-gray4", "hand-miniswhite-gray4", "hand-p4", "hand-rgb16",
    "hand-rgba16-mm", "hand-rgba-associated", "hand-la-unspecified", "hand-int16", "hand-orientation-2",
    "hand-orientation-3", "hand-orientation-5", "hand-orientation-6", "hand-orientation-7", "hand-orientation-8",
    "hand-mm-l8")]
FORMAT_KINDS += TIFF_KINDS
_MAKERS = {"ppm": _make_ppm, "bmp": _make_bmp, "gif": _make_gif, "webp": _make_webp, "tiff": _make_tiff}


def tiny_fixtures(out) -> None:
    """8×8 files per format for Tests/ClipImageTests (error paths: cuts, bad headers)."""
    out = Path(out)
    a = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    rgb = Image.fromarray(np.stack([a, a[::-1], a.T], -1), "RGB")
    files = {"format-8x8.gif": _pil(rgb, "GIF"), "format-8x8-lossless.webp": _pil(rgb, "WEBP", lossless=True),
             "format-8x8-lossy.webp": _pil(rgb, "WEBP", quality=80), "format-8x8.tif": _pil(rgb, "TIFF"),
             "format-8x8-lzw.tif": _pil(rgb, "TIFF", compression="tiff_lzw"), "format-8x8.bmp": _pil(rgb, "BMP"),
             "format-8x8.ppm": _pil(rgb, "PPM")}
    for name, data in files.items():
        (out / name).write_bytes(data)


if __name__ == "__main__":  # scripts/make-fixtures.sh runs it: the tiny fixtures (committed ones: Pillow 13.0.0)
    tiny_fixtures(Path(__file__).resolve().parents[1] / "Tests/ClipImageTests/Fixtures")
