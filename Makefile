# clipwb — every job is a target here. `make demo` is the main job, `make test` runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VENV_EXPORT := .venv-export
VENV_MILVUS := .venv-milvus
SWIFT_DEBUG := .build/debug/clipwb
SWIFT_RELEASE := .build/release/clipwb
FULL_DIR := weights/full
WEIGHTS ?=
export CLIPWB_SHARED ?= $(abspath ../shared)

.PHONY: deps venv venv-export build build-release test test-swift test-python test-slurm demo fixtures \
        reference-full parity parity-resnet parity-zoo bench-weights bench-encoders bench-index bench-tuning bench-scale test-milvus \
        loadtest fuzz clean

deps:
	@scripts/install-deps.sh

# The light venv: numpy, h5py, safetensors, annoy, pillow, pytest. Never PyTorch.
$(VENV)/.stamp: notebooks-export/requirements-test.txt
	$(PY) -m venv $(VENV)
	# hnswlib from source with CHNSW's kernels (AVX2, no FMA contraction) so Tests/interop/test_hnsw_interop.py can
	# compare distances bit for bit; its default -march=native picks other kernels on AVX-512 machines.
	HNSWLIB_NO_NATIVE=1 CPPFLAGS="-mavx2 -mfma -ffp-contract=off" $(VENV)/bin/pip install -q --disable-pip-version-check \
	  --no-cache-dir --no-binary hnswlib $$(sed -n 's/^\(hnswlib==[^ ]*\).*/\1/p' notebooks-export/requirements-test.txt)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r notebooks-export/requirements-test.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps clip-anytorch==2.6.0 open_clip_torch==3.3.0
	touch $@
venv: $(VENV)/.stamp

# The exporter's venv: PyTorch and OpenAI's clip code. Only fixtures, reference-full, parity, benchmarks.
$(VENV_EXPORT)/.stamp: notebooks-export/requirements.txt
	$(PY) -m venv $(VENV_EXPORT)
	$(VENV_EXPORT)/bin/pip install -q --disable-pip-version-check -r notebooks-export/requirements.txt
	touch $@
venv-export: $(VENV_EXPORT)/.stamp

# pymilvus + milvus-lite for `make test-milvus` only (≈ 450 MB with pandas, pyarrow, grpcio, faiss-cpu).
$(VENV_MILVUS)/.stamp: notebooks-export/requirements-milvus.txt
	$(PY) -m venv $(VENV_MILVUS)
	$(VENV_MILVUS)/bin/pip install -q --disable-pip-version-check -r notebooks-export/requirements-milvus.txt
	touch $@

build: deps
	swift build
build-release: deps
	swift build -c release --product clipwb

# The interop tests run in two pytest-xdist workers, a file per worker (module fixtures are made once), the Slurm
# test among them; the slowest 20 are listed so a slow CI run says where its time went.
test: deps venv
	swift build --build-tests
	swift test --skip-build
	scripts/slurm/install.sh
	CLIPWB=$(SWIFT_DEBUG) $(VENV)/bin/python -m pytest -q -n 2 --dist loadfile --durations=20 Tests/interop

# A real single-node Slurm cluster on loopback (config, munge, state and logs in a temporary folder, stopped at the
# end) runs scripts/slurm/: the embed array + merge, a task killed mid-shard and requeued. Installs slurm-wlm and
# munge from Debian when missing (scripts/slurm/install.sh). ~1–2 minutes. See docs/scaling.md.
test-slurm: deps venv
	scripts/slurm/install.sh
	$(if $(SLURM_SKIP_BUILD),,swift build --product clipwb)
	CLIPWB=$(SWIFT_DEBUG) $(VENV)/bin/python -m pytest -q Tests/interop/test_slurm.py

# `clipwb export --format npy+jsonl` loaded into Milvus (milvus-lite, in-process) with pymilvus: Milvus's top ids
# equal clipwb's exact search. Not in `make test`: its venv is ≈ 450 MB (docs/scaling.md).
test-milvus: deps $(VENV_MILVUS)/.stamp
	swift build --product clipwb
	CLIPWB=$(SWIFT_DEBUG) $(VENV_MILVUS)/bin/python -m pytest -q Tests/milvus

