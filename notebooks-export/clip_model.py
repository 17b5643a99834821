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


def build_random_model(seed, tiny, layers=None, overrides=()):
    """clip.model.CLIP(**config) under torch.manual_seed(seed): OpenAI's init, then the constants randomised.
    layers sets both towers' depth; overrides ([(path, value)], zoo_common.parse_overrides) set CLIP arguments."""
    from clip.model import CLIP
    config = dict(TINY_CONFIG if tiny else VIT_B32_CONFIG)
    if layers is not None:
        config["vision_layers"] = config["transformer_layers"] = layers
    for path, value in overrides:
        if len(path) != 1 or path[0] not in config or not isinstance(value, int) or isinstance(value, bool):
            raise ExportError(f"--override {'.'.join(path)}={value!r}: the openai source takes integer "
                              f"clip.model.CLIP arguments ({', '.join(config)})")
        config[path[0]] = value
    torch.manual_seed(seed)
    model = CLIP(**config)
    randomize_constant_parameters(model)
    return model.float().eval(), config


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
    if not hasattr(model.visual, "conv1") or not hasattr(model.visual, "proj"):
        raise ExportError(f"{name!r} is a ResNet CLIP; clip-hdf5 v1 holds ViT models only (e.g. ViT-B/32)")
    return model.float().eval()


def model_config(model):
    """The build_model arguments, inferred from the state dict the way clip.model.build_model does."""
    sd = model.state_dict()
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
