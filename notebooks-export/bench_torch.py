"""`make bench-encoders`: our Swift encoders against PyTorch's (OpenAI `clip`, torch.set_num_threads(2)) on the
same machine in the same run, interleaved round by round, medians over every timed repetition.

Modes:
  drive   run rounds of `clipwb benchmark encoders` and of `worker` alternately, cold starts, peak RSS;
          write the markdown section (docs/benchmarks-encoders.md).
  worker  one round of PyTorch timings (JSON on stdout), same keys as `clipwb benchmark encoders`.
  cold    load weights, embed one text, print it: the PyTorch side of the cold-start measurement.
  models  the bigger models (ViT-B/16, ViT-L/14, open_clip ViT-H-14, full depth): image encoding at batch 1 and
          16, ours (f32 .safetensors, f16 read directly) against the model's own library, interleaved round by
          round, peak RSS of every round's process; writes docs/benchmarks-encoders-zoo.md.
  images  one round of PyTorch image timings for `models` (JSON on stdout).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

QUERIES = [
    "red chair", "blue sofa", "wooden table", "black office chair", "white desk lamp", "leather boots",
    "running shoes", "ceramic mug", "steel water bottle", "kids backpack", "smart tv", "usb cable",
    "green velvet sofa", "throw pillow", "glass vase", "floor lamp", "bar stool", "bookshelf",
    "bed frame", "wall clock", "coffee maker", "dining chair", "area rug", "table lamp",
    "garden bench", "shoe rack", "kitchen knife", "frying pan", "wine glass", "desk organizer",
    "phone case", "laptop stand",
]


def repeat_timed(fn, reps):
    """Seconds of each of `reps` calls of fn, after one untimed warm-up call."""
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out

def load_torch_model(weights):
    """clip.model.build_model on the state dict of a clip-hdf5 file, float32, eval mode."""
    import h5py
    import numpy as np
    import torch
    from clip.model import build_model
    with h5py.File(weights, "r") as f:
        sd = {k: torch.from_numpy(np.asarray(v[...], dtype=np.float32)) for k, v in f["state_dict"].items()}
    return build_model(sd).float().eval()


def worker(args):
    import torch
    import clip
    from PIL import Image
    torch.set_num_threads(2)
    model = load_torch_model(args.weights)
    preprocess = clip.clip._transform(model.visual.input_resolution)
    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith((".jpg", ".jpeg", ".png")))[:16]
    paths = [os.path.join(args.images, n) for n in names]
    queries = [l.rstrip("\n") for l in open(args.texts, encoding="utf-8")][:32]

    def timed(fn):
        return repeat_timed(fn, args.reps)

    pixels = {}
    def prep():
        pixels["x"] = torch.stack([preprocess(Image.open(p)) for p in paths])
    o = {"threads": torch.get_num_threads(), "preprocess_16": timed(prep)}
    x = pixels["x"]
    with torch.no_grad():
        o["image_b1"] = timed(lambda: model.encode_image(x[:1]))
        o["image_b16"] = timed(lambda: model.encode_image(x))
        t1, t32 = clip.tokenize(queries[:1]), clip.tokenize(queries)
        o["text_b1"] = timed(lambda: model.encode_text(clip.tokenize(queries[:1])))
        o["text_b32"] = timed(lambda: model.encode_text(clip.tokenize(queries)))
    o["text_b1_tokens"] = int(t1.shape[0] * t1.shape[1])
    o["text_b32_tokens"] = int(t32.shape[0] * t32.shape[1])
    json.dump(o, sys.stdout)


def cold(args):
    import torch
    import clip
    torch.set_num_threads(2)
    model = load_torch_model(args.weights)
    with torch.no_grad():
        e = model.encode_text(clip.tokenize([args.text]))[0]
    print(json.dumps(e.tolist()[:4]))


def run_measured(cmd, env=None):
    """Runs cmd; returns (stdout, wall seconds from start to exit)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}:\n{err.decode()}")
    return out.decode(), wall


