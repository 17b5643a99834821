"""open_clip models (open_clip_torch): a built-in config name with --random-init, or pretrained weights (a tag,
`hf-hub:org/repo`, `local-dir:DIR`); their preprocessing, tokenizer and encoders; the hub folder layout."""
import copy
import dataclasses
import json
import logging

import numpy as np
import torch
from torch import nn
from open_clip.modified_resnet import ModifiedResNet

from clip_reference import ExportError
from zoo_common import (Pipeline, check_equal_state_dicts, parse_overrides, condition_resnet, randomize_constant_tensors,
                        set_path)

# Config fields that change what the towers compute in ways /config cannot describe: they must keep the value
# open_clip's dataclasses give them (SigLIP, CLIPA, CoCa, timm and HF-text towers, custom blocks).
VISION_DEFAULTS = ("timm_model_name", "attentional_pool", "no_ln_pre", "final_ln_after_pool", "pool_type",
                   "act_kwargs", "block_type", "qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner",
                   "scale_attn", "scale_fc")
TEXT_DEFAULTS = ("hf_model_name", "hf_tokenizer_name", "tokenizer_mode", "tokenizer_kwargs", "embed_cls",
                 "no_causal_mask", "final_ln_after_pool", "pool_type", "proj_bias", "proj_type", "act_kwargs",
                 "block_type", "qk_norm", "scaled_cosine_attn", "scale_heads", "scale_attn_inner", "scale_attn",
                 "scale_fc")
TOP_LEVEL = ("embed_dim", "quick_gelu", "vision_cfg", "text_cfg")


def _cfg_classes():
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg
    from open_clip.transform import PreprocessCfg
    return CLIPVisionCfg, CLIPTextCfg, PreprocessCfg


def resolve_config(name, layers, overrides):
    """open_clip's model_cfg for a built-in name, with --layers and --override applied and checked."""
    import open_clip
    cfg = open_clip.get_model_config(name.replace("/", "-"))
    if cfg is None:
        raise ExportError(f"{name!r} is not an open_clip model config; choose one of open_clip.list_models(), "
                          f"e.g. ViT-B-32, ViT-H-14, ViT-M-16-alt, ViT-B-16-plus-240")
    vision_cls, text_cls, pp_cls = _cfg_classes()
    fields = {"vision_cfg": {f.name for f in dataclasses.fields(vision_cls)},
              "text_cfg": {f.name for f in dataclasses.fields(text_cls)},
              "preprocess_cfg": {f.name for f in dataclasses.fields(pp_cls)} - {"size", "mode"}}
    if layers is not None:
        resnet = isinstance(cfg["vision_cfg"].get("layers"), (list, tuple))
        cfg["vision_cfg"]["layers"] = [layers] * 4 if resnet else layers  # a ResNet: Bottlenecks per stage
        cfg["text_cfg"]["layers"] = layers
    preprocess = {}
    for path, value in parse_overrides(overrides):
        key = ".".join(path)
        section = path[0]
        if section in fields:
            if len(path) != 2 or path[1] not in fields[section]:
                raise ExportError(f"--override {key}: not a field of open_clip's {section} "
                                  f"(fields: {', '.join(sorted(fields[section]))})")
            if section == "preprocess_cfg":
                preprocess[path[1]] = value
            else:
                set_path(cfg, path, value, "the model config")
        elif len(path) == 1 and path[0] in ("embed_dim", "quick_gelu"):
            cfg[path[0]] = value
        else:
            raise ExportError(f"--override {key}: open_clip overrides are embed_dim, quick_gelu, "
                              f"vision_cfg.FIELD, text_cfg.FIELD or preprocess_cfg.FIELD")
    return cfg, preprocess


