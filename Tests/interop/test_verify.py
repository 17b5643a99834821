"""`clipwb verify` and `clipwb embed` on the committed tiny fixture: the verifier passes on the real thing
and FAILS on the negative controls (another seed's weights, shuffled texts); bad inputs exit 2."""
import json
import shutil

import h5py
import numpy as np

from conftest import SAMPLES, TINY, TINY_REF, run_clipwb


def verify(weights=TINY, reference=TINY_REF, images=SAMPLES, *extra):
    p = run_clipwb("verify", "--weights", weights, "--reference", reference, "--images", images, "--json", *extra,
                   check=False)
    return p, (json.loads(p.stdout) if p.stdout.strip().startswith("{") else None)


def test_verify_passes_on_the_tiny_fixture():
    p, r = verify()
    assert p.returncode == 0, p.stderr
    assert r["pass"] is True
    assert r["tokens"]["exact"] == r["tokens"]["total"] == 50
    assert r["pixels"]["max_abs_diff"] <= 1e-5
    for stage in ("image", "image_model_only", "text", "text_model_only"):
        assert r[stage]["min_cosine"] >= 0.99999, stage
        assert r[stage]["max_abs_error"] < 1e-4, stage
    # The fixture stores float16 values and the reference was computed from exactly those: strict tolerance.
    assert r["weights_dtype"] == "f16" and r["image"]["tolerance"] == 0.99999


def test_verify_text_output_names_every_stage():
    p = run_clipwb("verify", "--weights", TINY, "--reference", TINY_REF, "--images", SAMPLES)
    for label in ("tokens", "pixels", "image end-to-end", "image model-only", "text end-to-end", "result: PASS"):
        assert label in p.stdout


def test_verify_fails_with_another_seeds_weights(tmp_path):
    wrong = tmp_path / "seed1.h5"
    shutil.copy(TINY, wrong)
    rng = np.random.default_rng(1)
    with h5py.File(wrong, "r+") as f:
        for name, d in f["state_dict"].items():
            if d.ndim >= 1 and d.size > 1:
                a = d[...].astype(np.float32)
                d[...] = (rng.standard_normal(a.shape) * (a.std() or 0.02) + a.mean()).astype(d.dtype)
    p, r = verify(weights=wrong)
    assert p.returncode == 1, p.stderr
    assert r["pass"] is False
    assert r["image"]["min_cosine"] < 0.9 and r["image_model_only"]["min_cosine"] < 0.9
    assert r["text"]["min_cosine"] < 0.9
    # Preprocessing and tokens do not depend on the weights: those stages still pass.
    assert r["tokens"]["exact"] == r["tokens"]["total"] and r["pixels"]["pass"] is True


def test_verify_fails_with_shuffled_texts(tmp_path):
    ref = tmp_path / "shuffled.h5"
    shutil.copy(TINY_REF, ref)
    with h5py.File(ref, "r+") as f:
        strings = [s.decode() if isinstance(s, bytes) else s for s in f["texts/strings"][...]]
        del f["texts/strings"]
        f["texts"].create_dataset("strings", data=np.array(strings[1:] + strings[:1], dtype=object),
                                  dtype=h5py.string_dtype("utf-8"))
    p, r = verify(reference=ref)
    assert p.returncode == 1
    assert r["pass"] is False
    assert r["tokens"]["exact"] < r["tokens"]["total"]
    assert r["text"]["min_cosine"] < 0.9
    # The model itself, fed the reference's own tokens, is still right: the fault is placed before the model.
    assert r["text_model_only"]["pass"] is True and r["image"]["pass"] is True
    p = run_clipwb("verify", "--weights", TINY, "--reference", ref, "--images", SAMPLES, check=False)
    assert "first mismatch" in p.stdout and "result: FAIL" in p.stdout


