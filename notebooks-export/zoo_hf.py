"""Hugging Face transformers CLIPModel: a hub id or local folder (pretrained), or CLIPModel(CLIPConfig(...)) with
--random-init; CLIPImageProcessorPil (the PIL backend), CLIPTokenizer and get_image/text_features."""
import gzip
import json
import os
import tempfile

import numpy as np
import torch

from clip_reference import ExportError
from zoo_common import Pipeline, check_equal_state_dicts, parse_overrides, randomize_constant_tensors, set_path

ACTIVATIONS = {"gelu": "gelu", "quick_gelu": "quick_gelu"}  # HF hidden_act → /config activation
RESAMPLE = {2: "bilinear", 3: "bicubic"}                    # PIL filter numbers CLIPImageProcessor uses


def write_clip_bpe_vocab(folder):
    """vocab.json + merges.txt for CLIPTokenizer, from the BPE merges shipped with OpenAI's clip package, with
    ids as clip/simple_tokenizer.py assigns them: 256 byte symbols, the same with </w>, one per merge, then
    <|startoftext|> 49406 and <|endoftext|> 49407."""
    import clip
    from clip.simple_tokenizer import bytes_to_unicode
    path = os.path.join(os.path.dirname(clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    merges = gzip.open(path).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
    symbols = list(bytes_to_unicode().values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({token: i for i, token in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")


def offline_tokenizer():
    from transformers import CLIPTokenizer
    with tempfile.TemporaryDirectory() as tmp:
        write_clip_bpe_vocab(tmp)
        return CLIPTokenizer.from_pretrained(tmp)


def config_from_open_clip(name):
    """A CLIPConfig with the sizes of an open_clip built-in config (how LAION's HF conversions are laid out)."""
    import open_clip
    from transformers import CLIPConfig
    cfg = open_clip.get_model_config(name.replace("/", "-"))
    if cfg is None:
        return None
    v, t = cfg["vision_cfg"], cfg["text_cfg"]
    if isinstance(v.get("layers"), (list, tuple)) or "timm_model_name" in v or "hf_model_name" in t:
        raise ExportError(f"{name}: only ViT + text-transformer configs have a CLIPModel equivalent")
    act = "quick_gelu" if cfg.get("quick_gelu") else "gelu"
    vw, tw = v.get("width", 768), t.get("width", 512)
    return CLIPConfig(
        projection_dim=cfg["embed_dim"],
        vision_config=dict(hidden_size=vw, intermediate_size=int(vw * v.get("mlp_ratio", 4.0)),
                           num_attention_heads=vw // v.get("head_width", 64), num_hidden_layers=v.get("layers", 12),
                           image_size=v.get("image_size", 224), patch_size=v.get("patch_size", 16), hidden_act=act),
        text_config=dict(hidden_size=tw, intermediate_size=int(tw * t.get("mlp_ratio", 4.0)),
                         num_attention_heads=t.get("heads", 8), num_hidden_layers=t.get("layers", 12),
                         max_position_embeddings=t.get("context_length", 77), vocab_size=t.get("vocab_size", 49408),
                         hidden_act=act))


def resolve_config(model, hf_config):
    from transformers import CLIPConfig
    if hf_config:
        text = open(hf_config, encoding="utf-8").read() if os.path.isfile(hf_config) else hf_config
        try:
            return CLIPConfig(**json.loads(text))
        except ValueError as e:
            raise ExportError(f"--hf-config is neither a JSON file nor JSON text: {e}") from e
    derived = config_from_open_clip(model)
    if derived is not None:
        return derived
    try:
        return CLIPConfig.from_pretrained(model)
    except OSError as e:
        raise ExportError(f"{model!r} is no open_clip config name, no folder with config.json, and its hub "
                          f"config could not be fetched ({e}); pass --hf-config JSON for offline sizes") from e


def apply_overrides(config, layers, overrides):
    """--layers and --override on the CLIPConfig (vision_config.X, text_config.X, projection_dim, ...); returns
    the image processor's settings: crop and shortest edge = the model's image_size, then image_processor.X."""
    from transformers import CLIPImageProcessorPil
    if layers is not None:
        config.vision_config.num_hidden_layers = layers
        config.text_config.num_hidden_layers = layers
    proc = []
    for path, value in parse_overrides(overrides):
        key = ".".join(path)
        if path[0] == "image_processor" and len(path) >= 2:
            proc.append((path[1:], value))
            continue
        target = config
        if path[0] in ("vision_config", "text_config") and len(path) == 2:
            target, path = getattr(config, path[0]), path[1:]
        if len(path) != 1 or not hasattr(target, path[0]) or path[0].startswith("_"):
            raise ExportError(f"--override {key}: not a CLIPConfig field (vision_config.X, text_config.X, "
                              f"projection_dim, ...) nor image_processor.X")
        setattr(target, path[0], value)
    res = config.vision_config.image_size
    settings = dict(size={"shortest_edge": res}, crop_size={"height": res, "width": res})
    known = CLIPImageProcessorPil().to_dict()
    for path, value in proc:
        if path[0] not in known:
            raise ExportError(f"--override image_processor.{'.'.join(path)}: CLIPImageProcessorPil has no "
                              f"{path[0]!r} (it has {', '.join(sorted(known))})")
        if len(path) == 1:
            settings[path[0]] = value
        else:
            settings.setdefault(path[0], dict(known[path[0]]))
            set_path(settings, path, value, "the image processor")
    return settings


def build(args):
    """(model, image processor, tokenizer): pretrained from a hub id/folder, or random-init from a config."""
    from transformers import CLIPImageProcessorPil, CLIPModel, CLIPTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    if args.random_init:
        config = resolve_config(args.model, args.hf_config)
        settings = apply_overrides(config, args.layers, args.override)
        for sub in (config.vision_config, config.text_config):  # read by the *WithProjection classes only
            sub.projection_dim = config.projection_dim
        try:
            processor = CLIPImageProcessorPil(**settings)
            torch.manual_seed(args.seed)
            model = CLIPModel(config)
        except (ValueError, TypeError) as e:
            raise ExportError(f"transformers refused the configuration: {e}") from e
        randomize_constant_tensors(model)
        return model.float().eval(), processor, offline_tokenizer()
    if args.layers is not None or args.override or args.hf_config:
        raise ExportError("--layers/--override/--hf-config change an architecture: use them with --random-init")
    try:
        model = CLIPModel.from_pretrained(args.model, dtype=torch.float32, cache_dir=args.download_root)
        processor = CLIPImageProcessorPil.from_pretrained(args.model, cache_dir=args.download_root)
        tokenizer = _pretrained_tokenizer(args.model, args.download_root)
    except OSError as e:
        raise ExportError(f"could not load {args.model!r} with transformers ({e}). A hub id downloads from "
                          f"huggingface.co (needs internet); a local folder from save_pretrained works offline.") from e
    return model.float().eval(), processor, tokenizer


def _pretrained_tokenizer(model, cache_dir):
    """The checkpoint's CLIPTokenizer; a local folder saved without tokenizer files gets the offline one."""
    import sys
    from transformers import CLIPTokenizer
    if os.path.isdir(model) and not any(os.path.exists(os.path.join(model, n))
                                        for n in ("tokenizer.json", "vocab.json", "tokenizer_config.json")):
        print(f"note: {model} has no tokenizer files; using CLIPTokenizer on clip's bpe_simple_vocab_16e6 "
              f"(OpenAI CLIP's vocabulary)", file=sys.stderr)
        return offline_tokenizer()
    return CLIPTokenizer.from_pretrained(model, cache_dir=cache_dir)


def config_attributes(model, processor):
    v, t = model.config.vision_config, model.config.text_config
    acts = {}
    for what, cfg in (("vision", v), ("text", t)):
        if cfg.hidden_act not in ACTIVATIONS:
            raise ExportError(f"{what}_config.hidden_act {cfg.hidden_act!r}: clip-hdf5 knows gelu and quick_gelu")
        acts[what] = ACTIVATIONS[cfg.hidden_act]
        if cfg.hidden_size % cfg.num_attention_heads:
            raise ExportError(f"{what}_config.hidden_size {cfg.hidden_size} is not a multiple of "
                              f"num_attention_heads {cfg.num_attention_heads}")
    if v.layer_norm_eps != t.layer_norm_eps:
        raise ExportError(f"the towers' layer_norm_eps differ ({v.layer_norm_eps}, {t.layer_norm_eps})")
    p = processor.to_dict()  # size and crop_size as plain dicts (the attributes are SizeDicts)
    res = v.image_size
    problems = [name for name in ("do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb")
                if not p.get(name)]
    if set(p["size"]) != {"shortest_edge"}:
        problems.append(f"size {p['size']} (only shortest_edge is describable)")
    if p["crop_size"] != {"height": res, "width": res}:
        problems.append(f"crop_size {p['crop_size']} (must be the model's {res}×{res})")
    if abs(p["rescale_factor"] - 1 / 255) > 1e-12 or int(p["resample"]) not in RESAMPLE or p.get("do_pad"):
        problems.append(f"rescale_factor {p['rescale_factor']} / resample {p['resample']} / do_pad")
    if problems:
        raise ExportError("image processor settings clip-hdf5 cannot describe: " + "; ".join(problems))
    attrs = dict(
        embed_dim=model.config.projection_dim, image_resolution=res, vision_layers=v.num_hidden_layers,
        vision_width=v.hidden_size, vision_patch_size=v.patch_size, context_length=t.max_position_embeddings,
        vocab_size=t.vocab_size, transformer_width=t.hidden_size, transformer_heads=t.num_attention_heads,
        transformer_layers=t.num_hidden_layers, vision_heads=v.num_attention_heads, activation=acts["vision"],
        image_mean=[float(x) for x in p["image_mean"]], image_std=[float(x) for x in p["image_std"]],
        interpolation=RESAMPLE[int(p["resample"])], resize_mode="shortest", preprocess="hf",
        layer_norm_eps=float(v.layer_norm_eps), tokenizer="hf", fill_color=0,
        resize_size=p["size"]["shortest_edge"])
    if acts["vision"] != acts["text"]:
        attrs["vision_activation"], attrs["text_activation"] = acts["vision"], acts["text"]
    return attrs


def pipeline(model, processor, tokenizer):
    """HF's own pipeline. Tokens are padded to max_length with the pad token (49407, = end token); the stored
    copy has those padding positions (attention_mask 0) set to 0 as OpenAI's are; the model reads HF's."""
    ctx = model.config.text_config.max_position_embeddings

    def tokenize(texts):
        enc = tokenizer(texts, padding="max_length", max_length=ctx, truncation=True, return_tensors="pt")
        ids, mask = enc["input_ids"], enc["attention_mask"]
        return (ids * mask).numpy().astype(np.int32), torch.stack([ids, mask], dim=1)
    return Pipeline(
        preprocess=lambda im: processor(images=im, return_tensors="np")["pixel_values"][0],
        tokenize=tokenize,
        encode_image=lambda x: model.get_image_features(pixel_values=x).pooler_output,
        encode_text=lambda t: model.get_text_features(input_ids=t[:, 0], attention_mask=t[:, 1]).pooler_output,
        resolution=model.config.vision_config.image_size, context_length=ctx,
        embed_dim=model.config.projection_dim, model=model)


def write_folder(model, processor, tokenizer, folder, dtype, with_tokenizer):
    """save_pretrained of the model (model.safetensors + config.json, in the h5's dtype), of the image processor
    (preprocessor_config.json) and, when asked, of the tokenizer; then read back and compared."""
    import copy
    from transformers import CLIPImageProcessorPil, CLIPModel
    stored = copy.deepcopy(model).to(torch.float16 if dtype == "float16" else torch.float32)
    stored.save_pretrained(folder)
    processor.save_pretrained(folder)
    if with_tokenizer:
        tokenizer.save_pretrained(folder)
    back = CLIPModel.from_pretrained(folder, dtype=stored.dtype)
    check_equal_state_dicts(stored.state_dict(), back.state_dict(), f"{folder} (CLIPModel.from_pretrained)")
    if CLIPImageProcessorPil.from_pretrained(folder).to_dict() != processor.to_dict():
        raise ExportError(f"{folder}: preprocessor_config.json does not read back as the processor used")
