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


@pytest.mark.parametrize("batch,shards", [(32, 4), (16, 3), (7, 5)])
def test_merged_shards_equal_one_process(tmp_path, batch, shards):
    imgs = tmp_path / "imgs"
    shutil.copytree(SAMPLES, imgs)
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
    assert one.shape == merged.shape == (200, 64)
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
