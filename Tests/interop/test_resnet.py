"""OpenAI's ModifiedResNet CLIPs (issue 10) on the committed rn-tiny fixture (openai/CLIP's own model code, one
Bottleneck per stage, width 8, float16; weights/zoo/README.md): it verifies from clip-hdf5 and from clipwb files
(f32, f16); BatchNorm running statistics swapped between two layers FAIL; a state dict with a block missing, a
wrong stage count or a mismatched shape is refused naming the tensor."""
import json
import shutil

import h5py
import numpy as np
import pytest

from conftest import ROOT, run_clipwb
from test_zoo import assert_exact, verify

ZOO = ROOT / "weights" / "zoo"
WEIGHTS, REFERENCE = ZOO / "rn-tiny.h5", ZOO / "rn-tiny-reference.h5"


def test_rn_tiny_verifies_from_clip_hdf5():
    p, r = verify(WEIGHTS, REFERENCE)
    assert_exact(p, r, "rn-tiny")
    spec = json.loads(run_clipwb("inspect", WEIGHTS, "--json").stdout)["spec"]
    assert spec["family"] == "modified_resnet"
    assert spec["vision"]["resnet"] == {"layers": [1, 1, 1, 1], "width": 8}
    assert spec["vision"]["transformer"]["heads"] == 4 and spec["embed_dim"] == 32


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_rn_tiny_converts_and_verifies(tmp_path, dtype):
    out = tmp_path / f"rn-tiny-{dtype}.safetensors"
    run_clipwb("convert", WEIGHTS, out, "--dtype", dtype)
    p, r = verify(out, REFERENCE)
    assert_exact(p, r, f"rn-tiny {dtype}")  # the fixture stores float16 values: both copies hold the same numbers
    assert json.loads(run_clipwb("inspect", out, "--json").stdout)["spec"] == \
        json.loads(run_clipwb("inspect", WEIGHTS, "--json").stdout)["spec"]


def copy_with(tmp_path, edit):
    dst = tmp_path / "rn-edited.h5"
    shutil.copy(WEIGHTS, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)
    return dst


def test_swapped_batchnorm_statistics_fail(tmp_path):
    """Negative control: the running statistics of layer1.0's bn1 and bn2 (both 8 channels) trade places."""
    def swap(f):
        sd = f["state_dict"]
        for s in ("running_mean", "running_var"):
            a, b = sd[f"visual.layer1.0.bn1.{s}"][...], sd[f"visual.layer1.0.bn2.{s}"][...]
            sd[f"visual.layer1.0.bn1.{s}"][...], sd[f"visual.layer1.0.bn2.{s}"][...] = b, a
    p, r = verify(copy_with(tmp_path, swap), REFERENCE)
    assert p.returncode == 1 and r["pass"] is False
    assert r["image_model_only"]["pass"] is False and r["image_model_only"]["min_cosine"] < 0.99999, r["image_model_only"]
    assert r["text_model_only"]["pass"] is True  # the text tower is untouched
    print(f"swapped BatchNorm statistics: image min cosine {r['image_model_only']['min_cosine']}")


def refused(path):
    p = run_clipwb("convert", path, path.parent / (path.stem + "-out.safetensors"), check=False)  # loads every tensor
    assert p.returncode == 2, p.stdout
    return p.stderr


def test_missing_block_is_named(tmp_path):
    """layer3's only Bottleneck removed: a stage with no block (a wrong stage count)."""
    def drop(f):
        for k in [k for k in f["state_dict"] if k.startswith("visual.layer3.0.")]:
            del f["state_dict"][k]
    assert "visual.layer3.0.conv1.weight" in refused(copy_with(tmp_path, drop))


def test_missing_tensor_is_named(tmp_path):
    def drop(f):
        del f["state_dict"]["visual.layer2.0.downsample.1.running_var"]
    assert "visual.layer2.0.downsample.1.running_var" in refused(copy_with(tmp_path, drop))


def test_config_claiming_more_blocks_names_the_first_missing(tmp_path):
    def claim(f):
        f["config"].attrs["resnet_layers"] = np.array([2, 1, 1, 1], dtype=np.float64)
    assert "visual.layer1.1.conv1.weight" in refused(copy_with(tmp_path, claim))


def test_fifth_stage_is_an_unexpected_tensor(tmp_path):
    def add(f):
        f["state_dict"].create_dataset("visual.layer5.0.conv1.weight", data=np.zeros((8, 8, 1, 1), np.float16))
    assert "visual.layer5.0.conv1.weight" in refused(copy_with(tmp_path, add))


def test_mismatched_shape_is_named(tmp_path):
    def reshape(f):
        sd = f["state_dict"]
        del sd["visual.layer4.0.conv2.weight"]
        sd.create_dataset("visual.layer4.0.conv2.weight", data=np.zeros((64, 64, 1, 1), np.float16))
    err = refused(copy_with(tmp_path, reshape))
    assert "visual.layer4.0.conv2.weight" in err and "[64, 64, 3, 3]" in err


def test_vit_attribute_on_a_resnet_is_refused(tmp_path):
    def vit(f):
        f["config"].attrs["vision_patch_size"] = np.int64(32)
    assert "vision_patch_size" in refused(copy_with(tmp_path, vit))


def test_batchnorm_step_counters_are_ignored(tmp_path):
    """open_clip's hub files keep each BatchNorm's int64 `num_batches_tracked`: read past, never used. An int64 tensor
    under any other name is still refused, naming it."""
    from safetensors import safe_open
    from safetensors.numpy import save_file
    clipwb_file = tmp_path / "rn.safetensors"
    run_clipwb("convert", WEIGHTS, clipwb_file, "--dtype", "f32")
    with safe_open(str(clipwb_file), "np") as f:
        tensors, metadata = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    norms = sorted({k.rsplit(".", 1)[0] for k in tensors if k.endswith(".running_var")})
    assert len(norms) == 3 + 4 * 4  # the stem's three, three per Bottleneck, one per downsample branch
    with_counters = dict(tensors, **{f"{n}.num_batches_tracked": np.array(7, dtype=np.int64) for n in norms})
    out = tmp_path / "rn-counters.safetensors"
    save_file(with_counters, str(out), metadata=metadata)
    p, r = verify(out, REFERENCE)
    assert_exact(p, r, "rn-tiny with num_batches_tracked")
    bad = tmp_path / "rn-int.safetensors"
    save_file(dict(tensors, **{"visual.layer1.0.bn1.steps": np.array(7, dtype=np.int64)}), str(bad), metadata=metadata)
    err = refused(bad)
    assert "visual.layer1.0.bn1.steps" in err and "I64" in err
