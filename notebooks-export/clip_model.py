"""The CLIP models the exporter writes: OpenAI's pretrained ones, or seeded random inits of the same code."""
import urllib.error

import torch

from clip_reference import ExportError

# clip.model.CLIP's __init__ arguments (= build_model's), the names /config uses.
VIT_B32_CONFIG = dict(embed_dim=512, image_resolution=224, vision_layers=12, vision_width=768,
                      vision_patch_size=32, context_length=77, vocab_size=49408,
                      transformer_width=512, transformer_heads=8, transformer_layers=12)
# Same patch size, resolution, context length and vocabulary; widths are multiples of 64 because
# build_model infers heads = width // 64.
TINY_CONFIG = dict(embed_dim=64, image_resolution=224, vision_layers=2, vision_width=64,
                   vision_patch_size=32, context_length=77, vocab_size=49408,
                   transformer_width=64, transformer_heads=1, transformer_layers=2)

# OpenAI's ModifiedResNet CLIPs: build_model's arguments as its checkpoints give them (vision_layers per stage;
# vision_patch_size None; heads are vision_width * 32 // 64).
def _rn(embed_dim, res, layers, width, text_width):
    return dict(embed_dim=embed_dim, image_resolution=res, vision_layers=tuple(layers), vision_width=width,
                vision_patch_size=None, context_length=77, vocab_size=49408, transformer_width=text_width,
                transformer_heads=text_width // 64, transformer_layers=12)


OPENAI_CONFIGS = {
    "ViT-B/32": VIT_B32_CONFIG,
    "RN50": _rn(1024, 224, (3, 4, 6, 3), 64, 512),
    "RN101": _rn(512, 224, (3, 4, 23, 3), 64, 512),
    "RN50x4": _rn(640, 288, (4, 6, 10, 6), 80, 640),
    "RN50x16": _rn(768, 384, (6, 8, 18, 8), 96, 768),
    "RN50x64": _rn(1024, 448, (3, 15, 36, 10), 128, 1024),
}

GAIN_STD = 0.1   # LayerNorm gains (and logit_scale): constant c becomes c + 0.1·N(0,1)
BIAS_STD = 0.05  # zero-initialised parameters (LayerNorm and attention biases): 0.05·N(0,1)


def randomize_constant_parameters(model):
    """Give every parameter that OpenAI's init leaves constant (all elements equal) seeded random values.

    OpenAI's initialize_parameters() and PyTorch's module defaults leave LayerNorm weights at 1, LayerNorm
    and attention biases at 0 and logit_scale at log(1/0.07); a port that ignored any of them would still
    match. Perturbed values keep the same scale, so activations stay O(1) through every layer.
    """
    with torch.no_grad():
        for _, param in model.named_parameters():
            flat = param.reshape(-1)
            if flat.numel() > 1 and not bool((flat == flat[0]).all()):
                continue
            constant = float(flat[0])
            std = GAIN_STD if constant != 0 else BIAS_STD
            param.add_(std * torch.randn_like(param))


def is_resnet(config):
    return isinstance(config["vision_layers"], (tuple, list))


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def build_random_model(seed, tiny, layers=None, overrides=(), arch="ViT-B/32"):
    """clip.model.CLIP(**config) under torch.manual_seed(seed): OpenAI's init, then the constants randomised (and
    for a ResNet its BatchNorms, zoo_common.condition_resnet). layers sets both towers' depth (a ResNet: that
    many Bottlenecks per stage); overrides ([(path, value)], zoo_common.parse_overrides) set CLIP arguments."""
    from clip.model import CLIP
    from zoo_common import condition_resnet
    config = dict(TINY_CONFIG if tiny else OPENAI_CONFIGS[arch])
    resnet = is_resnet(config)
    if layers is not None:
        config["vision_layers"] = (layers,) * 4 if resnet else layers
        config["transformer_layers"] = layers
    for path, value in overrides:
        ok = _integer(value) or (resnet and path == ["vision_layers"] and isinstance(value, list)
                                 and len(value) == 4 and all(_integer(v) and v > 0 for v in value))
        if len(path) != 1 or path[0] not in config or path[0] == "vision_patch_size" and resnet or not ok:
            raise ExportError(f"--override {'.'.join(path)}={value!r}: the openai source takes integer "
                              f"clip.model.CLIP arguments ({', '.join(config)}; a ResNet's vision_layers is a list "
                              f"of 4, e.g. [1,1,1,1])")
        config[path[0]] = tuple(value) if isinstance(value, list) else value
    torch.manual_seed(seed)
    model = CLIP(**config)
    randomize_constant_parameters(model)
    if resnet:
        condition_resnet(model.visual, config["image_resolution"])
    return model.float().eval(), config


def config_attributes(config):
    """/config for clip.model.CLIP's arguments: as they are for a ViT; for a ModifiedResNet vision_layers becomes
    resnet_layers (a list of 4, docs/formats.md), vision_patch_size (None) is left out and vision_heads is written
    (CLIP computes it: vision_width * 32 // 64)."""
    if not is_resnet(config):
        return config
    out = {k: v for k, v in config.items() if k not in ("vision_layers", "vision_patch_size")}
    out["resnet_layers"] = [int(n) for n in config["vision_layers"]]
    out["vision_heads"] = config["vision_width"] * 32 // 64
    return out


def load_pretrained_model(name, download_root):
    """clip.load(name, device="cpu", jit=False): OpenAI's checkpoint, in float32 on CPU."""
    import clip
    try:
        model, _ = clip.load(name, device="cpu", jit=False, download_root=download_root)
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        raise ExportError(
            f"could not download {name!r} ({e}). --model downloads OpenAI's checkpoint from "
            f"openaipublic.azureedge.net on first use (then caches it in ~/.cache/clip or --download-root), "
            f"so it needs internet. Offline: copy the .pt file to this machine and pass its path as --model, "
            f"or use --random-init.") from e
    except RuntimeError as e:
        raise ExportError(f"clip.load({name!r}) failed: {e}") from e
    return model.float().eval()


def model_config(model):
    """The build_model arguments, inferred from the state dict the way clip.model.build_model does."""
    sd = model.state_dict()
    if "visual.layer1.0.conv1.weight" in sd:
        width = sd["ln_final.weight"].shape[0]
        return dict(
            embed_dim=sd["text_projection"].shape[1],
            image_resolution=round((sd["visual.attnpool.positional_embedding"].shape[0] - 1) ** 0.5) * 32,
            vision_layers=tuple(len({k.split(".")[2] for k in sd if k.startswith(f"visual.layer{b}")}) for b in (1, 2, 3, 4)),
            vision_width=sd["visual.layer1.0.conv1.weight"].shape[0], vision_patch_size=None,
            context_length=sd["positional_embedding"].shape[0], vocab_size=sd["token_embedding.weight"].shape[0],
            transformer_width=width, transformer_heads=width // 64,
            transformer_layers=len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks")}))
    conv1 = sd["visual.conv1.weight"]  # [vision_width, 3, patch, patch]
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    width = sd["ln_final.weight"].shape[0]
    return dict(
        embed_dim=sd["text_projection"].shape[1],
        image_resolution=conv1.shape[-1] * grid,
        vision_layers=len([k for k in sd if k.startswith("visual.") and k.endswith(".attn.in_proj_weight")]),
        vision_width=conv1.shape[0],
        vision_patch_size=conv1.shape[-1],
        context_length=sd["positional_embedding"].shape[0],
        vocab_size=sd["token_embedding.weight"].shape[0],
        transformer_width=width,
        transformer_heads=width // 64,
        transformer_layers=len({k.split(".")[2] for k in sd if k.startswith("transformer.resblocks")}),
    )
