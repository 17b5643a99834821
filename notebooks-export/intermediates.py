"""--intermediates K: the output of every named stage of the reference forward pass, for the first K images and
texts, taken with forward hooks on the library's own modules while its own encode_image / encode_text run.

Stage names are the same for every library (docs/formats.md, "/intermediates"); clipwb's verifier computes the
same stages and names the first one that parts from the reference. Tensors are stored batch-first, float32:

  ViT image   visual.embeddings [K, T, W]   class token + patches + positional embedding (ln_pre's input)
              visual.ln_pre     [K, T, W]
              visual.block{i}.attn [K, T, W]  the residual stream after block i's attention (ln_2's input)
              visual.block{i}.mlp  [K, T, W]  after its MLP (the block's output)
              visual.ln_post    [K, W]      ln_post of the class token
              visual.proj       [K, E]      encode_image's output (not normalised)
  ResNet      visual.stem [K, C, H, W] (after the stem's average pool), visual.layer{s}.{i} [K, C, H, W] (each
              Bottleneck's output, NCHW), visual.attnpool [K, E] (encode_image's output)
  text        text.embeddings [K, C, W] (token + positional embedding), text.block{i}.attn / .mlp [K, C, W],
              text.ln_final [K, C, W], text.pooled [K, W] (ln_final at the end token), text.proj [K, E]
"""
import numpy as np
import torch


def _first(out):
    return out[0] if isinstance(out, tuple) else out


class _Recorder:
    """Forward hooks that copy a module's input or output into `stages` (insertion order = forward order)."""

    def __init__(self):
        self.stages = {}
        self.handles = []

    def output(self, module, name, fix=lambda t: t):
        def hook(_m, _args, out):
            self.stages[name] = fix(_first(out)).detach().float().cpu().numpy().copy()
        self.handles.append(module.register_forward_hook(hook))

    def input(self, module, name, fix=lambda t: t):
        def hook(_m, args):
            self.stages[name] = fix(args[0]).detach().float().cpu().numpy().copy()
        self.handles.append(module.register_forward_pre_hook(hook))

    def close(self):
        for h in self.handles:
            h.remove()
        self.handles = []


def _blocks(recorder, transformer, prefix, layers):
    """ln_2's input (after attention) and the block's output, batch-first whatever the stack runs in."""
    # OpenAI's Transformer runs sequence-first (LND) and has no batch_first; open_clip's says which it runs.
    lnd = not getattr(transformer, "batch_first", False)
    fix = (lambda t: t.permute(1, 0, 2)) if lnd else (lambda t: t)
    for i, block in enumerate(layers):
        recorder.input(block.ln_2, f"{prefix}.block{i}.attn", fix)
        recorder.output(block, f"{prefix}.block{i}.mlp", fix)
    return fix


def _hf_blocks(recorder, layers, prefix):
    for i, layer in enumerate(layers):
        recorder.input(layer.layer_norm2, f"{prefix}.block{i}.attn")
        recorder.output(layer, f"{prefix}.block{i}.mlp")


def image_stages(model, encode_image, pixels):
    """[(stage, array)] for `pixels` [K, 3, H, W] through encode_image, in forward order."""
    r = _Recorder()
    try:
        if hasattr(model, "vision_model"):  # Hugging Face CLIPModel
            v = model.vision_model
            r.output(v.embeddings, "visual.embeddings")
            r.output(v.pre_layrnorm, "visual.ln_pre")
            _hf_blocks(r, v.encoder.layers, "visual")
            r.output(v.post_layernorm, "visual.ln_post")
        elif type(model.visual).__name__ == "ModifiedResNet":
            v = model.visual
            r.output(v.avgpool, "visual.stem")
            for s in range(1, 5):
                for i, block in enumerate(getattr(v, f"layer{s}")):
                    r.output(block, f"visual.layer{s}.{i}")
        else:  # OpenAI's or open_clip's VisionTransformer
            v = model.visual
            r.input(v.ln_pre, "visual.embeddings")
            r.output(v.ln_pre, "visual.ln_pre")
            _blocks(r, v.transformer, "visual", v.transformer.resblocks)
            # open_clip applies ln_post to every token unless final_ln_after_pool; the class token is what is pooled
            r.output(v.ln_post, "visual.ln_post", lambda t: t[:, 0] if t.dim() == 3 else t)
        with torch.no_grad():
            out = encode_image(torch.from_numpy(pixels)).float().numpy()
    finally:
        r.close()
    final = "visual.attnpool" if "visual.stem" in r.stages else "visual.proj"
    return list(r.stages.items()) + [(final, out)]


def text_stages(model, encode_text, model_tokens, stored_tokens):
    """[(stage, array)] for the first K texts: `model_tokens` is what encode_text takes, `stored_tokens` [K, C] the
    ids stored in /texts/tokens (the end token is their argmax, as CLIP pools)."""
    r = _Recorder()
    hf = hasattr(model, "text_model")
    try:
        if hf:
            t = model.text_model
            r.output(t.embeddings, "text.embeddings")
            _hf_blocks(r, t.encoder.layers, "text")
            r.output(t.final_layer_norm, "text.ln_final")
            r.input(model.text_projection, "text.pooled")
        else:
            fix = _blocks(r, model.transformer, "text", model.transformer.resblocks)
            r.input(model.transformer.resblocks[0], "text.embeddings", fix)
            r.output(model.ln_final, "text.ln_final")
        with torch.no_grad():
            out = encode_text(model_tokens).float().numpy()
    finally:
        r.close()
    stages = dict(r.stages)
    order = ["text.embeddings"] + [k for k in stages if ".block" in k] + ["text.ln_final"]
    if not hf:
        # OpenAI's and open_clip's encode_text pool ln_final's output at text.argmax(dim=-1) (no module to hook)
        ends = np.asarray(stored_tokens).argmax(axis=1)
        stages["text.pooled"] = stages["text.ln_final"][np.arange(len(ends)), ends]
    order.append("text.pooled")
    return [(k, stages[k]) for k in order] + [("text.proj", out)]
