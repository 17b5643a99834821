#!/usr/bin/env python3
"""Export CLIP weights and reference embeddings to HDF5 (clip-hdf5 / clip-reference, version 1).

The reference implementation is the library the model comes from (--source): OpenAI's `clip` package
(PyPI: clip-anytorch; clip/model.py, clip.tokenize, clip.clip._transform), open_clip (zoo_openclip.py:
create_model, image_transform_v2 of the model's preprocess_cfg, get_tokenizer, encode_image/encode_text)
or Hugging Face transformers (zoo_hf.py: CLIPModel, CLIPImageProcessorPil, CLIPTokenizer,
get_image_features/get_text_features). The formats are described in docs/formats.md; the reader is
the Swift side (clipwb).

Examples (run from the repository root with the exporter venv, `make venv-export`):

  # the committed tiny fixture (what `make fixtures` runs)
  .venv-export/bin/python notebooks-export/export_clip.py --random-init --seed 0 --tiny --dtype float16 --threads 1 \\
      --out weights/tiny/clip-tiny.h5 --reference-out weights/tiny/clip-tiny-reference.h5 \\
      --images samples/abo --num-images 16 --texts notebooks-export/texts.txt

  # OpenAI's pretrained ViT-B/32 (downloads ~350 MB from openaipublic.azureedge.net: needs internet)
  .venv-export/bin/python notebooks-export/export_clip.py --model ViT-B/32 --out vit-b32.h5

  # open_clip's ViT-H-14 architecture, random init, one block per tower (every width and head kept)
  .venv-export/bin/python notebooks-export/export_clip.py --source open_clip --model ViT-H-14 --random-init \\
      --layers 1 --dtype float16 --out vit-h14-1layer.h5

  # pretrained (need internet): open_clip tag or hub repo, Hugging Face hub id; folders work offline
  .venv-export/bin/python notebooks-export/export_clip.py --source open_clip --model ViT-B-32 --pretrained laion2b_s34b_b79k --out b32-laion.h5
  .venv-export/bin/python notebooks-export/export_clip.py --source open_clip --model local-dir:weights/zoo/oc-hub --out oc-hub.h5
  .venv-export/bin/python notebooks-export/export_clip.py --source hf --model openai/clip-vit-base-patch32 --out hf-b32.h5

  # the model zoo fixtures: scripts/make-fixtures.sh, weights/zoo/README.md
"""
import argparse
import os
import shlex
import sys
import warnings

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")  # clip/clip.py imports it
from clip_hdf5 import write_reference, write_weights
from clip_model import (build_random_model, config_attributes, load_pretrained_model, model_config, OPENAI_CONFIGS,
                        TINY_CONFIG)
from clip_reference import (ExportError, compute_reference, embedding_spread, provenance, read_texts,
                            select_images, sha256_of_file)
