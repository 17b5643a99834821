"""The committed tiny fixtures (weights/tiny) follow docs/formats.md and agree with the samples, the text file,
OpenAI's preprocessing (re-done here with PIL + NumPy) and a NumPy forward pass of the stored weights.
Light venv only: h5py, numpy, pillow — no PyTorch."""
import hashlib
import re
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "weights/tiny/clip-tiny.h5"
REFERENCE = ROOT / "weights/tiny/clip-tiny-reference.h5"
SAMPLES = ROOT / "samples/abo"
TEXTS = ROOT / "notebooks-export/texts.txt"
SOT, EOT = 49406, 49407
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
TINY = dict(embed_dim=64, image_resolution=224, vision_layers=2, vision_width=64, vision_patch_size=32,
            context_length=77, vocab_size=49408, transformer_width=64, transformer_heads=1, transformer_layers=2)
FORWARD_MIN_COSINE = 0.99999  # float64 NumPy vs float32 PyTorch on the same float16-rounded weights


@pytest.fixture(scope="module")
def weights():
    with h5py.File(WEIGHTS, "r") as f:
        yield f


@pytest.fixture(scope="module")
def reference():
    with h5py.File(REFERENCE, "r") as f:
        yield f


@pytest.fixture(scope="module")
def state(weights):
    return {k: v[()].astype(np.float64) for k, v in weights["state_dict"].items()}


def expected_shapes(c):
    """Every key of clip.model.CLIP(**c).state_dict() (ViT) with its shape."""
    vw, tw, d, g = c["vision_width"], c["transformer_width"], c["embed_dim"], c["image_resolution"] // c["vision_patch_size"]
    shapes = {"positional_embedding": (c["context_length"], tw), "text_projection": (tw, d), "logit_scale": (),
              "visual.class_embedding": (vw,), "visual.positional_embedding": (g * g + 1, vw),
              "visual.proj": (vw, d), "visual.conv1.weight": (vw, 3, c["vision_patch_size"], c["vision_patch_size"]),
              "token_embedding.weight": (c["vocab_size"], tw)}
    for ln, w in (("visual.ln_pre", vw), ("visual.ln_post", vw), ("ln_final", tw)):
        shapes[f"{ln}.weight"] = shapes[f"{ln}.bias"] = (w,)
    for prefix, w, layers in (("visual.transformer", vw, c["vision_layers"]), ("transformer", tw, c["transformer_layers"])):
        for i in range(layers):
            p = f"{prefix}.resblocks.{i}"
            shapes.update({f"{p}.attn.in_proj_weight": (3 * w, w), f"{p}.attn.in_proj_bias": (3 * w,),
                           f"{p}.attn.out_proj.weight": (w, w), f"{p}.attn.out_proj.bias": (w,),
                           f"{p}.ln_1.weight": (w,), f"{p}.ln_1.bias": (w,), f"{p}.ln_2.weight": (w,), f"{p}.ln_2.bias": (w,),
                           f"{p}.mlp.c_fc.weight": (4 * w, w), f"{p}.mlp.c_fc.bias": (4 * w,),
                           f"{p}.mlp.c_proj.weight": (w, 4 * w), f"{p}.mlp.c_proj.bias": (w,)})
    return shapes


def test_fixtures_fit_the_size_budget():
    total = WEIGHTS.stat().st_size + REFERENCE.stat().st_size
    assert total <= 10_000_000, f"tiny fixtures take {total} bytes (budget 10 MB)"


def test_weights_root_attributes_and_provenance(weights):
    assert weights.attrs["format"] == "clip-hdf5"
    assert int(weights.attrs["format_version"]) == 1
    assert weights.attrs["source"] == "random-init seed=0 tiny"
    assert int(weights.attrs["seed"]) == 0
    assert "--random-init --seed 0 --tiny --dtype float16" in weights.attrs["exporter_command"]
    assert "torch " in weights.attrs["exporter_versions"] and "clip-anytorch 2.6.0" in weights.attrs["exporter_versions"]


def test_config_attributes_equal_shape_inference(weights):
    config = {k: int(v) for k, v in weights["config"].attrs.items()}
    assert config == TINY
    sd = weights["state_dict"]
    conv1 = sd["visual.conv1.weight"].shape
    grid = round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5)
    assert conv1[-1] * grid == config["image_resolution"]
    assert sd["text_projection"].shape[1] == config["embed_dim"]
    assert sd["ln_final.weight"].shape[0] // 64 == config["transformer_heads"]


def test_state_dict_has_exactly_the_model_tensors_in_float16(weights):
    sd = weights["state_dict"]
    expected = expected_shapes(TINY)
    assert set(sd.keys()) == set(expected)
    for key, shape in expected.items():
        assert sd[key].shape == shape, key
        assert sd[key].dtype == np.float16, key
        assert sd[key].chunks is None, f"{key} should be stored contiguous"


