"""The model zoo (issue 9): every committed open_clip and Hugging Face fixture (weights/zoo/, made by the
libraries' own code: `make fixtures`) converts and verifies from clip-hdf5, from the clipwb file (f32 and
f16) and, for the folder layouts, straight from the folder; and nothing loads silently wrong: a GELU model run
as QuickGELU, a wrong head count and HF pixels through the OpenAI pipeline all FAIL."""
import json
import shutil

import h5py
import numpy as np
import pytest

from conftest import ROOT, SAMPLES, run_clipwb

ZOO = ROOT / "weights" / "zoo"
# fixture → (weights source, reference)
MODELS = {
    "oc-gelu": ("oc-gelu.h5", "oc-gelu-reference.h5"),
    "oc-hw16-squash": ("oc-hw16-squash.h5", "oc-hw16-squash-reference.h5"),
    "oc-ls-longest": ("oc-ls-longest.h5", "oc-ls-longest-reference.h5"),
    "oc-mlp-240": ("oc-mlp-240.h5", "oc-mlp-240-reference.h5"),
    "hf-gelu-quickgelu": ("hf-gelu-quickgelu.h5", "hf-gelu-quickgelu-reference.h5"),
    "oc-hub folder": ("oc-hub", "oc-hw16-squash-reference.h5"),
    "hf folder": ("hf-gelu-quickgelu", "hf-gelu-quickgelu-reference.h5"),
}
STAGES = ("image", "image_model_only", "text", "text_model_only")


def verify(weights, reference, *extra):
    p = run_clipwb("verify", "--weights", weights, "--reference", reference, "--images", SAMPLES, "--json", *extra,
                   check=False)
    assert p.stdout.strip().startswith("{"), p.stderr
    return p, json.loads(p.stdout)


def assert_exact(p, r, what):
    assert p.returncode == 0, (what, p.stdout)
    assert r["pass"] is True, what
    assert r["tokens"]["exact"] == r["tokens"]["total"] > 0, (what, r["tokens"])
    assert r["pixels"]["max_abs_diff"] <= 1e-5, (what, r["pixels"])
    for stage in STAGES:
        assert r[stage]["count"] > 0 and r[stage]["min_cosine"] >= 0.99999, (what, stage, r[stage])


@pytest.mark.parametrize("name", MODELS)
def test_zoo_fixture_verifies_from_its_source(name):
    weights, ref = MODELS[name]
    p, r = verify(ZOO / weights, ZOO / ref)
    assert_exact(p, r, name)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_zoo_fixture_converts_and_verifies(tmp_path, name, dtype):
    weights, ref = MODELS[name]
    out = tmp_path / f"{name.replace(' ', '-')}-{dtype}.safetensors"
    run_clipwb("convert", ZOO / weights, out, "--dtype", dtype)
    p, r = verify(out, ZOO / ref)
    # The fixtures store float16 values and their references were computed from exactly those, so f16 and f32
    # copies hold the same numbers: the strict tolerance applies to both.
    assert_exact(p, r, f"{name} {dtype}")
    spec = json.loads(run_clipwb("inspect", out, "--json").stdout)["spec"]
    source = json.loads(run_clipwb("inspect", ZOO / weights, "--json").stdout)["spec"]
    assert spec == source


def edited(tmp_path, name, edit):
    src = ZOO / MODELS[name][0]
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f["config"].attrs)
    return dst


def test_gelu_model_run_as_quickgelu_fails(tmp_path):
    def to_quick(a):
        a["activation"] = "quick_gelu"
    p, r = verify(edited(tmp_path, "oc-gelu", to_quick), ZOO / "oc-gelu-reference.h5")
    assert p.returncode == 1 and r["pass"] is False
    # QuickGELU moves the image embeddings only slightly; the text embeddings show it.
    assert r["text_model_only"]["pass"] is False and r["text_model_only"]["min_cosine"] < 0.9999


def test_wrong_head_count_fails(tmp_path):
    def drop_heads(a):
        del a["vision_heads"]  # the OpenAI rule (width/64 = 1 head) instead of the 4 heads of width 16
    path = edited(tmp_path, "oc-hw16-squash", drop_heads)
    info = json.loads(run_clipwb("inspect", path, "--json").stdout)["spec"]
    assert info["vision"]["transformer"]["heads"] == 1 and "vision_heads" in info["assumed"]
    p, r = verify(path, ZOO / "oc-hw16-squash-reference.h5")
    assert p.returncode == 1 and r["image_model_only"]["pass"] is False
    assert r["image_model_only"]["min_cosine"] < 0.999


def test_hf_pixels_through_the_openai_pipeline_fail(tmp_path):
    def to_openai(a):
        a["preprocess"] = "openai"
    p, r = verify(edited(tmp_path, "hf-gelu-quickgelu", to_openai), ZOO / "hf-gelu-quickgelu-reference.h5")
    assert p.returncode == 1 and r["pixels"]["pass"] is False