import zoo_export


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="export_clip.py", description=__doc__,
        epilog="The weights come from a library's pretrained checkpoint (--model; OpenAI's, open_clip's and Hugging "
               "Face's downloads need internet on first use) or from a seeded random initialisation of that "
               "library's own architecture (--random-init). With --dtype float16 the parameters are rounded to "
               "float16 before the reference is computed (in float32), so the reference matches the stored "
               "weights exactly. Set SOURCE_DATE_EPOCH for a fixed 'created' attribute (bit-identical re-runs).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=["openai", "open_clip", "hf"], default="openai",
                   help="whose model code, preprocessing and tokenizer make the weights and the reference: OpenAI's "
                        "clip package (default), open_clip (open_clip_torch) or Hugging Face transformers CLIPModel")
    p.add_argument("--model", metavar="NAME",
                   help="openai: pretrained model, e.g. ViT-B/32 (downloaded to --download-root), or a path to an "
                        "OpenAI .pt checkpoint. open_clip: a model config name (ViT-B-32, ViT-H-14, ViT-M-16-alt, "
                        "...; pretrained weights need --pretrained), hf-hub:ORG/REPO or local-dir:DIR. hf: a hub id "
                        "(openai/clip-vit-base-patch32) or a save_pretrained folder; with --random-init also an "
                        "open_clip config name, whose sizes become a CLIPConfig")
    p.add_argument("--random-init", action="store_true",
                   help="build the architecture with the library's own init under --seed (openai: "
                        "clip.model.CLIP; open_clip: create_model(NAME, pretrained=None); hf: CLIPModel(CLIPConfig)), "
                        "then give every constant-initialised parameter (LayerNorm gains/biases, all biases, "
                        "LayerScale gammas, logit_scale) seeded random values so every weight matters")
    p.add_argument("--pretrained", metavar="TAG|FILE", help="open_clip: pretrained tag (e.g. laion2b_s34b_b79k) or "
                                                             "checkpoint file for a built-in --model name")
    p.add_argument("--hf-config", metavar="JSON", help="hf --random-init: CLIPConfig arguments, a JSON file or text")
    p.add_argument("--layers", type=int, metavar="N",
                   help="--random-init: cut both towers to N blocks, keeping every width, head and resolution")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                   help="--random-init, repeatable: change a config field. open_clip: vision_cfg.width=64, "
                        "vision_cfg.head_width=16, text_cfg.heads=2, embed_dim=32, quick_gelu=true, "
                        "preprocess_cfg.resize_mode=squash, ...; hf: vision_config.hidden_size=64, "
                        "text_config.hidden_act=gelu, projection_dim=32, image_processor.image_mean=[0.5,0.5,0.5], "
                        "...; openai: clip.model.CLIP arguments (vision_width=128). VALUE is JSON, else text")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for --random-init (default 0)")
    p.add_argument("--arch", default="ViT-B/32", choices=list(OPENAI_CONFIGS),
                   help="openai --random-init architecture (default ViT-B/32): clip.model.CLIP with the arguments "
                        "build_model infers from OpenAI's checkpoint of that name (RN50 … RN50x64: ModifiedResNet, "
                        "conditioned on 8 photos of samples/abo: filters in the span of their inputs' principal "
                        "directions, BatchNorm statistics from that pass, gains and biases random; see "
                        "zoo_common.condition_resnet)")
    p.add_argument("--tiny", action="store_true",
                   help="openai --random-init: a small configuration for test fixtures with the patch size, "
                        "resolution, context length and vocabulary of ViT-B/32: " +
                        ", ".join(f"{k}={v}" for k, v in TINY_CONFIG.items()))
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32", help="dtype of the stored weights (default float32)")
    p.add_argument("--out", required=True, metavar="WEIGHTS.h5", help="weights file to write (clip-hdf5)")
    p.add_argument("--reference-out", metavar="REFERENCE.h5",
                   help="reference file to write (clip-reference); needs --images and/or --texts")
    p.add_argument("--folder-out", metavar="DIR",
                   help="also write the model as its library publishes it, in --dtype. hf: save_pretrained "
                        "(model.safetensors, config.json, preprocessor_config.json); open_clip: the hub layout "
                        "(open_clip_config.json, open_clip_model.safetensors). Read back and compared")
    p.add_argument("--folder-tokenizer", action="store_true",
                   help="with --folder-out: also save the tokenizer (Hugging Face CLIPTokenizer files, ~2 MB)")
    p.add_argument("--images", metavar="DIR", help="folder of images (.jpg/.jpeg/.png, not recursive)")
    p.add_argument("--num-images", type=int, metavar="N", help="use N of the images (default: all)")
    p.add_argument("--select", choices=["first", "spread", "mixed"], default="mixed",
                   help="which N images, from the names sorted: 'first' N; 'spread' evenly spaced; 'mixed' "
                        "evenly spaced, with a quarter of the picks (at least one) evenly spaced over the "
                        "non-RGB (grayscale, CMYK, palette...) images when there are any (default)")
    p.add_argument("--texts", metavar="FILE", help="UTF-8 text file, one text per line (split on \\n only; "
                                                    "a final newline does not start a text)")
    p.add_argument("--intermediates", type=int, default=0, metavar="K",
                   help="also store, for the first K images and texts, the output of every named stage of the "
                        "reference forward pass (embeddings, ln_pre, each block after attention and after the MLP, "
                        "ln_post / ln_final, pooling, projection; ResNets: stem, each Bottleneck, attention pool) in "
                        "the reference's /intermediates group, so `clipwb verify` names the first stage that differs "
                        "(docs/formats.md). Default 0: none")
    p.add_argument("--batch-size", type=int, default=16, help="encoder batch size (default 16)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2); fixed, so re-runs are bit-identical")
    p.add_argument("--no-compress-pixels", action="store_true",
                   help="store /images/pixels contiguous instead of chunked and deflate-compressed")
    p.add_argument("--download-root", metavar="DIR",
                   help="where --model downloads to (default: the library's cache, ~/.cache/clip or ~/.cache/huggingface)")
    args = p.parse_args(argv)
    if args.source == "openai":
        if bool(args.model) == args.random_init:
            p.error("pass exactly one of --model NAME (OpenAI's pretrained weights) and --random-init")
        if args.tiny and not args.random_init:
            p.error("--tiny only applies to --random-init (OpenAI publishes no tiny model)")
        if args.tiny and args.arch != "ViT-B/32":
            p.error("--tiny is a ViT preset; for a small ResNet use --arch RN50 --layers 1 --override vision_width=8 ...")
        if args.folder_out or args.pretrained or args.hf_config:
            p.error("--folder-out, --pretrained and --hf-config apply to --source open_clip / hf")
    else:
        if args.tiny:
            p.error("--tiny is the openai source's preset; use --layers and --override")
        if not args.model and not (args.source == "hf" and args.hf_config):
            p.error(f"--source {args.source} needs --model NAME")
    if (args.layers is not None or args.override) and not args.random_init:
        p.error("--layers/--override change an architecture: use them with --random-init")
    if args.layers is not None and args.layers < 1:
        p.error("--layers must be at least 1")
    if args.folder_tokenizer and not args.folder_out:
        p.error("--folder-tokenizer goes with --folder-out DIR")
    if args.reference_out and not (args.images or args.texts):
        p.error("--reference-out needs --images DIR and/or --texts FILE")
    if (args.images or args.texts) and not args.reference_out:
        p.error("--images/--texts are inputs of the reference: also pass --reference-out REFERENCE.h5")
    if args.intermediates < 0:
        p.error("--intermediates must be 0 or more")
    if args.intermediates and not args.reference_out:
        p.error("--intermediates K goes into the reference: also pass --reference-out REFERENCE.h5")
    if args.num_images is not None and args.num_images < 1:
        p.error("--num-images must be at least 1")
    if args.batch_size < 1 or args.threads < 1:
        p.error("--batch-size and --threads must be at least 1")
    return args