def test_verify_bad_inputs_exit_2(tmp_path):
    p, _ = verify(reference=TINY)
    assert p.returncode == 2 and "clip-hdf5 weights file" in p.stderr
    p, _ = verify(images=tmp_path)
    assert p.returncode == 2 and "is not in" in p.stderr
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    p, _ = verify(weights=junk)
    assert p.returncode == 2 and "error:" in p.stderr
    p, _ = verify(TINY, TINY_REF, SAMPLES, "--tolerance", "3")
    assert p.returncode != 0 and "--tolerance" in p.stderr


def test_embed_writes_numpy_rows_matching_the_reference(tmp_path):
    with h5py.File(TINY_REF, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f["images/names"][:3]]
        ref_img = f["images/embeddings"][:3]
        texts = [s.decode() if isinstance(s, bytes) else s for s in f["texts/strings"][:4]]
        ref_txt = f["texts/embeddings"][:4]
    out = tmp_path / "img.npy"
    run_clipwb("embed", "--weights", TINY, "--images", *[SAMPLES / n for n in names], "--out", out)
    got = np.load(out)
    assert got.dtype == np.float32 and got.shape == ref_img.shape
    cos = (got * ref_img).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(ref_img, axis=1)
    assert cos.min() >= 0.99999
    args = [a for t in texts for a in ("--text", t)]
    p = run_clipwb("embed", "--weights", TINY, *args, "--normalize", "--json")
    r = json.loads(p.stdout)
    e = np.array(r["embeddings"], dtype=np.float32)
    assert r["count"] == 4 and r["dim"] == 64 and r["normalized"] is True
    assert np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
    assert (e * (ref_txt / np.linalg.norm(ref_txt, axis=1, keepdims=True))).sum(1).min() >= 0.99999


def test_embed_bad_inputs(tmp_path):
    p = run_clipwb("embed", "--weights", TINY, check=False)
    assert p.returncode != 0 and "exactly one input" in p.stderr
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    p = run_clipwb("embed", "--weights", TINY, "--images", bad, check=False)
    assert p.returncode == 2 and "error:" in p.stderr
    p = run_clipwb("embed", "--weights", TINY, "--images", tmp_path / "missing.png", check=False)
    assert p.returncode == 2 and "does not exist" in p.stderr


def test_verify_tolerance_follows_the_weights_dtype(tmp_path):
    # float16 weights against a reference made from float32 weights: the float16 tolerance.
    ref = tmp_path / "ref-f32.h5"
    shutil.copy(TINY_REF, ref)
    with h5py.File(ref, "r+") as f:
        f.attrs["weights_dtype"] = "float32"
    p, r = verify(reference=ref)
    assert p.returncode == 0 and r["weights_dtype"] == "f16" and r["image"]["tolerance"] == 0.999997
    assert "f16 rounding of the float32 weights" in r["tolerance_reason"]
    # bfloat16 (8 mantissa bits) has its own, looser tolerance.
    bf = tmp_path / "tiny-bf16.safetensors"
    run_clipwb("convert", TINY, bf, "--dtype", "bf16")
    p, r = verify(weights=bf, reference=ref)
    assert r["weights_dtype"] == "bf16" and r["image"]["tolerance"] == 0.9995
    # The same values widened to float32: the strict tolerance again.
    f32 = tmp_path / "tiny-f32.safetensors"
    run_clipwb("convert", TINY, f32, "--dtype", "f32")
    p, r = verify(weights=f32, reference=ref)
    assert p.returncode == 0 and r["weights_dtype"] == "f32" and r["text"]["tolerance"] == 0.99999
    # An explicit --tolerance wins.
    p, r = verify(TINY, TINY_REF, SAMPLES, "--tolerance", "0.5")
    assert r["image"]["tolerance"] == 0.5


# Issue 11: partial references, provenance, a report a person can act on.

def partial(tmp_path, drop):
    ref = tmp_path / f"no-{drop}.h5"
    shutil.copy(TINY_REF, ref)
    with h5py.File(ref, "r+") as f:
        del f[drop]
    return ref