def peak_rss(cmd):
    """Peak RSS (MiB) of one run of cmd, from GNU time's %M."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr}")
    return int(p.stderr.strip().splitlines()[-1]) / 1024


def drive(args):
    qfile = os.path.join(args.workdir, "bench-queries.txt")
    with open(qfile, "w", encoding="utf-8") as f:
        f.write("\n".join(QUERIES) + "\n")
    ours_cmd = [args.clipwb, "benchmark", "encoders", "--weights", args.ours_weights, "--images", args.images,
                "--texts", qfile, "--reps", str(args.reps)]
    torch_cmd = [sys.executable, __file__, "worker", "--weights", args.weights, "--images", args.images,
                 "--texts", qfile, "--reps", str(args.reps)]
    rounds = {"ours": [], "torch": []}
    args.load_before = open("/proc/loadavg").read().split()[0]
    sgemm = json.loads(subprocess.run(ours_cmd + ["--sgemm"], capture_output=True, text=True, check=True).stdout)["sgemm_gflops"]
    for r in range(args.rounds):
        for side, cmd in (("ours", ours_cmd), ("torch", torch_cmd)) if r % 2 == 0 else (("torch", torch_cmd), ("ours", ours_cmd)):
            out, _ = run_measured(cmd)
            rounds[side].append(json.loads(out))
            print(f"bench-encoders: round {r + 1}/{args.rounds} {side} done", file=sys.stderr)
    cold_times = {"ours": [], "torch": []}
    ours_cold = [args.clipwb, "embed", "--weights", args.ours_weights, "--text", "a red chair"]
    torch_cold = [sys.executable, __file__, "cold", "--weights", args.weights, "--text", "a red chair"]
    for _ in range(args.rounds):
        cold_times["ours"].append(run_measured(ours_cold)[1])
        cold_times["torch"].append(run_measured(torch_cold)[1])
    rss = {"ours": peak_rss(ours_cmd), "torch": peak_rss(torch_cmd)}
    args.load_after = open("/proc/loadavg").read().split()[0]
    write_report(args, rounds, cold_times, rss, sgemm, ours_cmd, torch_cmd)


def write_report(args, rounds, cold_times, rss, sgemm, ours_cmd, torch_cmd):
    def med(side, key):
        return statistics.median(v for r in rounds[side] for v in r[key])
    o = rounds["ours"][0]
    rows = []
    def row(label, key, n, gflop=None):
        ours, theirs = n / med("ours", key), n / med("torch", key)
        g = ""
        if gflop is not None:
            go, gt = gflop[0] * ours / n, gflop[1] * theirs / n
            g = f" | {go:.0f} ({go / sgemm:.0%}) | {gt:.0f} ({gt / sgemm:.0%})"
        rows.append(f"| {label} | {ours:.1f} | {theirs:.1f} | **{ours / theirs:.2f}×**{g} |")
    width = o["text_gflop_b1"] / max(1, o["text_b1_tokens"])  # per-token cost, for the 77-position figure
    row("decode + preprocess, 16 images (images/s)", "preprocess_16", 16)
    rows[-1] += " | |"
    row("image encoding, batch 1 (images/s)", "image_b1", 1, (o["image_gflop"], o["image_gflop"]))
    row("image encoding, batch 16 (images/s)", "image_b16", 16, (16 * o["image_gflop"], 16 * o["image_gflop"]))
    row("text encoding, batch 1 (texts/s)", "text_b1", 1, (o["text_gflop_b1"], 77 * width))
    row("text encoding, batch 32 (texts/s)", "text_b32", 32, (o["text_gflop_b32"], 32 * 77 * width))
    co, ct = statistics.median(cold_times["ours"]), statistics.median(cold_times["torch"])
    L = ["## Encoders: Swift (OpenBLAS) against PyTorch", "",
         f"`make bench-encoders` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
         f"{os.cpu_count()} cores; ours: {o['threads']} threads (our pool; OpenBLAS single-threaded inside it), "
         f"PyTorch: torch.set_num_threads(2). {args.rounds} rounds, ours and PyTorch alternating (order swapped every "
         f"round), {args.reps} timed repetitions per round after a warm-up; figures are medians of all "
         f"{args.rounds * args.reps} repetitions. {args.model_label}, float32 weights. "
         f"1-minute load average {args.load_before} before, {args.load_after} after (other work on the machine "
         "slows both sides; the ratios are what the interleaving protects).", "",
         f"OpenBLAS sgemm peak in the same run (2048³, 2 threads): **{sgemm:.0f} GFLOP/s**. GFLOP/s columns count "
         "the multiply-adds each side actually performs (PyTorch's text encoder computes all 77 positions, ours stops "
         "at the end token), with their fraction of that peak.", "",
         "| what | ours | PyTorch | ratio | ours GFLOP/s (of peak) | PyTorch GFLOP/s (of peak) |", "|---|---|---|---|---|---|",
         *rows,
         f"| cold start: process start → first text embedding printed (s) | {co:.2f} | {ct:.2f} | **{ct / co:.1f}× faster** | | |",
         f"| peak RSS, one benchmark round (MiB) | {rss['ours']:.0f} | {rss['torch']:.0f} | {rss['torch'] / rss['ours']:.1f}× less | | |",
         "", "Short queries (32, 2–3 words), e.g. " + ", ".join(f"“{q}”" for q in QUERIES[:4]) + ". "
         f"Ours sees {o['text_b32_tokens']} token positions for the 32 queries, PyTorch {32 * 77}.",
         "", "Notes: decode + preprocess is ours on the worker pool (both cores) against PIL + torchvision one image "
         "after another, as `clip`'s preprocess is used; both produce identical pixels (docs/parity.md). Cold start is "
         "the wall time of a whole process: ours maps the f32 .safetensors file in place; PyTorch's side imports torch "
         "and clip, reads the clip-hdf5 file with h5py and runs clip.model.build_model (the only way `clip` loads a "
         "state dict), then tokenizes and encodes. Peak RSS is GNU time's maximum resident set of one benchmark round.",
         "", "Commands:", "", "```", " ".join(ours_cmd), " ".join(torch_cmd),
         f"cold start: {args.clipwb} embed --weights {args.ours_weights} --text 'a red chair'  vs  bench_torch.py cold", "```", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(L))
    print("\n".join(L))


def torch_kernels():
    """What PyTorch computes with here: its CPU capability, BLAS and oneDNN, from torch.__config__."""
    import torch
    cfg = torch.__config__.show()
    blas = next((l.split("BLAS_INFO=", 1)[1].split(",")[0] for l in cfg.splitlines() if "BLAS_INFO=" in l), "?")
    mkl = next((l.strip(" -") for l in cfg.splitlines() if "Math Kernel Library" in l), "")
    dnn = next((l.strip(" -") for l in cfg.splitlines() if "MKL-DNN" in l), "")
    return (f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, BLAS_INFO={blas} "
            f"({mkl.split(' Product')[0].split('-Product')[0]}), {dnn.split(' (')[0]} "
            f"({'enabled' if torch.backends.mkldnn.enabled else 'disabled'}), {torch.get_num_threads()} threads")


def load_library_model(library, name, weights):
    """The reference library's own model class with the clip-hdf5 file's float32 weights, built lean: the module
    is made on the meta device, given empty CPU storage, and every tensor is read from the file straight into
    its parameter (so PyTorch's peak memory is one copy of the weights, as ours is; no random init pass)."""
    import h5py
    import numpy as np
    import torch
    with h5py.File(weights, "r") as f:
        names = list(f["state_dict"].keys())
        if library == "openai":
            from clip.model import CLIP
            c = dict(f["config"].attrs) if "config" in f else None
            keys = ("embed_dim", "image_resolution", "vision_width", "context_length", "vocab_size",
                    "transformer_width", "transformer_heads", "transformer_layers")
            kwargs = {k: int(c[k]) for k in keys}
            if "resnet_layers" in c:  # a ModifiedResNet: vision_layers is the Bottlenecks per stage, no patch size
                kwargs.update(vision_layers=tuple(int(n) for n in c["resnet_layers"]), vision_patch_size=None)
            else:
                kwargs.update(vision_layers=int(c["vision_layers"]), vision_patch_size=int(c["vision_patch_size"]))
            with torch.device("meta"):
                model = CLIP(**kwargs)
        else:
            import open_clip
            from open_clip.model import CLIP as OpenClipCLIP
            cfg = open_clip.get_model_config(name)  # what create_model(name) builds, without its device moves
            with torch.device("meta"):
                model = OpenClipCLIP(**cfg)
        model = model.to_empty(device="cpu")
        own = dict(model.state_dict(keep_vars=True))
        for k in names:
            if k in own:
                own.pop(k).data.copy_(torch.from_numpy(np.asarray(f["state_dict"][k][...], dtype=np.float32)))
        for k in [k for k in own if k.endswith("num_batches_tracked")]:  # BatchNorm's counter, unused in eval mode
            own.pop(k).data.zero_()
        missing = [k for k in own if not k.endswith("attn_mask")]
        if missing:
            sys.exit(f"error: {weights} lacks {missing[:5]} for {library} {name}")
    n = model.context_length  # the causal mask both libraries build (clip: build_attention_mask; open_clip: a buffer)
    mask = torch.empty(n, n).fill_(float("-inf")).triu_(1)
    if library == "openai":
        for block in model.transformer.resblocks:
            block.attn_mask = mask
    else:
        model.attn_mask = mask
    return model.float().eval()


def images_worker(args):
    import torch
    from PIL import Image
    torch.set_num_threads(2)
    t = time.perf_counter()
    model = load_library_model(args.library, args.model, args.weights)
    load_s = time.perf_counter() - t
    if args.library == "openai":
        import clip
        preprocess = clip.clip._transform(model.visual.input_resolution)
    else:
        from open_clip.transform import PreprocessCfg, image_transform_v2
        preprocess = image_transform_v2(PreprocessCfg(size=model.visual.image_size), is_train=False)
    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith((".jpg", ".jpeg", ".png")))[:16]
    x = torch.stack([preprocess(Image.open(os.path.join(args.images, n)).convert("RGB")) for n in names])

    def timed(fn):
        return repeat_timed(fn, args.reps)
    with torch.no_grad():
        o = {"threads": torch.get_num_threads(), "load_s": load_s,
             "image_b1": timed(lambda: model.encode_image(x[:1])),
             "image_b16": timed(lambda: model.encode_image(x))}
    json.dump(o, sys.stdout)


