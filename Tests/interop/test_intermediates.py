"""Layer-by-layer divergence (issue 11, item 4): references exported with `--intermediates 2` hold every named
stage of the reference library's forward pass (docs/formats.md); `clipwb verify` computes the same stages and
names the first one that parts. Honest fixtures agree at every stage; seeded faults are named at the stage
where they enter: the activation after block 0's MLP, the head count after block 0's attention, the LayerNorm ε
at ln_pre (image) or block 0's attention (text, whose first LayerNorm is ln_1), swapped BatchNorm statistics at
their Bottleneck."""
import json
import shutil

import h5py
import numpy as np
import pytest

from conftest import ROOT, TINY, TINY_REF, run_clipwb

ZOO = ROOT / "weights" / "zoo"
FIXTURES = ["oc-gelu", "oc-hw16-squash", "oc-ls-longest", "oc-mlp-240", "hf-gelu-quickgelu", "rn-tiny"]
SAME_VALUES = 1e-4  # Tolerances.stageRelativeSameValues


def verify(weights, reference, *extra):
    p = run_clipwb("verify", "--weights", weights, "--reference", reference, "--json", *extra, check=False)
    assert p.stdout.strip().startswith("{"), p.stderr
    return p, json.loads(p.stdout)


def towers(r):
    return {t["tower"]: t for t in r["intermediates"]["towers"]}


def vit_stages(prefix, layers, first, last):
    return first + [f"{prefix}.block{i}.{p}" for i in range(layers) for p in ("attn", "mlp")] + last


@pytest.mark.parametrize("name", FIXTURES)
def test_every_stage_agrees_on_the_fixtures(name):
    p, r = verify(ZOO / f"{name}.h5", ZOO / f"{name}-reference.h5")
    assert p.returncode == 0 and r["pass"] is True, p.stdout[-2000:]
    im = r["intermediates"]
    assert im["status"] == "pass" and im["tolerance"] == SAME_VALUES
    t = towers(r)
    assert set(t) == {"image", "text"}
    for tower in t.values():
        assert tower["items"] == 2 and tower["first_divergence"] is None
        assert all(s["status"] == "agrees" for s in tower["stages"]), tower["stages"]
        # float32 summation order only: two orders of magnitude inside the tolerance
        assert max(s["max_relative_error"] for s in tower["stages"]) < SAME_VALUES / 10
    text = [s["stage"] for s in t["text"]["stages"]]
    assert text == vit_stages("text", 2 if name != "rn-tiny" else 1, ["text.embeddings"],
                              ["text.ln_final", "text.pooled", "text.proj"])
    image = [s["stage"] for s in t["image"]["stages"]]
    if name == "rn-tiny":
        assert image == ["visual.stem"] + [f"visual.layer{s}.0" for s in range(1, 5)] + ["visual.attnpool"]
    else:
        assert image == vit_stages("visual", 2, ["visual.embeddings", "visual.ln_pre"], ["visual.ln_post", "visual.proj"])


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_converted_copies_agree_at_every_stage(tmp_path, dtype):
    out = tmp_path / f"oc-ls-{dtype}.safetensors"
    run_clipwb("convert", ZOO / "oc-ls-longest.h5", out, "--dtype", dtype)
    p, r = verify(out, ZOO / "oc-ls-longest-reference.h5")
    assert p.returncode == 0 and r["intermediates"]["status"] == "pass"


def with_config(tmp_path, name, **attrs):
    dst = tmp_path / f"{name}.h5"
    shutil.copy(ZOO / f"{name}.h5", dst)
    with h5py.File(dst, "r+") as f:
        for k, v in attrs.items():
            if k in f["config"].attrs:
                del f["config"].attrs[k]
            if v is not None:
                f["config"].attrs[k] = v
    return dst


def assert_diverges(r, tower, stage, leaves=None):
    t = towers(r)[tower]
    assert t["first_divergence"] == stage, [(s["stage"], s["max_relative_error"], s["status"]) for s in t["stages"]]
    names = [s["stage"] for s in t["stages"]]
    at = names.index(stage)
    assert all(s["status"] == "agrees" for s in t["stages"][:at]) and t["stages"][at]["status"] == "differs"
    assert t["leaves_tolerance_at"] == (leaves or stage)
    return t


def test_wrong_activation_is_named_after_block_0s_mlp(tmp_path):
    p, r = verify(with_config(tmp_path, "oc-gelu", activation="quick_gelu"), ZOO / "oc-gelu-reference.h5")
    assert p.returncode == 1 and r["pass"] is False and r["intermediates"]["status"] == "fail"
    assert_diverges(r, "image", "visual.block0.mlp")
    assert_diverges(r, "text", "text.block0.mlp")
    assert any("block 0 (after MLP)" in d and "QuickGELU" in d for d in r["diagnosis"])
    text = run_clipwb("verify", "--weights", with_config(tmp_path, "oc-gelu", activation="quick_gelu"),
                      "--reference", ZOO / "oc-gelu-reference.h5", check=False).stdout
    assert "image: diverges at visual block 0 (after MLP)" in text and "text: diverges at text block 0 (after MLP)" in text


def test_hf_text_activation_is_named_in_the_text_tower_only(tmp_path):
    p, r = verify(with_config(tmp_path, "hf-gelu-quickgelu", text_activation="gelu"), ZOO / "hf-gelu-quickgelu-reference.h5")
    assert p.returncode == 1
    assert_diverges(r, "text", "text.block0.mlp")
    assert towers(r)["image"]["first_divergence"] is None