fixtures: venv-export
	scripts/make-fixtures.sh

reference-full: venv-export
	scripts/reference-full.sh

bench-weights: venv build-release
	@[ -f weights/full/vit-b32-seed0.h5 ] || $(MAKE) reference-full
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/bench-weights.sh
	$(PY) scripts/merge_benchmarks.py

# Full-size ViT-B/32, f32 and f16 weight files, verified against PyTorch → docs/parity.md.
parity: deps build-release
	scripts/parity.sh

# OpenAI's ModifiedResNet CLIPs (issue 10) from OpenAI's and open_clip's code, f32 and f16 (docs/parity.md).
parity-resnet: venv-export build-release
	scripts/parity-resnet.sh


# Every open_clip / OpenAI / Hugging Face CLIP family, exported random-init by its own library, verified as clip-hdf5,
# f32, f16 and folder → the zoo section of docs/parity.md. ~1 hour; ZOO_OPEN_CLIP=, ZOO_OPENAI=, ZOO_HF=, ZOO_FULL=,
# ZOO_LAYERS= pick a subset (scripts/parity-zoo.sh). Not part of `make test`.
parity-zoo: deps venv-export build-release
	scripts/parity-zoo.sh

# Our encoders against PyTorch (2 threads each), interleaved → docs/benchmarks-encoders.md (ViT-B/32),
# docs/benchmarks-encoders-zoo.md (full-depth ViT-B/16, ViT-L/14, open_clip ViT-H-14) and
# docs/benchmarks-encoders-resnet.md (OpenAI RN50, RN50x4; BENCH_MODELS=, MODEL_ROUNDS=, MODEL_REPS=, BENCH_B32=0:
# scripts/bench-encoders.sh), merged into docs/benchmarks.md.
bench-encoders: deps venv-export build-release
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/bench-encoders.sh
	$(PY) scripts/merge_benchmarks.py

demo: deps venv build-release
	scripts/demo.sh

# Index: clipwb vs Python annoy on 100k × 512 clustered vectors → docs/benchmarks-index.md.
bench-index: venv build-release
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/bench-index.sh

# Issue 13's done-when: eval over Annoy + HNSW + exact on 100k × 512 and on the ABO photos (full-size model), each timed,
# recommendations for 0.9/0.95/0.99 checked against brute force over the recorded grid (scripts/bench-tuning.sh;
# WEIGHTS=, SETS=). Figures → docs/benchmarks-index.md.
bench-tuning: venv build-release
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE nice -n 10 scripts/bench-tuning.sh

# A million-item catalog (N=, DUR=, WEIGHTS= a 512-wide model, default the full-size ViT-B/16 or B/32): index
# build, ingest, serve cold start and RSS, search latency at 1 and 16 connections, recall@16 against exact,
# a live addition and the rebuild under load → docs/benchmarks-scale.md (scripts/bench-scale.sh). ~20 minutes.
bench-scale: venv build-release
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/bench-scale.sh
	$(PY) scripts/merge_benchmarks.py

# wrk against a live server on loopback, ≤ 30 s of load, then 20 s of hostile clients (scripts/loadtest.sh;
# WEIGHTS=, DUR=, SLOW=, HOSTILE_SECONDS=). Benchmarks unset the OpenBLAS pins (both sides, this command only).
loadtest: venv build-release
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE scripts/loadtest.sh

# libFuzzer (swiftc -sanitize=fuzzer + ASan): decoders, safetensors, hdf5, npy, annoy, multipart, tokenizer,
# FUZZ_SECONDS (default 600) each, FUZZ_JOBS (default 1) at a time; FUZZ_TARGETS="npy annoy" picks some. Not part of `make test`;
# the crashes it found are regression tests (Tests/Fixtures/fuzz/). See docs/fuzzing.md.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
FUZZ_JOBS ?= 1
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_JOBS=$(FUZZ_JOBS) Fuzz/run.sh

clean:
	rm -rf .build