def resumed_rounds(logs, label):
    """The rounds of an earlier, interrupted `models` run of --reps 1, from its log lines (the one timing of each
    side per round, printed to 10 ms, and its peak RSS): [{side: (b1 s, b16 s, RSS MiB)}] in round order; the
    sides a round lacks run again. Several logs: a round's sides are gathered by round number."""
    import re
    found = {}
    for log in logs or []:
        for line in open(log, encoding="utf-8"):
            m = re.match(r"bench-encoders: (.+) round (\d+)/\d+ (.+): b1 ([\d.]+) s, b16 ([\d.]+) s, peak RSS (\d+) MiB", line)
            if m and m.group(1) == label:
                found.setdefault(int(m.group(2)), {})[m.group(3)] = (float(m.group(4)), float(m.group(5)),
                                                                           float(m.group(6)))
    return [found[key] for key in sorted(found)]


def sgemm_peak(clipwb, images, env):
    """OpenBLAS's sgemm peak (2048³, 2 threads) as `clipwb benchmark encoders --sgemm` measures it, with the
    committed tiny ResNet fixture as the (negligible) model."""
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights", "zoo", "rn-tiny.h5")
    out, _ = run_with_rss([clipwb, "benchmark", "encoders", "--weights", fixture, "--images", images,
                           "--images-only", "--reps", "1", "--sgemm"], env)
    return json.loads(out)["sgemm_gflops"]