def test_every_weight_is_nontrivial(state):
    for key, value in state.items():
        assert np.isfinite(value).all(), key
        if value.size > 1:
            # float16 has ~15k distinct values in a weight's range, hence the cap
            assert len(np.unique(value)) >= min(value.size // 4, 4000), f"{key} looks constant-initialised"
    assert abs(state["logit_scale"] - np.log(1 / 0.07)) > 1e-3


def test_reference_attributes_point_at_the_weights(reference, weights):
    assert reference.attrs["format"] == "clip-reference"
    assert int(reference.attrs["format_version"]) == 1
    assert reference.attrs["weights_source"] == weights.attrs["source"]
    assert reference.attrs["weights_sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()


def test_reference_shapes_and_dtypes(reference):
    n, m = 16, len(texts_file())
    assert reference["images/names"].shape == (n,)
    assert h5py.check_string_dtype(reference["images/names"].dtype).encoding == "utf-8"
    assert h5py.check_string_dtype(reference["texts/strings"].dtype).encoding == "utf-8"
    for name, shape, dtype in (("images/pixels", (n, 3, 224, 224), np.float32), ("images/embeddings", (n, 64), np.float32),
                               ("texts/strings", (m,), object), ("texts/tokens", (m, 77), np.int32),
                               ("texts/embeddings", (m, 64), np.float32)):
        assert reference[name].shape == shape, name
        assert reference[name].dtype == dtype, name


def texts_file():
    lines = TEXTS.read_bytes().decode("utf-8").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def test_reference_texts_are_the_text_file(reference):
    assert list(reference["texts/strings"].asstr()[()]) == texts_file()
    assert len(texts_file()) >= 40


def test_reference_images_are_samples_including_grayscale(reference):
    names = list(reference["images/names"].asstr()[()])
    assert names == sorted(names) and len(set(names)) == len(names)
    modes = [Image.open(SAMPLES / n).mode for n in names]
    assert modes.count("L") >= 2 and modes.count("RGB") >= 8


def test_tokens_are_framed_by_start_and_end(reference):
    tokens = reference["texts/tokens"][()]
    texts = texts_file()
    assert (tokens[:, 0] == SOT).all()
    assert ((tokens >= 0) & (tokens < 49408)).all()
    for row, text in zip(tokens, texts):
        length = int(np.count_nonzero(row))
        assert (row[:length] != 0).all() and row[length - 1] == EOT, text
        assert EOT in row
    long = [i for i, r in enumerate(tokens) if np.count_nonzero(r) == 77]
    assert long, "texts.txt should hold a text longer than 77 tokens (truncation keeps the end token)"
    assert (tokens[texts.index(" ")] == tokens[texts.index("")]).all()
    assert list(tokens[texts.index("")][:3]) == [SOT, EOT, 0]


def openai_preprocess(path, size=224):
    """clip.clip._transform with PIL + NumPy: Resize(shorter side, bicubic) → CenterCrop → RGB → /255 → Normalize."""
    im = Image.open(path)
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)  # torchvision: int() of the float product
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    if (new_w, new_h) != (w, h):
        im = im.resize((new_w, new_h), Image.BICUBIC)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))  # Python round: half to even
    im = im.crop((left, top, left + size, top + size)).convert("RGB")
    x = np.asarray(im, dtype=np.uint8).astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    return (x - MEAN[:, None, None]) / STD[:, None, None]


def test_pixels_are_openai_preprocessing_of_the_samples_bit_exact(reference):
    pixels = reference["images/pixels"]
    for i, name in enumerate(reference["images/names"].asstr()[()]):
        ours = openai_preprocess(SAMPLES / name)
        assert np.array_equal(ours, pixels[i]), f"{name}: max diff {np.abs(ours - pixels[i]).max()}"


def test_pixel_statistics_are_plausible(reference):
    pixels = reference["images/pixels"][()]
    low, high = (0 - MEAN) / STD, (1 - MEAN) / STD
    for c in range(3):
        assert pixels[:, c].min() >= low[c] - 1e-6 and pixels[:, c].max() <= high[c] + 1e-6
    assert (pixels.reshape(len(pixels), -1).std(axis=1) > 0.05).all()  # no blank images


def test_embeddings_are_finite_and_distinct(reference):
    for name in ("images/embeddings", "texts/embeddings"):
        e = reference[name][()]
        assert np.isfinite(e).all(), name
        unit = e / np.linalg.norm(e, axis=1, keepdims=True)
        cos = unit @ unit.T
        assert cos[~np.eye(len(e), dtype=bool)].min() < 0.95, f"{name} are all alike"


# A NumPy twin of clip/model.py (ViT), float64: checks the embeddings were computed from these weights.
def layer_norm(x, sd, p):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * sd[f"{p}.weight"] + sd[f"{p}.bias"]