def prepare_openai(args, images, texts):
    """OpenAI's clip package: the model, its /config (build_model's ten arguments) and its reference run."""
    import torch
    if args.random_init:
        overrides = zoo_export.parse_overrides(args.override)
        model, config = build_random_model(args.seed, args.tiny, args.layers, overrides, args.arch)
        name = "tiny" if args.tiny else args.arch
        source = " ".join([f"random-init seed={args.seed} {name}"] + zoo_export.modifiers(args))
    else:
        model = load_pretrained_model(args.model, args.download_root)
        config = model_config(model)
        source = f"openai {args.model}"
    if args.dtype == "float16":
        # round first (parameters and float buffers: BatchNorm statistics), compute the reference with the
        # rounded values (float32 math)
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                if tensor.is_floating_point():
                    tensor.copy_(tensor.half().float())
    return zoo_export.Prepared(
        state_dict=model.state_dict(), config=config_attributes(config), source=source,
        reference=lambda: compute_reference(model, config, args.images, images, texts, args.batch_size,
                                            args.intermediates))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # inputs first: a bad image folder or text file fails before minutes of work
    images = select_images(args.images, args.num_images, args.select) if args.images else []
    texts = read_texts(args.texts) if args.texts else []
    import torch
    torch.set_num_threads(args.threads)
    if args.source == "openai":
        prep = prepare_openai(args, images, texts)
    else:
        prep = zoo_export.prepare(args, images, texts)
    command = "export_clip.py " + " ".join(shlex.quote(a) for a in argv)
    attrs = provenance(command, args.seed if args.random_init else None, args.dtype)
    attrs.update(zoo_export.provenance_extras(args, attrs))
    write_weights(args.out, prep.state_dict, prep.config, args.dtype, prep.source, attrs)
    print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes): {prep.source}, {args.dtype}", file=sys.stderr)
    if args.folder_out:
        print(f"wrote {args.folder_out}/: {', '.join(prep.write_folder())}", file=sys.stderr)
    if not args.reference_out:
        return 0
    ref = prep.reference()
    for what in ("image", "text"):
        spread = embedding_spread(ref[f"{what}_embeddings"], what)
        if spread:
            print(f"{what} embeddings: {spread}", file=sys.stderr)
    write_reference(args.reference_out, ref, prep.source, sha256_of_file(args.out), {**attrs, **prep.reference_attrs},
                    not args.no_compress_pixels)
    print(f"wrote {args.reference_out} ({os.path.getsize(args.reference_out):,} bytes): "
          f"{len(images)} images, {len(texts)} texts", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ExportError as e:
        print(f"export_clip.py: error: {e}", file=sys.stderr)
        sys.exit(2)
