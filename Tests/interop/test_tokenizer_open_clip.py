"""`clipwb tokenize --tokenizer open_clip` against open_clip 3.3.0's real SimpleTokenizer, without torch.

open_clip/tokenizer.py imports torch at module level but its SimpleTokenizer.encode needs only ftfy, regex and
the BPE file; open_clip_torch==3.3.0 is installed with --no-deps (Makefile) and the file is executed as written
except for that one import line (annotations postponed so `-> torch.LongTensor` is never evaluated). The row is
its __call__'s: [sot] + encode + [eot], cut to 77 with the last id set to eot (that part uses torch, so it is
spelled out in `reference_row`). Random texts as in test_tokenizer.py; the seed is printed on failure.
"""
import importlib.util
import json
import os
import subprocess
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIPWB = os.environ.get("CLIPWB", str(ROOT / ".build/debug/clipwb"))
COUNT = int(os.environ.get("CLIPWB_TOKENIZER_COUNT", 300))
SPECIAL = ["<start_of_text>", "<end_of_text>", "<|startoftext|>", "<|endoftext|>"]


@pytest.fixture(scope="module")
def open_clip_tokenizer():
    spec = importlib.util.find_spec("open_clip")  # the package, without running its __init__ (torch)
    assert spec and spec.submodule_search_locations, "open_clip_torch is not installed in this venv: run make venv"
    path = Path(list(spec.submodule_search_locations)[0]) / "tokenizer.py"
    source = path.read_text(encoding="utf-8")
    assert source.count("\nimport torch\n") == 1, "open_clip/tokenizer.py changed: check what it needs torch for"
    module = types.ModuleType("open_clip_tokenizer")
    module.__file__ = str(path)  # default_bpe() finds bpe_simple_vocab_16e6.txt.gz beside it
    code = "from __future__ import annotations\n" + source.replace("\nimport torch\n", "\n")
    exec(compile(code, str(path), "exec"), module.__dict__)
    return module.SimpleTokenizer()  # the defaults open_clip.get_tokenizer uses for its CLIP models


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("tokenizer_fixture", ROOT / "notebooks-export/tokenizer_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clipwb_rows(texts: list, tmp_path: Path, tokenizer: str = "open_clip") -> list:
    f = tmp_path / "texts.txt"
    f.write_bytes("".join(t + "\n" for t in texts).encode("utf-8"))
    proc = subprocess.run([CLIPWB, "tokenize", "--tokenizer", tokenizer, "--texts", str(f), "--json"],
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return json.loads(proc.stdout)["rows"]


def reference_row(tok, text: str, context_length: int = 77) -> list:
    tokens = [tok.sot_token_id] + tok.encode(text) + [tok.eot_token_id]
    if len(tokens) > context_length:
        tokens = tokens[:context_length]
        tokens[-1] = tok.eot_token_id
    return tokens + [0] * (context_length - len(tokens))


def test_random_and_special_texts_match_open_clip(open_clip_tokenizer, generator, tmp_path):
    tok = open_clip_tokenizer
    assert (tok.sot_token_id, tok.eot_token_id) == (49406, 49407)
    seed = int(os.environ.get("CLIPWB_TOKENIZER_SEED", time.time_ns() % 2**31))
    texts = [t for t in generator.random_texts(seed, COUNT) if "\n" not in t and "\r" not in t]
    texts += ["a photo of <|endoftext|> and <end_of_text>", "<START_OF_TEXT>x", "<<start_of_text>>",
              "<ſtart_of_text>", "word " * 100, "", "a\u00a0b\u2003c\u3000d", "x\x1cy"]
    texts += [f"{a}{s}{b}" for s in SPECIAL for a, b in [("", ""), ("a ", " b"), ("é", "9")]]
    rows = clipwb_rows(texts, tmp_path)
    assert [r["text"] for r in rows] == texts
    bad = [f"{r['text']!r}: clipwb {r['tokens'][:12]} open_clip {reference_row(tok, r['text'])[:12]}"
           for r in rows if r["tokens"] != reference_row(tok, r["text"]) or r["ids"] != tok.encode(r["text"])]
    print(f"\nopen_clip tokenizer interop (seed {seed}): {len(rows) - len(bad)}/{len(rows)} exact")
    assert not bad, f"seed {seed} (rerun with CLIPWB_TOKENIZER_SEED={seed}):\n" + "\n".join(bad[:5])


def test_openai_kind_differs_exactly_on_the_special_spellings(open_clip_tokenizer, tmp_path):
    """Negative control: the OpenAI tokenizer's rows agree with open_clip's on ordinary text and differ on
    every text containing a special-token spelling of either library."""
    tok = open_clip_tokenizer
    texts = ["a photo of a dog", "Tom &amp; Jerry", "word " * 100]
    texts += [f"a {s} b" for s in SPECIAL]
    rows = clipwb_rows(texts, tmp_path, tokenizer="openai")
    same = [r["tokens"] == reference_row(tok, r["text"]) for r in rows]
    assert same == [True, True, True, False, False, False, False]
