"""`clipwb embed --shard I/N` + `embed merge` against one `clipwb embed` over the same list: bit-identical."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import SAMPLES, TINY, clipwb_path


def embed(*args, env=None):
    p = subprocess.run([clipwb_path(), "embed", "--weights", str(TINY), *map(str, args)], capture_output=True, text=True,
                       timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    return p


def some_images(dest, n=70):
    dest.mkdir()
    for f in sorted(SAMPLES.glob("*.jpg"))[:n]:
        shutil.copy(f, dest / f.name)
    return dest


@pytest.mark.parametrize("batch,shards", [(32, 4), (7, 5)])
def test_merged_shards_equal_one_process(tmp_path, batch, shards):
    imgs = some_images(tmp_path / "imgs")
    (imgs / "zz-truncated.jpg").write_bytes(sorted(SAMPLES.glob("*.jpg"))[5].read_bytes()[:700])
    embed("--images", imgs, "--out", tmp_path / "one.npy", "--batch-size", batch)
    for i in range(shards):
        embed("--images", imgs, "--shard", f"{i}/{shards}", "--out", tmp_path / "shards", "--batch-size", batch,
              "--checkpoint-every", 40)
    p = subprocess.run([clipwb_path(), "embed", "merge", str(tmp_path / "shards"), "--out", str(tmp_path / "all.npy"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    manifest = json.loads(p.stdout)
    one, merged = np.load(tmp_path / "one.npy"), np.load(tmp_path / "all.npy")
    assert one.shape == merged.shape == (70, 64)
    assert one.tobytes() == merged.tobytes()
    assert (tmp_path / "one.names.txt").read_text() == (tmp_path / "all.names.txt").read_text()
    assert [s["path"] for s in manifest["skipped"]] == [str(imgs / "zz-truncated.jpg")]


def test_shard_from_slurm_environment_and_finished_shard_not_redone(tmp_path):
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="2", SLURM_ARRAY_TASK_MIN="1")
    first = embed("--images", SAMPLES, "--shard-from-env", "--out", tmp_path / "s", env=env)
    assert "shard 1/2: items 96..<200" in first.stdout, first.stdout
    again = embed("--images", SAMPLES, "--shard-from-env", "--out", tmp_path / "s", env=env)
    assert "already complete, nothing redone" in again.stdout
    missing = subprocess.run([clipwb_path(), "embed", "merge", str(tmp_path / "s"), "--out", str(tmp_path / "a.npy")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "shard 0/2 is missing" in missing.stderr


def test_catalog_from_merged_embeddings_equals_catalog_from_folder(tmp_path):
    imgs = some_images(tmp_path / "imgs")
    for i in range(2):
        embed("--images", imgs, "--shard", f"{i}/2", "--out", tmp_path / "shards")
    subprocess.run([clipwb_path(), "embed", "merge", str(tmp_path / "shards"), "--out", str(tmp_path / "all.npy")],
                   check=True, capture_output=True, timeout=120)
    base = [clipwb_path(), "ingest", "--weights", str(TINY)]
    a = subprocess.run(base + [str(imgs), "--catalog", str(tmp_path / "from-folder")], capture_output=True, text=True, timeout=300)
    b = subprocess.run(base + ["--embeddings", str(tmp_path / "all.npy"), "--catalog", str(tmp_path / "from-npy")],
                       capture_output=True, text=True, timeout=300)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert "70 added" in b.stdout
    ann = lambda c: next((tmp_path / c / "index").glob("*.ann")).read_bytes()
    assert ann("from-folder") == ann("from-npy")  # same unit vectors, same order: the same Annoy file
    other = tmp_path / "other.safetensors"
    subprocess.run([clipwb_path(), "convert", str(TINY), str(other)], check=True, capture_output=True, timeout=120)
    c = subprocess.run([clipwb_path(), "ingest", "--weights", str(other), "--embeddings", str(tmp_path / "all.npy"),
                        "--catalog", str(tmp_path / "c3")], capture_output=True, text=True, timeout=120)
    assert c.returncode == 2 and "was embedded with other weights" in c.stderr
    both = subprocess.run(base + [str(imgs), "--embeddings", str(tmp_path / "all.npy"), "--catalog", str(tmp_path / "c4")],
                          capture_output=True, text=True, timeout=60)
    assert both.returncode == 2 and "not both" in both.stderr