def test_text_only_reference_needs_no_images_and_reports_image_stages_absent(tmp_path):
    p = run_clipwb("verify", "--weights", TINY, "--reference", partial(tmp_path, "images"), "--json", check=False)
    r = json.loads(p.stdout)
    assert p.returncode == 0, p.stderr
    assert r["pass"] is True and r["tokens"]["status"] == "pass" and r["text"]["status"] == "pass"
    for stage in ("pixels", "image", "image_model_only"):
        assert r[stage]["status"] == "absent" and r[stage]["pass"] is False, stage
    text = run_clipwb("verify", "--weights", TINY, "--reference", partial(tmp_path, "images")).stdout
    assert "image end-to-end  not in reference" in text and "1.80e+308" not in text


def test_image_only_reference_reports_text_stages_absent(tmp_path):
    p, r = verify(TINY, partial(tmp_path, "texts"))
    assert p.returncode == 0 and r["pass"] is True
    assert r["tokens"]["status"] == "absent" and r["text"]["status"] == r["text_model_only"]["status"] == "absent"
    assert r["image"]["count"] == 16 and r["image"]["status"] == "pass"


def test_without_images_only_the_model_only_image_stage_runs():
    p = run_clipwb("verify", "--weights", TINY, "--reference", TINY_REF, "--json", check=False)
    r = json.loads(p.stdout)
    assert p.returncode == 0
    assert r["pixels"]["status"] == "not run" and r["image"]["status"] == "not run"
    assert r["image_model_only"]["status"] == "pass" and r["image_model_only"]["count"] == 16


def test_other_weights_are_named_by_their_sha(tmp_path):
    wrong = tmp_path / "seed1.h5"
    shutil.copy(TINY, wrong)
    with h5py.File(wrong, "r+") as f:
        d = f["state_dict/visual.ln_post.bias"]
        d[...] = (d[...].astype(np.float32) + 0.5).astype(d.dtype)
    p, r = verify(weights=wrong)
    assert p.returncode == 1
    assert r["provenance"]["matches"] is False and "other weights" in r["provenance"]["message"]
    assert any("other weights" in d and "likely cause" in d for d in r["diagnosis"])
    # The honest pair matches, and a clipwb file converted from it carries the same sha.
    _, ok = verify()
    assert ok["provenance"]["matches"] is True
    conv = tmp_path / "t.safetensors"
    run_clipwb("convert", TINY, conv)
    _, c = verify(weights=conv)
    assert c["provenance"]["matches"] is True and c["pass"] is True


def test_failing_rows_per_stage_diagnosis_and_markdown_report(tmp_path):
    ref = tmp_path / "shuffled.h5"
    shutil.copy(TINY_REF, ref)
    with h5py.File(ref, "r+") as f:
        strings = [s.decode() if isinstance(s, bytes) else s for s in f["texts/strings"][...]]
        del f["texts/strings"]
        f["texts"].create_dataset("strings", data=np.array(strings[1:] + strings[:1], dtype=object),
                                  dtype=h5py.string_dtype("utf-8"))
    md = tmp_path / "report.md"
    p = run_clipwb("verify", "--weights", TINY, "--reference", ref, "--images", SAMPLES, "--json", "--report", md,
                   check=False)
    r = json.loads(p.stdout)
    assert p.returncode == 1
    assert r["text"]["failing"] > 40 and r["text"]["count"] == 50 and len(r["text"]["rows"]) == 50
    assert {"item", "cosine", "max_abs_error"} <= set(r["text"]["rows"][0])
    assert r["image"]["failing"] == 0
    assert any("tokenizer" in d for d in r["diagnosis"])
    report = md.read_text()
    assert report.startswith("# clipwb verify: FAIL") and "| text end-to-end | FAIL |" in report and "## Diagnosis" in report
    text = run_clipwb("verify", "--weights", TINY, "--reference", ref, "--images", SAMPLES, check=False).stdout
    assert "\\'" not in text and "/50 below" in text
    assert all(len(line) < 400 for line in text.splitlines())