def run_with_rss(cmd, env=None):
    """Runs cmd under GNU time; returns (stdout, peak RSS MiB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout, int(p.stderr.strip().splitlines()[-1]) / 1024


def models_drive(args):
    """For each model in turn: rounds of ours f32, ours f16 (read directly) and PyTorch, order rotated every round."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    doctor = subprocess.run([args.clipwb, "doctor"], capture_output=True, text=True, env=env).stdout
    mkl = subprocess.run([sys.executable, "-c", "import torch; torch.set_num_threads(2); a = torch.randn(64, 64); a @ a"],
                         capture_output=True, text=True, env={**env, "MKL_VERBOSE": "1"}).stdout
    mkl_isa = next((l.split(" architecture ", 1)[-1].strip() for l in mkl.splitlines()
                    if l.startswith("MKL_VERBOSE") and "architecture" in l), "?")
    tk = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                         "import torch; torch.set_num_threads(2); import bench_torch; print(bench_torch.torch_kernels())"],
                        capture_output=True, text=True, env=env).stdout.strip() + f"; MKL_VERBOSE: {mkl_isa}"
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True)
                .stdout.splitlines() if l.startswith("Model name")), "?")
    load_before = open("/proc/loadavg").read().split()[0]
    started = datetime.datetime.now(datetime.timezone.utc)
    results = []
    for spec in args.model:
        label, library, name, h5, st32, st16 = spec.split(",")
        sides = {
            "ours f32": [args.clipwb, "benchmark", "encoders", "--weights", st32, "--images", args.images,
                         "--images-only", "--reps", str(args.reps)],
            "ours f16 direct": [args.clipwb, "benchmark", "encoders", "--weights", st16, "--halves", "direct",
                                "--images", args.images, "--images-only", "--reps", str(args.reps)],
            "PyTorch": [sys.executable, os.path.abspath(__file__), "images", "--library", library, "--model", name,
                        "--weights", h5, "--images", args.images, "--reps", str(args.reps)],
        }
        order = list(sides)
        rounds = {k: [] for k in sides}
        rss = {k: [] for k in sides}
        prior = resumed_rounds(args.resume_log, label)
        sgemm = []  # OpenBLAS's 2048³ sgemm GFLOP/s, measured at the start of every new round (same load)
        for r in range(args.rounds):
            if not args.no_new_rounds:
                sgemm.append(sgemm_peak(args.clipwb, args.images, env))
            for side in order[r % 3:] + order[:r % 3]:
                if args.no_new_rounds and not (r < len(prior) and side in prior[r]):
                    continue
                if r < len(prior) and side in prior[r]:
                    b1, b16, peak = prior[r][side]
                    rounds[side].append(dict(image_b1=[b1], image_b16=[b16]))
                    rss[side].append(peak)
                    continue
                load = open("/proc/loadavg").read().split()[0]
                out, peak = run_with_rss(sides[side], env)
                rounds[side].append({**json.loads(out), "load": load})
                rss[side].append(peak)
                print(f"bench-encoders: {label} round {r + 1}/{args.rounds} {side}: b1 "
                      f"{statistics.median(rounds[side][-1]['image_b1']):.2f} s, b16 "
                      f"{statistics.median(rounds[side][-1]['image_b16']):.2f} s, peak RSS {peak:.0f} MiB",
                      file=sys.stderr, flush=True)
        results.append(dict(label=label, library=library, name=name, h5=h5, st32=st32, st16=st16,
                            sizes={k: os.path.getsize(p) for k, p in (("h5", h5), ("st32", st32), ("st16", st16))},
                            rounds=rounds, rss=rss, commands=sides, sgemm=sgemm,
                            gflop=rounds["ours f32"][0].get("image_gflop")))
        write_models_report(args, results, doctor, tk, cpu, load_before, started)  # after each model: partial runs count