def block(x, sd, p, causal):
    """ResidualAttentionBlock on x: [L, w], heads of 64."""
    L, w = x.shape
    h = layer_norm(x, sd, f"{p}.ln_1")
    qkv = h @ sd[f"{p}.attn.in_proj_weight"].T + sd[f"{p}.attn.in_proj_bias"]  # [L, 3w]
    q, k, v = (qkv[:, i * w:(i + 1) * w].reshape(L, w // 64, 64).transpose(1, 0, 2) for i in range(3))
    scores = q @ k.transpose(0, 2, 1) / 8.0  # [heads, L, L]
    if causal:
        scores = scores + np.triu(np.full((L, L), -np.inf), 1)
    attn = np.exp(scores - scores.max(-1, keepdims=True))
    attn /= attn.sum(-1, keepdims=True)
    out = (attn @ v).transpose(1, 0, 2).reshape(L, w)
    x = x + out @ sd[f"{p}.attn.out_proj.weight"].T + sd[f"{p}.attn.out_proj.bias"]
    h = layer_norm(x, sd, f"{p}.ln_2") @ sd[f"{p}.mlp.c_fc.weight"].T + sd[f"{p}.mlp.c_fc.bias"]
    h = h / (1 + np.exp(-1.702 * h))  # QuickGELU
    return x + h @ sd[f"{p}.mlp.c_proj.weight"].T + sd[f"{p}.mlp.c_proj.bias"]


def encode_image(pixels, sd, c):
    ps, g = c["vision_patch_size"], c["image_resolution"] // c["vision_patch_size"]
    patches = pixels.reshape(3, g, ps, g, ps).transpose(1, 3, 0, 2, 4).reshape(g * g, 3 * ps * ps)
    x = patches @ sd["visual.conv1.weight"].reshape(c["vision_width"], -1).T  # [grid², w]
    x = np.concatenate([sd["visual.class_embedding"][None], x]) + sd["visual.positional_embedding"]
    x = layer_norm(x, sd, "visual.ln_pre")
    for i in range(c["vision_layers"]):
        x = block(x, sd, f"visual.transformer.resblocks.{i}", causal=False)
    return layer_norm(x[0], sd, "visual.ln_post") @ sd["visual.proj"]


def encode_text(tokens, sd, c):
    x = sd["token_embedding.weight"][tokens] + sd["positional_embedding"]
    for i in range(c["transformer_layers"]):
        x = block(x, sd, f"transformer.resblocks.{i}", causal=True)
    return layer_norm(x, sd, "ln_final")[int(np.argmax(tokens))] @ sd["text_projection"]


def min_cosine(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min())


def test_embeddings_match_a_numpy_forward_pass_of_the_weights(reference, state):
    images = [encode_image(p.astype(np.float64), state, TINY) for p in reference["images/pixels"][()]]
    texts = [encode_text(t, state, TINY) for t in reference["texts/tokens"][()]]
    assert min_cosine(images, reference["images/embeddings"][()]) >= FORWARD_MIN_COSINE
    assert min_cosine(texts, reference["texts/embeddings"][()]) >= FORWARD_MIN_COSINE
    assert np.abs(np.array(texts) - reference["texts/embeddings"][()]).max() < 1e-3


def test_randomised_layer_norm_biases_matter(reference, state):
    """Negative control: with a LayerNorm bias reset to OpenAI's init (0), the forward pass no longer matches."""
    broken = dict(state, **{"ln_final.bias": np.zeros_like(state["ln_final.bias"])})
    texts = [encode_text(t, broken, TINY) for t in reference["texts/tokens"][:8]]
    assert min_cosine(texts, reference["texts/embeddings"][:8]) < 0.999


# The exporter's input handling (notebooks-export/clip_reference.py imports no PyTorch at module level).
sys.path.insert(0, str(ROOT / "notebooks-export"))
import clip_reference  # noqa: E402


def test_reference_images_are_the_exporters_mixed_selection_of_the_samples(reference):
    assert clip_reference.select_images(str(SAMPLES), 16, "mixed") == list(reference["images/names"].asstr()[()])
    assert clip_reference.select_images(str(SAMPLES), 3, "first") == sorted(p.name for p in SAMPLES.glob("*.jpg"))[:3]


def test_exporter_input_errors_say_what_to_do(tmp_path):
    cases = [
        (lambda: clip_reference.select_images(str(tmp_path / "nope"), 4, "mixed"), "is not a folder"),
        (lambda: clip_reference.select_images(str(tmp_path), 4, "mixed"), "no .jpg/.jpeg/.png files"),
        (lambda: clip_reference.select_images(str(SAMPLES), 201, "first"), "has only 200 images"),
        (lambda: clip_reference.read_texts(str(tmp_path / "missing.txt")), "cannot read --texts"),
    ]
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    cases.append((lambda: clip_reference.read_texts(str(tmp_path / "latin1.txt")), "is not valid UTF-8 (byte 3)"))
    (tmp_path / "empty.txt").write_bytes(b"")
    cases.append((lambda: clip_reference.read_texts(str(tmp_path / "empty.txt")), "is empty"))
    for call, message in cases:
        with pytest.raises(clip_reference.ExportError, match=re.escape(message)):
            call()


def test_texts_split_on_newlines_only(tmp_path):
    (tmp_path / "t.txt").write_bytes(" a\tb \r\n\n \nlast".encode())
    assert clip_reference.read_texts(str(tmp_path / "t.txt")) == [" a\tb \r", "", " ", "last"]