def check_supported(cfg):
    """Refuse configs whose towers are not the OpenAI-style ViT + text transformer clip-hdf5 describes."""
    vision_cls, text_cls, _ = _cfg_classes()
    extra = sorted(set(cfg) - set(TOP_LEVEL) - {"custom_text"})
    if extra or cfg.get("custom_text"):
        raise ExportError(f"model config has {extra or ['custom_text']}: not a native open_clip CLIP (SigLIP's "
                          f"logit_bias, CoCa's multimodal_cfg and custom text towers are not clip-hdf5 models)")
    vision, text = vision_cls(**cfg["vision_cfg"]), text_cls(**cfg["text_cfg"])
    if isinstance(vision.layers, (list, tuple)) and (len(vision.layers) != 4 or vision.head_width != 64):
        raise ExportError(f"a ModifiedResNet has 4 stages and head_width 64 (vision_cfg.layers {vision.layers}, "
                          f"head_width {vision.head_width})")
    for what, obj, cls, names in (("vision_cfg", vision, vision_cls, VISION_DEFAULTS),
                                  ("text_cfg", text, text_cls, TEXT_DEFAULTS)):
        default = cls()
        for field in names:
            if getattr(obj, field) != getattr(default, field):
                raise ExportError(f"{what}.{field} = {getattr(obj, field)!r} is not supported: clip-hdf5 "
                                  f"describes OpenAI-style towers (default {getattr(default, field)!r})")
    for what, obj in (("vision_cfg", vision), ("text_cfg", text)):
        if obj.norm_kwargs and set(obj.norm_kwargs) != {"eps"}:
            raise ExportError(f"{what}.norm_kwargs {obj.norm_kwargs}: only eps is supported")
    if not isinstance(vision.layers, (list, tuple)) and vision.width % vision.head_width:
        raise ExportError(f"vision width {vision.width} is not a multiple of head_width {vision.head_width}")
    if text.width % text.heads:
        raise ExportError(f"text width {text.width} is not a multiple of heads {text.heads}")


def build_random(name, seed, layers, overrides):
    """open_clip.create_model(name, pretrained=None) with the overridden config, seeded; constants randomised."""
    import open_clip
    cfg, preprocess = resolve_config(name, layers, overrides)
    check_supported(cfg)
    torch.manual_seed(seed)
    logging.getLogger().setLevel(logging.ERROR)  # "No pretrained weights loaded ... initialized randomly"
    try:
        model = open_clip.create_model(name.replace("/", "-"), pretrained=None, force_preprocess_cfg=preprocess,
                                       **{k: cfg[k] for k in TOP_LEVEL if k in cfg})
    except (AssertionError, ValueError, TypeError, RuntimeError) as e:
        raise ExportError(f"open_clip refused the configuration: {e!r}") from e
    randomize_constant_tensors(model)
    if isinstance(model.visual, ModifiedResNet):
        condition_resnet(model.visual, model.visual.image_size)
    return model.float().eval(), cfg


def load_pretrained(name, pretrained, cache_dir):
    """create_model(name, pretrained) for a tag or file; `hf-hub:`/`local-dir:` names carry their own config."""
    import open_clip
    from open_clip.factory import get_model_config
    hint = ("Tags and hf-hub: names download from the Hugging Face hub (needs internet); local-dir:DIR and a "
            "checkpoint file path work offline.")
    try:
        cfg = copy.deepcopy(get_model_config(name.replace("/", "-") if ":" not in name else name))
        if cfg is None:
            raise ExportError(f"{name!r} is not an open_clip model config name")
        check_supported(cfg)
        model = open_clip.create_model(name, pretrained=pretrained, cache_dir=cache_dir, require_pretrained=True)
    except (RuntimeError, OSError, ValueError) as e:
        raise ExportError(f"open_clip could not load {name!r} (pretrained={pretrained!r}): {e}. {hint}") from e
    return model.float().eval(), cfg


def _activation(block):
    act = block.mlp.gelu
    if isinstance(act, nn.GELU) and act.approximate == "none":
        return "gelu"
    if type(act).__name__ == "QuickGELU":
        return "quick_gelu"
    raise ExportError(f"activation {act!r} is neither exact GELU nor QuickGELU")


