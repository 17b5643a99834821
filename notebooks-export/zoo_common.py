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


CALIBRATION_PHOTOS = 8        # ABO photos the ResNet conditioning pass sees (condition_resnet)
CALIBRATION_PATCHES = 4096    # input patches sampled per convolution for its principal directions
VARIANCE_KEPT = 0.99          # a convolution's random filters live in the input directions carrying this much variance
SAMPLES_ABO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "abo")


def calibration_photos(resolution, count=CALIBRATION_PHOTOS, folder=SAMPLES_ABO):
    """count ABO photos from the repository (every 25th name from the 4th, sorted), resized (shortest side, bicubic),
    centre-cropped and normalised with OpenAI's mean/std: [count, 3, resolution, resolution]."""
    from PIL import Image
    from torchvision import transforms
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".jpg", ".jpeg", ".png")))[3::25][:count]
    if not names:
        raise ExportError(f"no calibration photos in {folder!r} (the ResNet export calibrates on samples/abo)")
    t = transforms.Compose([
        transforms.Resize(resolution, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(resolution), transforms.ToTensor(),
        transforms.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))])
    batch = []
    for n in names:
        with Image.open(os.path.join(folder, n)) as im:
            batch.append(t(im.convert("RGB")))
    return torch.stack(batch)


def _filters_in_input_span(conv, x):
    """Project each random filter of conv onto the principal directions of its input patches that carry
    VARIANCE_KEPT of their variance, keeping each filter's norm (forward pre-hook of condition_resnet)."""
    k, s, p = conv.kernel_size, conv.stride, conv.padding
    positions = x.shape[0] * ((x.shape[2] + 2 * p[0] - k[0]) // s[0] + 1) * ((x.shape[3] + 2 * p[1] - k[1]) // s[1] + 1)
    step = max(1, int((positions / CALIBRATION_PATCHES) ** 0.5))  # subsample positions on a coarser grid
    # patches: [N, in·kh·kw, L] → [L·N, fan-in], the rows conv's filters are dotted with
    patches = torch.nn.functional.unfold(x, k, padding=p, stride=(s[0] * step, s[1] * step))
    rows = patches.transpose(1, 2).reshape(-1, patches.shape[1]).double()
    rows = rows - rows.mean(0)
    # principal directions from the smaller Gram matrix: rowsᵀ·rows [fan-in²] or rows·rowsᵀ [rows²]; LAPACK on one
    # thread (its OpenMP barriers spin for minutes on a loaded 2-core machine)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if rows.shape[0] >= rows.shape[1]:
            var, vecs = torch.linalg.eigh(rows.T @ rows)               # vecs: [fan-in, fan-in], ascending
        else:
            var, u = torch.linalg.eigh(rows @ rows.T)                  # u: [rows, rows]
            vecs = rows.T @ u / var.clamp_min(1e-30).sqrt()            # [fan-in, rows], unit columns
    finally:
        torch.set_num_threads(threads)
    var, vecs = var.flip(0).clamp_min(0), vecs.flip(1)                 # largest variance first
    keep = int((torch.cumsum(var, 0) / var.sum() < VARIANCE_KEPT).sum()) + 1
    basis = vecs[:, :keep].T                                           # [keep, fan-in]
    w = conv.weight.detach().reshape(conv.out_channels, -1).double()   # [out, fan-in]
    projected = (w @ basis.T) @ basis
    projected *= w.norm(dim=1, keepdim=True) / projected.norm(dim=1, keepdim=True)
    conv.weight.data.copy_(projected.reshape(conv.weight.shape).float())


def condition_resnet(visual, resolution):
    """Random-init conditioning of a ModifiedResNet (openai/CLIP and open_clip alike), seeded by the caller's RNG.

    Random filters over photos make an ill-conditioned tower: the 27 pixel inputs of the first 3×3 convolution
    are nearly collinear (in ABO photos the largest principal variance of the patches is ~2,000× the 10th), a
    random filter lands mostly in the weak directions, and its BatchNorm then divides by a small spread and
    magnifies everything else — float16 rounding of that one convolution moved RN50's image embeddings to
    1 − cos 9e-5. Trained first-layer filters follow the strong directions (edges, colour), so the same
    rounding barely shows. One train-mode pass over CALIBRATION_PHOTOS ABO photos therefore:
      1. before each convolution runs, keeps its random filters (norms unchanged) in the span of the principal
         directions carrying VARIANCE_KEPT of its input patches' variance (sampled from that same pass);
      2. sets each BatchNorm's running mean and variance to the statistics of its own input in that pass, so
         every BatchNorm output is gain·(zero mean, unit variance) + bias on photos.
    Gains are 1 + 0.1·N and biases 0.05·N, except each Bottleneck's bn3, whose gain is 0.25·(1 + 0.1·N) (both
    libraries' inits zero it so every block starts as the identity; zero would switch the branch off, full
    gain compounds the stream's growth). Every tensor keeps per-channel values of its own: a port that
    ignored or swapped any of them gives other embeddings (the rn-tiny negative controls)."""
    norms = [m for m in visual.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for name, bn in visual.named_modules():
            if not isinstance(bn, torch.nn.BatchNorm2d):
                continue
            residual = name.startswith("layer") and name.endswith(".bn3")  # a Bottleneck's last BatchNorm
            bn.weight.copy_((RESIDUAL_GAIN if residual else 1) * (1 + GAIN_STD * torch.randn_like(bn.weight)))
            bn.bias.copy_(BIAS_STD * torch.randn_like(bn.bias))
            bn.reset_running_stats()
            bn.momentum = None  # one pass: the running statistics are that pass's (cumulative average)
        hooks = [m.register_forward_pre_hook(lambda m, inputs: _filters_in_input_span(m, inputs[0]))
                 for m in visual.modules() if isinstance(m, torch.nn.Conv2d)]
        try:
            visual.train()
            visual(calibration_photos(resolution))
        finally:
            for h in hooks:
                h.remove()
            visual.eval()
        for bn in norms:
            bn.momentum = 0.1


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
