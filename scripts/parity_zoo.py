#!/usr/bin/env python3
"""`make parity-zoo` driver (scripts/parity-zoo.sh): every CLIP the zoo covers, exported by its own library
(random init, float32, a reference over 8 ABO photos and notebooks-export/texts-zoo.txt), then checked by
`clipwb verify --json` as the clip-hdf5 file, as `clipwb convert --dtype f32` and `--dtype f16` output and,
for open_clip and Hugging Face, straight from the folder the library writes. One model at a time; each model's
files are deleted once its rows are measured. Results go to WORKDIR/results.jsonl (a re-run with the same
WORKDIR skips what is done) and to the zoo section of docs/parity.md.

Run with the exporter venv's Python (it enumerates open_clip's configs). Entries are SOURCE:NAME[@LAYERS]:
open_clip:ViT-B-32, openai:ViT-L/14@336px, hf:ViT-B-16-quickgelu, open_clip:ViT-H-14@full.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORTER = os.path.join(ROOT, "notebooks-export", "export_clip.py")
BEGIN, END = "<!-- parity-zoo:begin -->", "<!-- parity-zoo:end -->"

# clip.model.CLIP arguments of OpenAI's published ViTs, as --override on the exporter's ViT-B/32 default.
OPENAI = {
    "ViT-B/32": {},
    "ViT-B/16": dict(vision_patch_size=16),
    "ViT-L/14": dict(embed_dim=768, vision_layers=24, vision_width=1024, vision_patch_size=14,
                     transformer_width=768, transformer_heads=12),
    "ViT-L/14@336px": dict(embed_dim=768, image_resolution=336, vision_layers=24, vision_width=1024,
                           vision_patch_size=14, transformer_width=768, transformer_heads=12),
}
DEFAULT_OPENAI = ["ViT-B/32", "ViT-B/16", "ViT-L/14", "ViT-L/14@336px"]
# hf --random-init takes an open_clip config name and builds CLIPConfig with its sizes; hidden_act follows the
# name (quick_gelu for -quickgelu, else gelu). Head widths 64 and 80 (ViT-H), patch 32/16/14, 224 and 336 px.
DEFAULT_HF = ["ViT-B-32-quickgelu", "ViT-B-16", "ViT-L-14-336", "ViT-H-14-quickgelu"]
DEFAULT_FULL = ["openai:ViT-B/16", "openai:ViT-L/14", "openai:ViT-L/14@336px", "open_clip:ViT-B-32",
                "open_clip:ViT-H-14"]

# open_clip config keys of the native OpenAI-style towers (anything else: another tower, pooling or tokenizer).
NATIVE_TOP = {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu"}
NATIVE_VISION = {"width", "layers", "patch_size", "image_size", "head_width", "mlp_ratio", "ls_init_value"}
NATIVE_TEXT = {"width", "layers", "heads", "context_length", "vocab_size", "mlp_ratio", "ls_init_value"}


def open_clip_census():
    """[(name, None)] for every native CLIP config with CLIP's BPE tokenizer, [(name, reason)] for the rest."""
    import logging
    import open_clip
    from open_clip.tokenizer import SimpleTokenizer
    logging.getLogger().setLevel(logging.ERROR)
    out = []
    for name in open_clip.list_models():
        cfg = open_clip.get_model_config(name)
        v, t = cfg.get("vision_cfg", {}), cfg.get("text_cfg", {})
        reason = None
        if "multimodal_cfg" in cfg:
            reason = "CoCa (multimodal decoder)"
        elif "init_logit_bias" in cfg:
            reason = "SigLIP (timm tower, sigmoid loss, own tokenizer)"
        elif "timm_model_name" in v:
            reason = f"timm image tower ({v['timm_model_name']})"
        elif "hf_model_name" in t:
            reason = f"Hugging Face text tower ({t['hf_model_name']})"
        elif isinstance(v.get("layers"), (list, tuple)):
            reason = "ModifiedResNet image tower"
        elif "CLIPA" in name or v.get("no_ln_pre") or v.get("pool_type") == "avg":
            reason = "CLIPA (BERT tokenizer, no ln_pre, average pooling)"
        elif "hf_tokenizer_name" in t:
            reason = f"worldwide: tokenizer {t['hf_tokenizer_name']}, not CLIP's BPE"
        elif set(v) - NATIVE_VISION or set(t) - NATIVE_TEXT or set(cfg) - NATIVE_TOP:
            odd = sorted((set(v) - NATIVE_VISION) | (set(t) - NATIVE_TEXT) | (set(cfg) - NATIVE_TOP))
            reason = "non-native tower options " + ", ".join(odd)
        else:
            tok = open_clip.get_tokenizer(name)
            if type(tok) is not SimpleTokenizer:
                reason = f"tokenizer {type(tok).__name__}"
        out.append((name, reason))
    return out