def write_models_report(args, results, doctor, tk, cpu, load_before, started):
    core = next((" ".join(l.split()) for l in doctor.splitlines() if "kernels" in l), "?")
    blas = next((" ".join(l.split()) for l in doctor.splitlines() if l.startswith("BLAS:")), "")
    peak = statistics.median(g for m in results for g in m.get("sgemm", [])) if any(m.get("sgemm") for m in results) else None
    L = [f"## {args.title} (`make bench-encoders`)", "",
         (f"Assembled on {started:%Y-%m-%d %H:%M} UTC from the rounds logged by earlier runs (--resume-log "
          f"{' '.join(args.resume_log or [])}); " if args.no_new_rounds else
          f"{started:%Y-%m-%d %H:%M} UTC; 1-minute load average {load_before} at the start, "
          f"{open('/proc/loadavg').read().split()[0]} at the end; ") +
         f"CPU {cpu}, {os.cpu_count()} cores. Both sides ran with "
         "`OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` unset.", "",
         f"- ours: clipwb release build, 2 threads (its pool; OpenBLAS single-threaded inside it). `clipwb doctor`: "
         f"{core}{'; ' + blas if blas else ''}.",
         f"- PyTorch: {tk}. The reference library's own model class (OpenAI `clip.model.CLIP` for ViT-B/16 and "
         "ViT-L/14, `open_clip.model.CLIP(**open_clip.get_model_config('ViT-H-14'))` for ViT-H-14, what "
         "`create_model` builds) made on the meta device and filled "
         "tensor by tensor from the same float32 clip-hdf5 file (one copy of the weights in memory, no random-init "
         "pass), `torch.no_grad()`, `encode_image`.",
         f"- Random-init weights (`export_clip.py --random-init`, full depth, float32), converted with `clipwb "
         "convert --dtype f32` and `--dtype f16`; ours f16 runs `--halves direct` (the encoders read the f16 "
         "matrices as stored).",
         f"- Rounds per model: " + ", ".join(f"{m['label']} {len(m['rounds']['PyTorch'])}" for m in results) +
         f"; one process per side per round, the order of the three sides rotated every round; {args.reps} timed "
         f"repetition(s) per process after a warm-up call; images/s from the median of all repetitions. 16 photos of `{args.images}` (the first by name). Peak RSS: "
         "GNU time's maximum resident set of each process (load + warm-up + timings), the largest over the rounds; "
         "ours maps the weight file, so its pages count in full." + (
             f" OpenBLAS's sgemm peak (2048³, 2 threads), measured before every round: "
             + ", ".join(f"{g:.0f}" for m in results for g in m.get("sgemm", []))
             + f" GFLOP/s, median **{peak:.0f}**; the GFLOP/s columns are the model's multiply-adds × 2 (the same "
             "for both sides) × images/s, with their fraction of that median." if peak else ""), "",
         "| model | weights | side | batch 1 images/s | ratio vs PyTorch | batch 16 images/s | ratio vs PyTorch | "
         "peak RSS MiB | RSS vs PyTorch |" + (" GFLOP/s b1 (of peak) | GFLOP/s b16 (of peak) |" if peak else ""),
         "|---|---|---|---|---|---|---|---|---|" + ("---|---|" if peak else "")]
    for m in results:
        def ips(side, key, n):
            return n / statistics.median(v for r in m["rounds"][side] for v in r[key])
        t1, t16, tr = ips("PyTorch", "image_b1", 1), ips("PyTorch", "image_b16", 16), max(m["rss"]["PyTorch"])
        for side in ("ours f32", "ours f16 direct", "PyTorch"):
            b1, b16, r = ips(side, "image_b1", 1), ips(side, "image_b16", 16), max(m["rss"][side])
            size = m["sizes"]["h5" if side == "PyTorch" else "st32" if side == "ours f32" else "st16"] / 2**20
            ratio = lambda a, b: "" if side == "PyTorch" else f"**{a / b:.2f}×**"
            g = m.get("gflop")
            flops = (f" {g * b1:.0f} ({g * b1 / peak:.0%}) | {g * b16:.0f} ({g * b16 / peak:.0%}) |" if peak and g
                     else " | |" if peak else "")
            L.append(f"| {m['label']} | {size:,.0f} MiB | {side} | {b1:.2f} | {ratio(b1, t1)} | {b16:.2f} | "
                     f"{ratio(b16, t16)} | {r:,.0f} | {'' if side == 'PyTorch' else f'{r / tr:.2f}×'} |" + flops)
    L += ["", "Per-round figures (images/s at batch 16, median of the round's repetitions; peak RSS MiB; the 1-minute "
          "load average when the process started):", ""]
    for m in results:
        for side in ("ours f32", "ours f16 direct", "PyTorch"):
            L.append(f"- {m['label']}, {side}: " + ", ".join(
                f"{16 / statistics.median(r['image_b16']):.2f} ({rs:,.0f} MiB" + (f", load {r['load']})" if "load" in r else ")")
                for r, rs in zip(m["rounds"][side], m["rss"][side])))
    L += ["", "Commands (one round; `scripts/bench-encoders.sh`, `make bench-encoders`):", "", "```"]
    for m in results:
        for side, cmd in m["commands"].items():
            L.append(" ".join(cmd).replace(os.getcwd() + "/", ""))
    L += ["```", ""]
    with open(args.out, "w") as f:
        f.write("\n".join(L))
    print("\n".join(L))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--weights", required=True)
    w.add_argument("--images", required=True)
    w.add_argument("--texts", required=True)
    w.add_argument("--reps", type=int, default=3)
    c = sub.add_parser("cold")
    c.add_argument("--weights", required=True)
    c.add_argument("--text", required=True)
    d = sub.add_parser("drive")
    d.add_argument("--clipwb", required=True)
    d.add_argument("--weights", required=True, help="clip-hdf5 float32 weights (PyTorch side)")
    d.add_argument("--ours-weights", required=True, help="the same weights converted by clipwb convert (our side)")
    d.add_argument("--images", required=True)
    d.add_argument("--rounds", type=int, default=5)
    d.add_argument("--reps", type=int, default=3)
    d.add_argument("--workdir", default="/tmp")
    d.add_argument("--out", required=True)
    d.add_argument("--model-label", default="Full-size ViT-B/32 (random-init seed 0)", help="the model, for the report")
    i = sub.add_parser("images")
    i.add_argument("--library", choices=["openai", "open_clip"], required=True)
    i.add_argument("--model", required=True, help="open_clip config name (ViT-H-14); a label for openai")
    i.add_argument("--weights", required=True, help="clip-hdf5 float32 weights")
    i.add_argument("--images", required=True)
    i.add_argument("--reps", type=int, default=2)
    m = sub.add_parser("models")
    m.add_argument("--clipwb", required=True)
    m.add_argument("--model", action="append", required=True,
                   help="LABEL,LIBRARY,NAME,WEIGHTS.h5,F32.safetensors,F16.safetensors (repeatable)")
    m.add_argument("--images", required=True)
    m.add_argument("--rounds", type=int, default=3)
    m.add_argument("--reps", type=int, default=2)
    m.add_argument("--out", required=True)
    m.add_argument("--title", default="Encoders at larger sizes: ViT-B/16, ViT-L/14, open_clip ViT-H-14",
                   help="the section's heading")
    m.add_argument("--no-new-rounds", action="store_true",
                   help="with --resume-log: report the logged rounds only, run nothing")
    m.add_argument("--resume-log", action="append", metavar="LOG",
                   help="stderr of an interrupted run with --reps 1: its complete rounds count, only the rest run")
    args = p.parse_args()
    {"worker": worker, "cold": cold, "drive": drive, "images": images_worker, "models": models_drive}[args.mode](args)


if __name__ == "__main__":
    main()