def test_folder_missing_a_piece_names_it(tmp_path):
    for folder, piece in (("hf-gelu-quickgelu", "preprocessor_config.json"), ("hf-gelu-quickgelu", "model.safetensors"),
                          ("oc-hub", "open_clip_model.safetensors")):
        dst = tmp_path / folder
        shutil.copytree(ZOO / folder, dst, dirs_exist_ok=True)
        (dst / piece).unlink()
        p = run_clipwb("inspect", dst, check=False)
        assert p.returncode == 2 and piece in p.stderr, (folder, piece, p.stderr)
        shutil.rmtree(dst)
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run_clipwb("convert", empty, tmp_path / "x.safetensors", check=False)
    assert p.returncode == 2 and "config.json" in p.stderr and "open_clip_config.json" in p.stderr


def test_unknown_config_attribute_or_value_is_named(tmp_path):
    def unknown(a):
        a["vision_rope"] = 1
    p = run_clipwb("inspect", edited(tmp_path, "oc-gelu", unknown), check=False)
    assert p.returncode == 2 and "vision_rope" in p.stderr

    def tanh(a):
        a["activation"] = "gelu_tanh"
    p = run_clipwb("inspect", edited(tmp_path, "oc-gelu", tanh), check=False)
    assert p.returncode == 2 and "gelu_tanh" in p.stderr and "quick_gelu" in p.stderr


def test_hf_folder_out_of_scope_model_type_is_refused(tmp_path):
    dst = tmp_path / "siglip"
    shutil.copytree(ZOO / "hf-gelu-quickgelu", dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg["model_type"] = "siglip"
    (dst / "config.json").write_text(json.dumps(cfg))
    p = run_clipwb("inspect", dst, check=False)
    assert p.returncode == 2 and "siglip" in p.stderr


def test_folder_and_its_hdf5_give_the_same_embeddings(tmp_path):
    """The folder's float16 matrices are read as stored (widened in registers), the HDF5's widened at load: the same
    numbers summed in another order, so equal to 1e-5; the oc-gelu model's embeddings of the same texts are not."""
    a, b, c = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "c.npy"
    run_clipwb("embed", "--weights", ZOO / "hf-gelu-quickgelu", "--texts", ROOT / "notebooks-export" / "texts-zoo.txt",
               "--out", a)
    run_clipwb("embed", "--weights", ZOO / "hf-gelu-quickgelu.h5", "--texts", ROOT / "notebooks-export" / "texts-zoo.txt",
               "--out", b)
    run_clipwb("embed", "--weights", ZOO / "oc-gelu.h5", "--texts", ROOT / "notebooks-export" / "texts-zoo.txt",
               "--out", c)
    assert np.abs(np.load(a) - np.load(b)).max() < 1e-5
    assert np.abs(np.load(a) - np.load(c)).max() > 1e-2


def test_gelu_model_without_config_fails_and_names_the_assumption(tmp_path):
    """Without /config the activation cannot be seen in the shapes: it is assumed (QuickGELU, OpenAI's), shown as
    assumed, and the failure's diagnosis names it."""
    def drop(a):
        del a["activation"]
    p, r = verify(edited(tmp_path, "oc-gelu", drop), ZOO / "oc-gelu-reference.h5")
    assert p.returncode == 1 and r["pass"] is False
    assert "activation" in r["assumed"]
    assert any("assumed" in d and "activation" in d for d in r["diagnosis"])


def test_hf_sharded_checkpoint_and_a_lone_safetensors_file_load_the_same_model(tmp_path):
    """save_pretrained's sharded layout (model.safetensors.index.json + shards, written here with Python's
    safetensors as transformers splits them) and a model.safetensors with only config.json beside it load the
    same model as the folder; a shard the index names but the folder lacks is named."""
    from safetensors.numpy import load_file, save_file
    src = ZOO / "hf-gelu-quickgelu"
    tensors = load_file(src / "model.safetensors")
    names = sorted(tensors)
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    for f in ("config.json", "preprocessor_config.json"):
        shutil.copy(src / f, sharded / f)
    parts = {"model-00001-of-00002.safetensors": names[: len(names) // 2], "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    weight_map = {}
    for file, keys in parts.items():
        save_file({k: tensors[k] for k in keys}, sharded / file, metadata={"format": "pt"})
        weight_map.update({k: file for k in keys})
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(src / "model.safetensors", lone / "model.safetensors")
    shutil.copy(src / "config.json", lone / "config.json")
    texts = ROOT / "notebooks-export" / "texts-zoo.txt"
    outs = {}
    for name, weights in (("folder", src), ("sharded", sharded), ("lone", lone / "model.safetensors")):
        outs[name] = tmp_path / f"{name}.npy"
        run_clipwb("embed", "--weights", weights, "--texts", texts, "--out", outs[name])
    assert np.array_equal(np.load(outs["folder"]), np.load(outs["sharded"]))
    assert np.array_equal(np.load(outs["folder"]), np.load(outs["lone"]))
    spec = json.loads(run_clipwb("inspect", lone / "model.safetensors", "--json").stdout)["spec"]
    assert spec["preprocess"]["pipeline"] == "hf" and spec["tokenizer"] == "hf"
    (sharded / "model-00002-of-00002.safetensors").unlink()
    p = run_clipwb("inspect", sharded, check=False)
    assert p.returncode == 2 and "model-00002-of-00002.safetensors" in p.stderr
