"""What the open_clip and Hugging Face exporters share: --override parsing, the random-init rule for constant
tensors, float16 rounding, and a reference run driven by the library's own preprocess/tokenize/encode callables."""
import json
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from clip_reference import ExportError

GAIN_STD = 0.1        # LayerNorm gains, logit_scale: constant c becomes c + 0.1·N(0,1) (as clip_model.py does)
BIAS_STD = 0.05       # zero-initialised tensors (all biases): 0.05·N(0,1)
LAYER_SCALE_STD = 0.5  # LayerScale gammas: c becomes c·(1 + 0.5·N(0,1)), so every channel has its own scale
RESIDUAL_GAIN = 0.25   # ModifiedResNet Bottleneck bn3 gains (randomize_batchnorm)
ZOO_PACKAGES = ("open_clip_torch", "transformers", "tokenizers", "safetensors", "huggingface_hub")


def parse_overrides(items):
    """`key.path=value` strings → [(['key', 'path'], value)]. The value is JSON when it parses (3, 0.1, true,
    [0.5, 0.5, 0.5], "x"), else the text itself (squash, gelu)."""
    out = []
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise ExportError(f"--override {item!r}: write KEY=VALUE, e.g. vision_cfg.width=64")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out.append((key.split("."), value))
    return out


def set_path(target, path, value, what):
    """target[path[0]][path[1]]… = value; every dict on the way must exist (a typo is an error, not a new key)."""
    node = target
    for i, part in enumerate(path[:-1]):
        if not isinstance(node.get(part), dict):
            raise ExportError(f"--override {'.'.join(path)}: {what} has no section {'.'.join(path[:i + 1])!r}")
        node = node[part]
    node[path[-1]] = value