def _preprocess_attributes(pp):
    if pp["interpolation"] not in ("bicubic", "bilinear") or pp["resize_mode"] not in ("shortest", "squash", "longest"):
        raise ExportError(f"preprocess_cfg {pp} is not describable (interpolation bicubic/bilinear; resize_mode "
                          f"shortest/squash/longest)")
    fill = pp.get("fill_color", 0)
    if not isinstance(fill, int) or not 0 <= fill <= 255:
        raise ExportError(f"fill_color {fill!r} must be one grey level 0..255")
    return dict(image_mean=[float(x) for x in pp["mean"]], image_std=[float(x) for x in pp["std"]],
                interpolation=pp["interpolation"], resize_mode=pp["resize_mode"], preprocess="openai", fill_color=fill)


def resnet_config_attributes(model):
    """/config for an open_clip ModifiedResNet CLIP (docs/formats.md: resnet_layers, vision_width, vision_heads)."""
    visual, tblock = model.visual, model.transformer.resblocks[0]
    eps = {m.eps for m in model.modules() if isinstance(m, nn.LayerNorm)}
    if len(eps) != 1:
        raise ExportError(f"LayerNorms use different eps values {sorted(eps)}; /config holds one")
    return dict(
        embed_dim=visual.output_dim, image_resolution=visual.image_size,
        resnet_layers=[len(getattr(visual, f"layer{s}")) for s in (1, 2, 3, 4)], vision_width=visual.conv3.out_channels,
        vision_heads=visual.attnpool.num_heads, context_length=model.context_length, vocab_size=model.vocab_size,
        transformer_width=model.transformer.width, transformer_heads=tblock.attn.num_heads,
        transformer_layers=len(model.transformer.resblocks), text_activation=_activation(tblock),
        layer_norm_eps=float(eps.pop()), tokenizer="open_clip", **_preprocess_attributes(visual.preprocess_cfg))


def config_attributes(model):
    """/config for the model open_clip built, read from the modules themselves (heads, activation, ε)."""
    if isinstance(model.visual, ModifiedResNet):
        return resnet_config_attributes(model)
    visual, vblock, tblock = model.visual, model.visual.transformer.resblocks[0], model.transformer.resblocks[0]
    h, w = visual.image_size
    if h != w or visual.patch_size[0] != visual.patch_size[1]:
        raise ExportError(f"image size {visual.image_size} / patch {visual.patch_size} is not square")
    eps = {m.eps for m in model.modules() if isinstance(m, nn.LayerNorm)}
    if len(eps) != 1:
        raise ExportError(f"LayerNorms use different eps values {sorted(eps)}; /config holds one")
    act = {_activation(vblock), _activation(tblock)}
    pp = visual.preprocess_cfg
    if pp["interpolation"] not in ("bicubic", "bilinear") or pp["resize_mode"] not in ("shortest", "squash", "longest"):
        raise ExportError(f"preprocess_cfg {pp} is not describable (interpolation bicubic/bilinear; resize_mode "
                          f"shortest/squash/longest)")
    fill = pp.get("fill_color", 0)
    if not isinstance(fill, int) or not 0 <= fill <= 255:
        raise ExportError(f"fill_color {fill!r} must be one grey level 0..255")
    attrs = dict(
        embed_dim=visual.output_dim, image_resolution=h, vision_layers=len(visual.transformer.resblocks),
        vision_width=visual.conv1.out_channels, vision_patch_size=visual.patch_size[0],
        context_length=model.context_length, vocab_size=model.vocab_size,
        transformer_width=model.transformer.width, transformer_heads=tblock.attn.num_heads,
        transformer_layers=len(model.transformer.resblocks), vision_heads=vblock.attn.num_heads,
        activation=act.pop() if len(act) == 1 else None,
        image_mean=[float(x) for x in pp["mean"]], image_std=[float(x) for x in pp["std"]],
        interpolation=pp["interpolation"], resize_mode=pp["resize_mode"], preprocess="openai",
        layer_norm_eps=float(eps.pop()), tokenizer="open_clip", fill_color=fill)
    if attrs["activation"] is None:
        attrs["activation"] = _activation(vblock)
        attrs["vision_activation"], attrs["text_activation"] = _activation(vblock), _activation(tblock)
    return attrs