def parse_entry(entry, default_layers):
    m = re.fullmatch(r"(openai|open_clip|hf):(.+?)(?:@(full|\d+))?", entry)
    if not m or (m.group(1) == "openai" and m.group(2) not in OPENAI):
        sys.exit(f"error: bad entry {entry!r}: SOURCE:NAME[@LAYERS|@full], SOURCE openai|open_clip|hf; openai "
                 f"names: {', '.join(OPENAI)}")
    layers = m.group(3) or default_layers
    return m.group(1), m.group(2), None if layers == "full" else int(layers)


def run(cmd, log):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n[exit {p.returncode}, {time.perf_counter() - t:.1f} s]\n{p.stderr}\n")
    return p


def export_command(py, source, name, layers, seed, out, ref, folder):
    cmd = [py, EXPORTER, "--source", source, "--random-init", "--seed", str(seed), "--dtype", "float32",
           "--threads", "2", "--images", os.path.join(ROOT, "samples/abo"), "--num-images", "8", "--select", "mixed",
           "--texts", os.path.join(ROOT, "notebooks-export/texts-zoo.txt"), "--out", out, "--reference-out", ref]
    if source == "openai":
        arch = dict(OPENAI[name])
        if layers is not None:
            cmd += ["--layers", str(layers)]
            arch.pop("vision_layers", None)
        cmd += [x for k, v in arch.items() for x in ("--override", f"{k}={v}")]
    else:
        cmd += ["--model", name] + (["--layers", str(layers)] if layers is not None else [])
        if folder:
            cmd += ["--folder-out", folder]
    return cmd


def summarize(r):
    """The figures of one verify --json report."""
    return dict(pass_=r["pass"], tokens=f"{r['tokens']['exact']}/{r['tokens']['total']}",
                pixels=r["pixels"]["max_abs_diff"],
                image=min(r["image"]["min_cosine"], r["image_model_only"]["min_cosine"]),
                text=min(r["text"]["min_cosine"], r["text_model_only"]["min_cosine"]),
                image_err=max(r["image"]["max_abs_error"], r["image_model_only"]["max_abs_error"]),
                text_err=max(r["text"]["max_abs_error"], r["text_model_only"]["max_abs_error"]),
                tolerance=r["image"]["tolerance"], weights_dtype=r["weights_dtype"],
                stages={k: r[k]["pass"] for k in ("tokens", "pixels", "image", "image_model_only", "text",
                                                   "text_model_only")})