def randomize_constant_tensors(model):
    """Seeded random values for every parameter the library's init leaves constant (all elements equal).

    Inits leave LayerNorm gains at 1, biases at 0, logit_scale at log(1/0.07) and LayerScale gammas at
    ls_init_value; a port that ignored any of them would still match. The perturbed values keep each
    tensor's scale, so activations stay O(1). Order: named_parameters(), after the library's own init."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            flat = param.reshape(-1)
            if flat.numel() > 1 and not bool((flat == flat[0]).all()):
                continue
            c = float(flat[0])
            if name.endswith(".gamma") and c != 0:
                param.mul_(1 + LAYER_SCALE_STD * torch.randn_like(param))
            else:
                param.add_((GAIN_STD if c != 0 else BIAS_STD) * torch.randn_like(param))


def randomize_batchnorm(visual, resolution, images=4):
    """A ModifiedResNet's BatchNorm2d layers (openai/CLIP and open_clip alike), seeded by the caller's torch RNG.

    Gains become 1 + 0.1·N, except each Bottleneck's bn3 (both libraries' inits zero it, so every block starts as
    the identity): 0.25·(1 + 0.1·N). Zero would switch the residual branches off; a full gain makes the random
    tower chaotic (float16 rounding alone then moves PyTorch's own RN50 image embeddings to cosine 0.984; with
    0.25, 0.99996). Biases become 0.05·N. The running statistics come from the tower's own train-mode pass over
    smooth noise pixels of std 1 (cumulative averages), so activations stay O(1) through every stage, and are then perturbed
    per channel: mean + 0.1·σ·N, var·exp(0.2·N) (always positive). A port that ignored or mixed up any of the
    four tensors of any layer then gives different embeddings."""
    norms = [m for m in visual.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for name, bn in visual.named_modules():
            if not isinstance(bn, torch.nn.BatchNorm2d):
                continue
            residual = name.startswith("layer") and name.endswith(".bn3")  # a Bottleneck's last BatchNorm
            bn.weight.copy_((RESIDUAL_GAIN if residual else 1) * (1 + GAIN_STD * torch.randn_like(bn.weight)))
            bn.bias.copy_(BIAS_STD * torch.randn_like(bn.bias))
            bn.reset_running_stats()
            bn.momentum = None
        visual.train()
        # photo-like input: N(0,1) at 1/8 resolution, upsampled bilinearly, scaled to std 1 (white noise at full resolution has
        # far smaller activations in every stage than real photos: 1.2 vs 150 after layer4 in rn-tiny)
        coarse = torch.randn(images, 3, max(1, resolution // 8), max(1, resolution // 8))
        smooth = torch.nn.functional.interpolate(coarse, size=(resolution, resolution), mode="bilinear", align_corners=False)
        visual(smooth / smooth.std())
        visual.eval()
        for bn in norms:
            bn.momentum = 0.1
            bn.running_mean.add_(0.1 * bn.running_var.sqrt() * torch.randn_like(bn.running_mean))
            bn.running_var.mul_(torch.exp(0.2 * torch.randn_like(bn.running_var)))


def round_to_float16(model):
    """Round every floating tensor to float16 and keep computing in float32 (the stored weights, exactly)."""
    with torch.no_grad():
        for tensor in list(model.parameters()) + list(model.buffers()):
            if tensor.is_floating_point():
                tensor.copy_(tensor.half().float())


@dataclass
class Pipeline:
    """One library's own reference pipeline. preprocess: PIL image → float32 [3, H, W]; tokenize: texts →
    (ids to store, zero-padded int array [M, C]; ids the model reads); encoders take a batch, return [B, D]."""
    preprocess: Callable
    tokenize: Callable
    encode_image: Callable
    encode_text: Callable
    resolution: int
    context_length: int
    embed_dim: int
    model: object = None      # the torch module, for --intermediates' hooks


def run_reference(pipe, folder, image_names, texts, batch_size, intermediates=0):
    """Pixels, tokens and (unnormalised) embeddings as the library computes them, float32 on CPU; with
    `intermediates` K, every named stage's output for the first K images and texts (intermediates.py)."""
    from PIL import Image, UnidentifiedImageError
    res = pipe.resolution
    pixels = np.empty((len(image_names), 3, res, res), dtype=np.float32)
    for i, name in enumerate(image_names):
        path = os.path.join(folder, name)
        try:
            with Image.open(path) as im:
                pixels[i] = pipe.preprocess(im)
        except (OSError, UnidentifiedImageError) as e:
            raise ExportError(f"cannot decode image {path!r}: {e}; remove it from the folder") from e
    if texts:
        stored, model_tokens = pipe.tokenize(texts)
    else:
        stored, model_tokens = np.zeros((0, pipe.context_length), dtype=np.int32), None
    image_embeddings = np.zeros((len(image_names), pipe.embed_dim), dtype=np.float32)
    text_embeddings = np.zeros((len(texts), pipe.embed_dim), dtype=np.float32)
    with torch.no_grad():
        for s in range(0, len(image_names), batch_size):
            batch = torch.from_numpy(pixels[s:s + batch_size])
            image_embeddings[s:s + batch_size] = pipe.encode_image(batch).float().numpy()
        for s in range(0, len(texts), batch_size):
            text_embeddings[s:s + batch_size] = pipe.encode_text(model_tokens[s:s + batch_size]).float().numpy()
    ref = dict(image_names=list(image_names), pixels=pixels, image_embeddings=image_embeddings,
               texts=list(texts), tokens=np.asarray(stored, dtype=np.int32), text_embeddings=text_embeddings)
    if intermediates:
        ref.update(capture_intermediates(pipe.model, pipe.encode_image, pipe.encode_text, pixels, model_tokens,
                                         ref["tokens"], intermediates))
    return ref


def capture_intermediates(model, encode_image, encode_text, pixels, model_tokens, stored_tokens, k):
    """The reference's `intermediates_images` / `intermediates_texts`: [(stage, [K, ...])] of the first K items."""
    import intermediates
    out = dict(intermediates_images=[], intermediates_texts=[])
    if len(pixels):
        out["intermediates_images"] = intermediates.image_stages(model, encode_image, pixels[:k])
    if len(stored_tokens):
        out["intermediates_texts"] = intermediates.text_stages(model, encode_text, model_tokens[:k], stored_tokens[:k])
    return out


def check_equal_state_dicts(expected, actual, what):
    """The folder a library wrote, read back by the same library, must hold exactly the exported tensors."""
    if set(expected) != set(actual):
        missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
        raise ExportError(f"{what}: keys differ after the round trip (missing {missing[:3]}, extra {extra[:3]})")
    for key, tensor in expected.items():
        if not torch.equal(tensor.float(), actual[key].float()):
            raise ExportError(f"{what}: tensor {key} changed in the round trip")
