#!/usr/bin/env python3
"""Export CLIP weights and reference embeddings to HDF5 (clip-hdf5 / clip-reference, version 1).

The reference implementation is OpenAI's `clip` package (PyPI: clip-anytorch): its model code
(clip/model.py), its tokenizer (clip.tokenize) and its preprocessing transform (clip.clip._transform).
The formats are described in docs/formats.md; the reader is the Swift side (clipwb).

Examples (run from the repository root with the exporter venv, `make venv-export`):

  # the committed tiny fixture (what `make fixtures` runs)
  .venv-export/bin/python notebooks-export/export_clip.py --random-init --seed 0 --tiny --dtype float16 --threads 1 \\
      --out weights/tiny/clip-tiny.h5 --reference-out weights/tiny/clip-tiny-reference.h5 \\
      --images samples/abo --num-images 16 --texts notebooks-export/texts.txt

  # OpenAI's pretrained ViT-B/32 (downloads ~350 MB from openaipublic.azureedge.net: needs internet)
  .venv-export/bin/python notebooks-export/export_clip.py --model ViT-B/32 --out vit-b32.h5
"""
import argparse
import os
import shlex
import sys
import warnings

import h5py
import numpy as np

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # clip/clip.py imports it
from clip_model import build_random_model, load_pretrained_model, model_config, TINY_CONFIG
from clip_reference import (ExportError, compute_reference, embedding_spread, provenance, read_texts,
                            select_images, sha256_of_file)

FORMAT_VERSION = 1