def measure(args, source, name, layers, seed):
    """Export one model, verify every form of it; returns the result record (files deleted afterwards)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{source}-{name}-{layers or 'full'}").strip("-")
    d = os.path.join(args.workdir, slug)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log = os.path.join(args.workdir, slug + ".log")
    h5, ref = os.path.join(d, "w.h5"), os.path.join(d, "ref.h5")
    folder = os.path.join(d, "folder") if source in ("hf", "open_clip") and not args.no_folder else None
    rec = dict(source=source, name=name, layers=layers, seed=seed, rows=[], refused=None, error=None)
    cmd = export_command(args.python, source, name, layers, seed, h5, ref, folder)
    rec["export_command"] = " ".join(cmd).replace(ROOT + "/", "")
    t0 = time.perf_counter()
    p = run(cmd, log)
    rec["export_s"] = round(time.perf_counter() - t0, 1)
    if p.returncode != 0:
        lines = [l for l in p.stderr.strip().splitlines() if l.strip()]
        rec["refused" if p.returncode == 2 else "error"] = (lines[-1] if lines else f"exit {p.returncode}")[:400]
        shutil.rmtree(d, ignore_errors=True)
        return rec
    forms = [("clip-hdf5", h5)]
    for dtype in args.dtypes.split():
        st = os.path.join(d, f"w-{dtype}.safetensors")
        c = run([args.clipwb, "convert", h5, st, "--dtype", dtype], log)
        if c.returncode != 0:
            rec["rows"].append(dict(form=dtype, stage="convert", error=(c.stderr.strip().splitlines() or ["?"])[-1]))
            continue
        forms.append((dtype, st))
    if folder:
        forms.append(("folder", folder))
    for form, path in forms:
        cmd = [args.clipwb, "verify", "--weights", path, "--reference", ref, "--images",
               os.path.join(ROOT, "samples/abo"), "--json"]
        t = time.perf_counter()
        v = run(cmd, log)
        row = dict(form=form, verify_s=round(time.perf_counter() - t, 1),
                   command=" ".join(cmd).replace(d + "/", "").replace(ROOT + "/", ""))
        if v.returncode in (0, 1) and v.stdout.strip().startswith("{"):
            row.update(summarize(json.loads(v.stdout)))
        else:
            row.update(stage="verify", error=(v.stderr.strip().splitlines() or [f"exit {v.returncode}"])[-1][:400])
        rec["rows"].append(row)
        if form != "clip-hdf5" and form != "folder":
            os.remove(path)
    rec["sizes"] = {"h5_bytes": os.path.getsize(h5)}
    shutil.rmtree(d, ignore_errors=True)
    return rec


def fmt_cos(x):
    return f"{x:.9f}"


def write_doc(args, records, census, planned):
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if l.startswith("Model name")), "unknown CPU")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in
                         ("torch", "open_clip_torch", "transformers", "clip-anytorch", "torchvision", "Pillow", "numpy"))
    native = [n for n, why in census if why is None]
    excluded = {}
    for n, why in census:
        if why:
            excluded.setdefault(why.split(" (")[0] if why.startswith(("timm", "Hugging")) else why.split(":")[0] if why.startswith("worldwide") else why,
                                []).append(n)
    oc_done = [r for r in records if r["source"] == "open_clip" and r["layers"] is not None]
    def ok(r):
        return not r["refused"] and not r["error"] and r["rows"] and all(x.get("pass_") for x in r["rows"])
    L = [BEGIN, "", "## The model zoo: every CLIP family against its own library (`make parity-zoo`)", "",
         f"Generated by `{args.command}` (scripts/parity-zoo.sh → scripts/parity_zoo.py) on "
         f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit}, CPU {cpu} "
         f"({os.cpu_count()} cores), clipwb release build. Exporter venv: {versions}.", "",
         "Each model: `notebooks-export/export_clip.py --source SOURCE --random-init --seed N --dtype float32 "
         "--images samples/abo --num-images 8 --select mixed --texts notebooks-export/texts-zoo.txt` (its own "
         "library's constructor, preprocessing, tokenizer and forward pass; `--layers 2` cuts both towers to 2 "
         "blocks and keeps every width, head and resolution; open_clip and hf also `--folder-out`), then "
         "`clipwb verify --json` on the clip-hdf5 file, on `clipwb convert --dtype f32` and `--dtype f16` output and "
         "on the folder. Tolerances are the verifier's defaults: cosine ≥ 0.99999 for float32 weights, ≥ 0.9995 for "
         "an f16 copy of the float32 reference (`Tolerances.float16Cosine`), pixels ≤ 1e-5, tokens exact. Cosine "
         "columns are the minimum over end to end and model only; a model's files are deleted once its rows are "
         "measured.", "",
         f"open_clip {metadata.version('open_clip_torch')}: `open_clip.list_models()` lists {len(census)} configs; "
         f"**{len(native)}** are native CLIPs with CLIP's BPE tokenizer (filter: the config's keys, "
         f"`get_tokenizer` is `SimpleTokenizer`); {len(oc_done)} of them were run here with `--layers` "
         f"{args.layers}, **{sum(ok(r) for r in oc_done)} passed every row**. All entries: {len(records)} run of "
         f"{len(planned)} planned, {sum(ok(r) for r in records)} passed every row, "
         f"{sum(bool(r['refused']) for r in records)} refused by the exporter, "
         f"{sum(bool(r['error']) for r in records)} exporter errors.", "",
         "| config | source | layers | seed | weights | tokens exact | pixels max \\|Δ\\| | image min cos | "
         "text min cos | max \\|err\\| img / txt | result |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        depth = "full" if r["layers"] is None else str(r["layers"])
        head = f"| {r['name']} | {r['source']} | {depth} | {r['seed']} "
        if r["refused"] or r["error"]:
            L.append(head + f"| — | exporter {'refused' if r['refused'] else 'error'}: "
                            f"{(r['refused'] or r['error']).replace('|', '/')} | | | | | |")
            continue
        for x in r["rows"]:
            if "error" in x:
                L.append(head + f"| {x['form']} | {x['stage']} failed: {x['error'].replace('|', '/')} | | | | | **FAIL** |")
                continue
            L.append(head + f"| {x['form']} | {x['tokens']} | {x['pixels']:.2e} | {fmt_cos(x['image'])} | "
                            f"{fmt_cos(x['text'])} | {x['image_err']:.1e} / {x['text_err']:.1e} | "
                            f"{'PASS' if x['pass_'] else '**FAIL**'} (≥ {x['tolerance']}) |")
    L += ["", "open_clip configs left out (not native CLIP towers or not CLIP's BPE tokenizer):", ""]
    for why, names in sorted(excluded.items(), key=lambda kv: -len(kv[1])):
        L.append(f"- {why}: {len(names)} ({', '.join(names)})")
    ran = {(r["source"], r["name"], r["layers"]) for r in records}
    missing = [e for e in planned if parse_entry(e, args.layers) not in ran]
    if missing:
        L += ["", f"**Not run** in this pass ({len(missing)} of {len(planned)} planned, "
                  "see the note below): " + ", ".join(f"`{e}`" for e in missing) + "."]
    failed = [r for r in records if not ok(r)]
    if failed:
        L += ["", "Not passing (reproduce: the exporter command, then the verify command in the row):", ""]
        for r in failed:
            L.append(f"- {r['source']} {r['name']} layers {r['layers'] or 'full'}: `{r['export_command']}`")
    for note in args.note:
        L += ["", note]
    L += ["", END, ""]
    text = "\n".join(L)
    doc = open(args.out, encoding="utf-8").read() if os.path.exists(args.out) else ""
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END) + 1:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(doc)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clipwb", required=True)
    p.add_argument("--python", default=sys.executable, help="the exporter venv's python")
    p.add_argument("--workdir", required=True)
    p.add_argument("--out", default=os.path.join(ROOT, "docs/parity.md"))
    p.add_argument("--layers", default="2", help="depth of the cut models (default 2)")
    p.add_argument("--open-clip", default="all", help="'all' (every native config), 'none' or names")
    p.add_argument("--openai", default=" ".join(DEFAULT_OPENAI), help="'none' or names (ViT-B/32 ViT-L/14 ...)")
    p.add_argument("--hf", default=" ".join(DEFAULT_HF), help="'none' or open_clip config names for CLIPConfig sizes")
    p.add_argument("--full", default=" ".join(DEFAULT_FULL), help="'none' or SOURCE:NAME entries at full depth")
    p.add_argument("--extra", default="", help="more SOURCE:NAME[@LAYERS|@full] entries")
    p.add_argument("--no-folder", action="store_true", help="skip the --folder-out forms")
    p.add_argument("--dtypes", default="f32 f16", help="the clipwb conversions to verify (default 'f32 f16'; bf16 too)")
    p.add_argument("--command", default="make parity-zoo")
    p.add_argument("--note", action="append", default=[], help="a paragraph to add under the table (repeatable)")
    p.add_argument("--report-only", action="store_true",
                   help="write the page from WORKDIR/results.jsonl without running anything (entries not run are listed)")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    census = open_clip_census()
    words = lambda s: [] if s.strip() in ("", "none") else s.split()
    oc = [n for n, why in census if why is None] if args.open_clip == "all" else words(args.open_clip)
    planned = ([f"open_clip:{n}" for n in oc] + [f"openai:{n}" for n in words(args.openai)] +
               [f"hf:{n}" for n in words(args.hf)] + [f"{e}@full" for e in words(args.full)] + words(args.extra))
    results = os.path.join(args.workdir, "results.jsonl")
    done = {}
    if os.path.exists(results):
        for line in open(results):
            r = json.loads(line)
            done[(r["source"], r["name"], r["layers"])] = r
    records = []
    for i, entry in enumerate(planned):
        source, name, layers = parse_entry(entry, args.layers)
        key = (source, name, layers)
        if key in done:
            records.append(done[key])
            continue
        if args.report_only:
            continue
        seed = zlib.crc32(entry.encode()) % 10000  # fixed per entry, different across entries
        print(f"parity-zoo: [{i + 1}/{len(planned)}] {source} {name} layers {layers or 'full'} seed {seed}",
              file=sys.stderr, flush=True)
        rec = measure(args, source, name, layers, seed)
        for x in rec["rows"]:
            print(f"  {x['form']}: " + (f"{'PASS' if x['pass_'] else 'FAIL'} tokens {x['tokens']} pixels "
                                        f"{x['pixels']:.1e} image {x['image']:.9f} text {x['text']:.9f}"
                                        if "error" not in x else f"{x['stage']} error: {x['error']}"),
                  file=sys.stderr, flush=True)
        if rec["refused"] or rec["error"]:
            print(f"  exporter {'refused' if rec['refused'] else 'error'}: {rec['refused'] or rec['error']}",
                  file=sys.stderr, flush=True)
        with open(results, "a") as f:
            f.write(json.dumps(rec) + "\n")
        records.append(rec)
        write_doc(args, records, census, planned)
    write_doc(args, records, census, planned)
    bad = [r for r in records if r["refused"] or r["error"] or not all(x.get("pass_") for x in r["rows"])]
    print(f"parity-zoo: {len(records)} models, {len(records) - len(bad)} passed every row; wrote {args.out}",
          file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
