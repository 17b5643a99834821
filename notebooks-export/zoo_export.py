"""--source open_clip / hf: the model, its /config, its reference run and its folder, ready for export_clip.py to
write. Each library does its own preprocessing, tokenizing and encoding (zoo_openclip.py, zoo_hf.py)."""
import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable, Optional

from clip_reference import ExportError
from zoo_common import ZOO_PACKAGES, parse_overrides, round_to_float16, run_reference

__all__ = ["Prepared", "prepare", "modifiers", "provenance_extras", "parse_overrides"]


@dataclass
class Prepared:
    state_dict: dict
    config: dict              # /config attributes
    source: str               # the weights file's `source`
    reference: Callable       # () → reference dict (clip_reference.compute_reference's keys)
    reference_attrs: dict = field(default_factory=dict)
    write_folder: Optional[Callable] = None  # () → names of the files written


def modifiers(args):
    """--layers and --override as they appear in `source`: layers=2 vision_cfg.width=64 ..."""
    return ([f"layers={args.layers}"] if args.layers is not None else []) + list(args.override)


def provenance_extras(args, attrs):
    """The zoo's additions to the provenance attributes; none for an openai export without --layers/--override,
    so the committed tiny fixture stays byte-identical."""
    extra = {}
    if args.source != "openai":
        extra["exporter_versions"] = attrs["exporter_versions"] + "".join(
            f", {p} {metadata.version(p)}" for p in ZOO_PACKAGES)
        extra["exporter_source"] = args.source
    if args.override:
        extra["overrides"] = json.dumps(list(args.override), ensure_ascii=False)
    if args.layers is not None:
        extra["layers"] = args.layers
    return extra


def _files(folder):
    return sorted(os.listdir(folder))


def prepare(args, images, texts):
    return (_prepare_open_clip if args.source == "open_clip" else _prepare_hf)(args, images, texts)


def _prepare_open_clip(args, images, texts):
    import open_clip
    import zoo_openclip
    name = args.model
    if args.random_init:
        model, cfg = zoo_openclip.build_random(name, args.seed, args.layers, args.override)
        source = " ".join([f"random-init seed={args.seed} open_clip {name}"] + modifiers(args))
    else:
        if not args.pretrained and not name.startswith(("hf-hub:", "local-dir:")):
            raise ExportError(f"open_clip {name}: pass --pretrained TAG (see open_clip.list_pretrained()) or "
                              f"FILE, use hf-hub:ORG/REPO or local-dir:DIR, or --random-init")
        model, cfg = zoo_openclip.load_pretrained(name, args.pretrained, args.download_root)
        source = f"open_clip {name}" + (f" pretrained={args.pretrained}" if args.pretrained else "")
    if args.dtype == "float16":
        round_to_float16(model)
    config = zoo_openclip.config_attributes(model)
    if args.folder_out and config["fill_color"] != 0:
        raise ExportError("open_clip's save_config_for_hf does not write fill_color: a hub folder of this model "
                          "would load with fill_color 0; leave out --folder-out or preprocess_cfg.fill_color")
    pipe = zoo_openclip.pipeline(model, name)

    def write_folder():
        with tempfile.TemporaryDirectory() as tmp:
            tokenizer_dir = None
            if args.folder_tokenizer:
                import zoo_hf
                zoo_hf.offline_tokenizer().save_pretrained(tmp)
                tokenizer_dir = tmp
            zoo_openclip.write_hub_folder(model, cfg, args.folder_out, args.dtype, tokenizer_dir)
        return _files(args.folder_out)
    ref_attrs = dict(reference_pipeline=(
        f"open_clip {open_clip.__version__}: image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), "
        f"is_train=False) on PIL images; open_clip.get_tokenizer({name!r}) (SimpleTokenizer); "
        f"model.encode_image / encode_text (normalize=False)"))
    return Prepared(state_dict=model.state_dict(), config=config, source=source,
                    reference=lambda: run_reference(pipe, args.images, images, texts, args.batch_size, args.intermediates),
                    reference_attrs=ref_attrs, write_folder=write_folder)


def _prepare_hf(args, images, texts):
    import transformers
    import zoo_hf
    model, processor, tokenizer = zoo_hf.build(args)
    if args.random_init:
        if args.hf_config:
            what = "CLIPConfig(--hf-config)"
        else:
            from zoo_hf import config_from_open_clip
            what = f"CLIPConfig(open_clip {args.model})" if config_from_open_clip(args.model) else args.model
        source = " ".join([f"random-init seed={args.seed} hf {what}"] + modifiers(args))
    else:
        source = f"hf {args.model}"
    if args.dtype == "float16":
        round_to_float16(model)
    config = zoo_hf.config_attributes(model, processor)
    pipe = zoo_hf.pipeline(model, processor, tokenizer)

    def write_folder():
        zoo_hf.write_folder(model, processor, tokenizer, args.folder_out, args.dtype, args.folder_tokenizer)
        return _files(args.folder_out)
    ref_attrs = dict(
        reference_pipeline=(
            f"transformers {transformers.__version__}: {type(processor).__name__} (the PIL backend; "
            f"AutoImageProcessor would choose the torchvision CLIPImageProcessor); {type(tokenizer).__name__}"
            f"(padding='max_length', truncation=True); CLIPModel.get_image_features / get_text_features "
            f"(.pooler_output, the projected features, not normalised); attention {model.config._attn_implementation}"),
        tokens_padding=(f"zero: the tokenizer pads with its pad token {tokenizer.pad_token_id}; the stored ids have "
                        f"the padding positions (attention_mask 0) set to 0 as OpenAI's; the model read the padded "
                        f"ids and the attention mask"))
    return Prepared(state_dict=model.state_dict(), config=config, source=source,
                    reference=lambda: run_reference(pipe, args.images, images, texts, args.batch_size, args.intermediates),
                    reference_attrs=ref_attrs, write_folder=write_folder)