def test_wrong_head_count_is_named_after_block_0s_attention(tmp_path):
    # 1 head of width 64 instead of 4 of width 16 (the OpenAI rule when vision_heads is absent)
    p, r = verify(with_config(tmp_path, "oc-hw16-squash", vision_heads=None), ZOO / "oc-hw16-squash-reference.h5")
    assert p.returncode == 1
    assert_diverges(r, "image", "visual.block0.attn")
    assert towers(r)["text"]["first_divergence"] is None
    p, r = verify(with_config(tmp_path, "oc-gelu", transformer_heads=np.int64(1)), ZOO / "oc-gelu-reference.h5")
    assert_diverges(r, "text", "text.block0.attn")


def test_layernorm_epsilon_is_named_at_the_first_layernorm(tmp_path):
    p, r = verify(with_config(tmp_path, "oc-gelu", layer_norm_eps=1e-3), ZOO / "oc-gelu-reference.h5")
    assert p.returncode == 1
    assert_diverges(r, "image", "visual.ln_pre")
    assert_diverges(r, "text", "text.block0.attn")  # the text tower's first LayerNorm is block 0's ln_1
    assert any("visual ln_pre" in d and "LayerNorm" in d for d in r["diagnosis"])


@pytest.mark.parametrize("name", ["oc-gelu", "oc-ls-longest", "hf-gelu-quickgelu"])
def test_a_small_epsilon_change_is_named_where_it_enters(tmp_path, name):
    """ε 1e-6 for 1e-5 moves ln_pre's output ~20× more than float32 rounding does (rel ~2e-5), inside the stage
    tolerance 1e-4: the jump rule (≥ 10× every stage before it and ≥ 1e-5) names ln_pre, whether or not a later
    stage leaves the tolerance. The honest fixtures above never jump: that is this rule's negative control."""
    p, r = verify(with_config(tmp_path, name, layer_norm_eps=1e-6), ZOO / f"{name}-reference.h5")
    assert p.returncode == 1
    t = towers(r)["image"]
    assert t["first_divergence"] == "visual.ln_pre"
    stages = {s["stage"]: s for s in t["stages"]}
    assert stages["visual.ln_pre"]["status"] == "jumps"
    assert SAME_VALUES / 10 <= stages["visual.ln_pre"]["max_relative_error"] <= SAME_VALUES
    assert stages["visual.embeddings"]["status"] == "agrees"
    assert towers(r)["text"]["first_divergence"] == "text.block0.attn"


def test_swapped_batchnorm_statistics_are_named_at_their_bottleneck(tmp_path):
    dst = tmp_path / "rn.h5"
    shutil.copy(ZOO / "rn-tiny.h5", dst)
    with h5py.File(dst, "r+") as f:
        sd = f["state_dict"]
        for s in ("running_mean", "running_var"):
            a, b = sd[f"visual.layer2.0.bn1.{s}"][...], sd[f"visual.layer2.0.bn2.{s}"][...]
            sd[f"visual.layer2.0.bn1.{s}"][...], sd[f"visual.layer2.0.bn2.{s}"][...] = b, a
    p, r = verify(dst, ZOO / "rn-tiny-reference.h5")
    assert p.returncode == 1
    assert_diverges(r, "image", "visual.layer2.0")
    assert towers(r)["text"]["first_divergence"] is None


def test_report_markdown_has_a_table_per_tower(tmp_path):
    md = tmp_path / "report.md"
    run_clipwb("verify", "--weights", with_config(tmp_path, "oc-gelu", activation="quick_gelu"),
               "--reference", ZOO / "oc-gelu-reference.h5", "--report", md, check=False)
    s = md.read_text()
    assert "## image intermediates" in s and "## text intermediates" in s
    assert "| visual block 0 (after MLP) | differs |" in s and "| visual ln_pre | agrees |" in s


def test_a_reference_without_intermediates_verifies_as_before():
    p, r = verify(TINY, TINY_REF)
    assert p.returncode == 0 and r["pass"] is True and r["intermediates"]["status"] == "absent"
    assert "export with --intermediates K" in run_clipwb("verify", "--weights", TINY, "--reference", TINY_REF).stdout


def broken_reference(tmp_path, edit):
    dst = tmp_path / "ref.h5"
    shutil.copy(ZOO / "oc-gelu-reference.h5", dst)
    with h5py.File(dst, "r+") as f:
        edit(f["intermediates"])
    return dst


def test_malformed_intermediates_are_named(tmp_path):
    def drop(g):
        del g["images"]["visual.ln_pre"]
    p = run_clipwb("verify", "--weights", ZOO / "oc-gelu.h5", "--reference", broken_reference(tmp_path, drop), check=False)
    assert p.returncode == 2 and "visual.ln_pre" in p.stderr and "re-export" in p.stderr

    def other_k(g):
        data = g["images"]["visual.ln_pre"][...]
        del g["images"]["visual.ln_pre"]
        g["images"]["visual.ln_pre"] = data[:1]
    p = run_clipwb("verify", "--weights", ZOO / "oc-gelu.h5", "--reference", broken_reference(tmp_path, other_k), check=False)
    assert p.returncode == 2 and "same K" in p.stderr

    def unknown(g):
        order = [s.decode() for s in g["texts"]["order"][...]]
        del g["texts"]["order"]
        g["texts"]["order"] = np.array(order[:1] + ["text.future_stage"] + order[1:], dtype=object)
        g["texts"]["text.future_stage"] = g["texts"]["text.embeddings"][...]
    p, r = verify(ZOO / "oc-gelu.h5", broken_reference(tmp_path, unknown))
    assert p.returncode == 0 and r["pass"] is True
    stages = {s["stage"]: s["status"] for s in towers(r)["text"]["stages"]}
    assert stages["text.future_stage"] == "not computed" and stages["text.embeddings"] == "agrees"
