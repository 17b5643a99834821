"""`clipwb tokenize --json` against OpenAI's real SimpleTokenizer on fresh random texts, without torch.

clip/simple_tokenizer.py is loaded by file path from the installed clip-anytorch (importing the `clip` package
would import torch). The random texts come from notebooks-export/tokenizer_fixture.py's generator, seeded from
the clock; a failure prints the seed (rerun with CLIPWB_TOKENIZER_SEED=<seed>).
"""
import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import ftfy
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
COUNT = int(os.environ.get("CLIPWB_TOKENIZER_COUNT", 400))


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.find_spec("clip")  # finds the package without running its __init__ (torch)
    assert spec and spec.submodule_search_locations, "clip-anytorch is not installed in this venv: run make venv"
    simple = _load("clip_simple_tokenizer", Path(list(spec.submodule_search_locations)[0]) / "simple_tokenizer.py")
    return simple, simple.SimpleTokenizer()


@pytest.fixture(scope="module")
def generator():
    return _load("tokenizer_fixture", ROOT / "notebooks-export/tokenizer_fixture.py")


def run_clipwb(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    assert Path(CLIPWB).exists(), f"no clipwb binary at {CLIPWB}; build it (swift build) or set CLIPWB"
    proc = subprocess.run([CLIPWB, "tokenize", *args], capture_output=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc


def tokenize_json(texts: list, tmp_path: Path) -> list:
    """Texts without '\\n' go through --texts FILE; the others as arguments (argv cannot carry NUL)."""
    rows = []
    lines = [t for t in texts if "\n" not in t]
    if lines:
        f = tmp_path / "texts.txt"
        f.write_bytes("".join(t + "\n" for t in lines).encode("utf-8"))
        rows += json.loads(run_clipwb("--texts", str(f), "--json").stdout)["rows"]
    args = [t for t in texts if "\n" in t]
    if args:
        rows += json.loads(run_clipwb("--json", "--", *args).stdout)["rows"]
    return rows


def reference_row(ids: list, context_length: int = 77) -> list:
    """clip.tokenize(..., truncate=True) for one text, without torch."""
    tokens = [49406] + ids + [49407]
    if len(tokens) > context_length:
        tokens = tokens[:context_length]
        tokens[-1] = 49407
    return tokens + [0] * (context_length - len(tokens))


def test_random_texts_match_openai(reference, generator, tmp_path):
    _, tok = reference
    seed = int(os.environ.get("CLIPWB_TOKENIZER_SEED", time.time_ns() % 2**31))
    texts = [t.replace("\x00", "") if "\n" in t else t for t in generator.random_texts(seed, COUNT)]
    texts += ["a photo of a dog", "Tom &amp; Jerry — “quoted” ﬁne", "word " * 100, ""]
    rows = tokenize_json(texts, tmp_path)
    assert len(rows) == len(texts), f"seed {seed}: clipwb returned {len(rows)} rows for {len(texts)} texts"
    exact = mojibake = 0
    failures = []
    for row in rows:
        text = row["text"]
        ids = tok.encode(text)
        # Texts ftfy's mojibake repair (fix_encoding) changes are counted apart: the path that is hardest to match.
        mojibake += ftfy.fix_text(text) != ftfy.fix_text(text, fix_encoding=False)
        ok = row["ids"] == ids and row["tokens"] == reference_row(ids)
        exact += ok
        if not ok and len(failures) < 5:
            failures.append(f"{text!r}: clipwb {row['ids'][:20]} reference {ids[:20]}")
    print(f"\ntokenizer interop (seed {seed}): {exact}/{len(rows)} exact, {mojibake} of them repaired by "
          f"ftfy.fix_encoding")
    assert not failures, f"seed {seed} (rerun with CLIPWB_TOKENIZER_SEED={seed}):\n" + "\n".join(failures)
    assert exact == len(rows)


def test_parity_texts_match_openai(reference, tmp_path):
    """notebooks-export/texts.txt, the texts `make parity` uses (one of them is deliberate mojibake)."""
    _, tok = reference
    texts = (ROOT / "notebooks-export/texts.txt").read_text(encoding="utf-8").split("\n")
    texts = texts[:-1] if texts[-1] == "" else texts
    rows = json.loads(run_clipwb("--texts", str(ROOT / "notebooks-export/texts.txt"), "--json").stdout)["rows"]
    assert [r["text"] for r in rows] == texts
    assert [r["ids"] for r in rows] == [tok.encode(t) for t in texts]


def test_plain_output_and_context_length(reference):
    _, tok = reference
    out = run_clipwb("a photo of a dog", "hello<|endoftext|>world").stdout.decode()
    assert out.splitlines() == [
        " ".join(map(str, [49406] + tok.encode("a photo of a dog") + [49407])),
        " ".join(map(str, [49406] + tok.encode("hello<|endoftext|>world") + [49407])),
    ]
    doc = json.loads(run_clipwb("--json", "--context-length", "5", "one two three four five").stdout)
    assert doc["context_length"] == 5 and doc["truncate"] is True
    assert doc["rows"][0]["tokens"] == reference_row(tok.encode("one two three four five"), 5)


def test_too_long_without_truncation_is_an_error():
    proc = run_clipwb("--no-truncate", "word " * 80, check=False)
    assert proc.returncode == 2
    assert b"longer than the context length 77" in proc.stderr


def test_invalid_utf8_file_names_line_and_offset(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes(b"red shoes\nblue \xff hat\n")
    proc = run_clipwb("--texts", str(f), check=False)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "not valid UTF-8" in err and "line 2, byte offset 15" in err, err
    f.write_bytes(b"ok\n\xed\xa0\x80 surrogate\n")  # Python's utf-8 codec rejects encoded surrogates too
    assert run_clipwb("--texts", str(f), check=False).returncode == 2


def test_bad_arguments_are_clear_errors(tmp_path):
    proc = run_clipwb(check=False)
    assert proc.returncode != 0 and b"--texts FILE" in proc.stderr
    proc = run_clipwb("--texts", str(tmp_path / "missing.txt"), check=False)
    assert proc.returncode == 2 and b"does not exist" in proc.stderr
    proc = run_clipwb("--context-length", "0", "x", check=False)
    assert proc.returncode != 0 and b"at least 1" in proc.stderr