def _image_size(visual):
    return visual.image_size if isinstance(visual.image_size, int) else visual.image_size[0]


def pipeline(model, name):
    """open_clip's own preprocess (image_transform_v2 of the model's preprocess_cfg), tokenizer and encoders."""
    import open_clip
    from open_clip.tokenizer import SimpleTokenizer
    from open_clip.transform import PreprocessCfg, image_transform_v2
    preprocess = image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), is_train=False)
    tokenizer = open_clip.get_tokenizer(name)
    if type(tokenizer) is not SimpleTokenizer or tokenizer.reduction_fn is not None \
            or tokenizer.clean_fn.__name__ != "_clean_lower" or len(tokenizer.all_special_ids) != 2:
        raise ExportError(f"{name}: open_clip tokenizer {type(tokenizer).__name__} is not the plain SimpleTokenizer")

    def tokenize(texts):
        ids = tokenizer(texts, context_length=model.context_length)
        return ids.numpy().astype(np.int32), ids
    return Pipeline(
        preprocess=lambda im: preprocess(im).numpy(), tokenize=tokenize,
        encode_image=lambda x: model.encode_image(x, normalize=False),
        encode_text=lambda t: model.encode_text(t, normalize=False),
        resolution=_image_size(model.visual), context_length=model.context_length,
        embed_dim=model.visual.output_dim, model=model)


def write_hub_folder(model, model_cfg, folder, dtype, tokenizer_dir=None):
    """The layout open_clip's push_to_hf_hub uploads: open_clip.push_to_hf_hub.save_for_hf when a tokenizer is
    wanted (it also saves the tokenizer), else its two other steps: safetensors of the state dict under
    HF_SAFE_WEIGHTS_NAME and save_config_for_hf's open_clip_config.json ({"model_cfg", "preprocess_cfg"})."""
    from pathlib import Path
    import safetensors.torch
    from open_clip.constants import HF_CONFIG_NAME, HF_SAFE_WEIGHTS_NAME
    from open_clip.push_to_hf_hub import save_config_for_hf, save_for_hf
    from open_clip.tokenizer import HFTokenizer
    stored = copy.deepcopy(model).to(torch.float16 if dtype == "float16" else torch.float32)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    if stored.visual.preprocess_cfg.get("fill_color", 0) != 0:
        raise ExportError("open_clip's save_config_for_hf does not write fill_color: a hub folder of this model "
                          "would load with fill_color 0; export the folder from a model with the default fill")
    if tokenizer_dir:
        save_for_hf(stored, HFTokenizer(tokenizer_dir), model_cfg, path, safe_serialization=True)
    else:
        safetensors.torch.save_file(stored.state_dict(), path / HF_SAFE_WEIGHTS_NAME)
        save_config_for_hf(stored, path / HF_CONFIG_NAME, model_config=model_cfg)
    verify_hub_folder(stored, folder)
    with open(path / HF_CONFIG_NAME, encoding="utf-8") as f:
        return json.load(f)


def verify_hub_folder(stored, folder):
    """Read the folder back the way users do, open_clip.create_model_and_transforms('local-dir:DIR'): the same
    tensors and the same preprocessing must come out."""
    import open_clip
    back, _, _ = open_clip.create_model_and_transforms("local-dir:" + str(folder))
    check_equal_state_dicts(stored.state_dict(), back.state_dict(), f"{folder} (open_clip local-dir:)")
    plain = lambda cfg: {k: list(v) if isinstance(v, (tuple, list)) else v for k, v in cfg.items()}
    ours, theirs = plain(stored.visual.preprocess_cfg), plain(back.visual.preprocess_cfg)
    lost = {k: (ours[k], theirs.get(k)) for k in ours if ours[k] != theirs.get(k)}
    if lost:
        raise ExportError(f"{folder}: open_clip reads the preprocessing back differently {lost} (open_clip's "
                          f"save_config_for_hf writes mean, std, interpolation and resize_mode only, not fill_color)")