def write_weights(path, state_dict, config, dtype, source, attrs):
    """clip-hdf5 v1: root attrs, /state_dict/<key> (flat, PyTorch layout), /config (build_model's argument names)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest", track_order=True) as f:
        f.attrs["format"] = "clip-hdf5"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["source"] = source
        for key, value in attrs.items():
            f.attrs[key] = value
        group = f.create_group("state_dict", track_order=True)
        for key, tensor in state_dict.items():
            array = tensor.detach().cpu().numpy().astype(dtype)  # float16: round to nearest even
            # contiguous, uncompressed: readers may map tensors straight from the file
            group.create_dataset(key, data=array, track_times=False)
        cfg = f.create_group("config", track_order=True)
        for key, value in config.items():
            cfg.attrs[key] = np.int64(value)
    os.replace(tmp, path)


def write_reference(path, ref, source, weights_sha256, attrs, compress_pixels):
    """clip-reference v1: /images/{names,pixels,embeddings}, /texts/{strings,tokens,embeddings}."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    utf8 = h5py.string_dtype("utf-8")
    tmp = path + ".tmp"
    with h5py.File(tmp, "w", libver="earliest", track_order=True) as f:
        f.attrs["format"] = "clip-reference"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["weights_source"] = source
        f.attrs["weights_sha256"] = weights_sha256
        for key, value in attrs.items():
            f.attrs[key] = value
        images = f.create_group("images", track_order=True)
        images.create_dataset("names", data=np.array(ref["image_names"], dtype=object), dtype=utf8,
                              track_times=False)
        pixels = ref["pixels"]
        if compress_pixels and len(pixels):
            # one chunk per image, deflate (built into libhdf5; H5Dread undoes it). Each channel holds at most
            # 256 distinct float32 values, which deflate finds as repeated 4-byte strings (~6x smaller);
            # the byte-shuffle filter would break those strings up (only ~3x).
            images.create_dataset("pixels", data=pixels, chunks=(1,) + pixels.shape[1:],
                                  compression="gzip", compression_opts=9, track_times=False)
        else:
            images.create_dataset("pixels", data=pixels, track_times=False)
        images.create_dataset("embeddings", data=ref["image_embeddings"], track_times=False)
        texts = f.create_group("texts", track_order=True)
        texts.create_dataset("strings", data=np.array(ref["texts"], dtype=object), dtype=utf8, track_times=False)
        texts.create_dataset("tokens", data=ref["tokens"], track_times=False)
        texts.create_dataset("embeddings", data=ref["text_embeddings"], track_times=False)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="export_clip.py", description=__doc__,
        epilog="The weights come either from OpenAI (--model, needs internet on first use) or from a seeded "
               "random initialisation of the same architecture (--random-init). With --dtype float16 the "
               "parameters are rounded to float16 before the reference is computed (in float32), so the "
               "reference matches the stored weights exactly. Set SOURCE_DATE_EPOCH for a fixed 'created' "
               "attribute (bit-identical re-runs).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", metavar="NAME",
                     help="pretrained OpenAI model, e.g. ViT-B/32 (downloaded to --download-root), or a path to "
                          "an OpenAI .pt checkpoint")
    src.add_argument("--random-init", action="store_true",
                     help="build the architecture with clip.model.CLIP (OpenAI's initialize_parameters) under "
                          "--seed, then give every constant-initialised parameter (LayerNorm gains/biases, "
                          "attention biases, logit_scale) seeded random values so every weight matters")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for --random-init (default 0)")
    p.add_argument("--arch", default="ViT-B/32", choices=["ViT-B/32"],
                   help="architecture for --random-init (the only one, and the default: ViT-B/32)")
    p.add_argument("--tiny", action="store_true",
                   help="with --random-init: a small configuration for test fixtures with the patch size, "
                        "resolution, context length and vocabulary of ViT-B/32: " +
                        ", ".join(f"{k}={v}" for k, v in TINY_CONFIG.items()))
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32", help="dtype of the stored weights (default float32)")
    p.add_argument("--out", required=True, metavar="WEIGHTS.h5", help="weights file to write (clip-hdf5)")
    p.add_argument("--reference-out", metavar="REFERENCE.h5",
                   help="reference file to write (clip-reference); needs --images and/or --texts")
    p.add_argument("--images", metavar="DIR", help="folder of images (.jpg/.jpeg/.png, not recursive)")
    p.add_argument("--num-images", type=int, metavar="N", help="use N of the images (default: all)")
    p.add_argument("--select", choices=["first", "spread", "mixed"], default="mixed",
                   help="which N images, from the names sorted: 'first' N; 'spread' evenly spaced; 'mixed' "
                        "evenly spaced, with a quarter of the picks (at least one) evenly spaced over the "
                        "non-RGB (grayscale, CMYK, palette...) images when there are any (default)")
    p.add_argument("--texts", metavar="FILE", help="UTF-8 text file, one text per line (split on \\n only; "
                                                    "a final newline does not start a text)")
    p.add_argument("--batch-size", type=int, default=16, help="encoder batch size (default 16)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2); fixed, so re-runs are bit-identical")
    p.add_argument("--no-compress-pixels", action="store_true",
                   help="store /images/pixels contiguous instead of chunked and deflate-compressed")
    p.add_argument("--download-root", metavar="DIR", help="where --model downloads to (default ~/.cache/clip)")
    args = p.parse_args(argv)
    if args.tiny and not args.random_init:
        p.error("--tiny only applies to --random-init (OpenAI publishes no tiny model)")
    if args.reference_out and not (args.images or args.texts):
        p.error("--reference-out needs --images DIR and/or --texts FILE")
    if (args.images or args.texts) and not args.reference_out:
        p.error("--images/--texts are inputs of the reference: also pass --reference-out REFERENCE.h5")
    if args.num_images is not None and args.num_images < 1:
        p.error("--num-images must be at least 1")
    if args.batch_size < 1 or args.threads < 1:
        p.error("--batch-size and --threads must be at least 1")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # inputs first: a bad image folder or text file fails before minutes of work
    images = select_images(args.images, args.num_images, args.select) if args.images else []
    texts = read_texts(args.texts) if args.texts else []
    import torch
    torch.set_num_threads(args.threads)
    if args.random_init:
        model, config = build_random_model(args.seed, args.tiny)
        name = "tiny" if args.tiny else args.arch
        source = f"random-init seed={args.seed} {name}"
    else:
        model = load_pretrained_model(args.model, args.download_root)
        config = model_config(model)
        source = f"openai {args.model}"
    if args.dtype == "float16":
        # round first, compute the reference with the rounded values (float32 math)
        with torch.no_grad():
            for param in model.parameters():
                param.copy_(param.half().float())
    command = "export_clip.py " + " ".join(shlex.quote(a) for a in argv)
    attrs = provenance(command, args.seed if args.random_init else None, args.dtype)
    write_weights(args.out, model.state_dict(), config, args.dtype, source, attrs)
    print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes): {source}, {args.dtype}", file=sys.stderr)
    if not args.reference_out:
        return 0
    ref = compute_reference(model, config, args.images, images, texts, args.batch_size)
    for what in ("image", "text"):
        spread = embedding_spread(ref[f"{what}_embeddings"], what)
        if spread:
            print(f"{what} embeddings: {spread}", file=sys.stderr)
    write_reference(args.reference_out, ref, source, sha256_of_file(args.out), attrs, not args.no_compress_pixels)
    print(f"wrote {args.reference_out} ({os.path.getsize(args.reference_out):,} bytes): "
          f"{len(images)} images, {len(texts)} texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ExportError as e:
        print(f"export_clip.py: error: {e}", file=sys.stderr)
        sys.exit(2)
