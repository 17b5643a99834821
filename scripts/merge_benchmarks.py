"""Rebuilds docs/benchmarks.md from the sections each `make bench-*` target writes (docs/benchmarks-*.md)."""
import pathlib

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
ORDER = ["weights", "encoders", "encoders-zoo", "encoders-resnet", "index", "server", "scale"]
INTRO = """# Benchmarks

Every figure below was produced by the `make` target named in its section, on this project's 2-core
Debian 12 machine. Speed is reported as a ratio against the reference implementation measured in the same run on
the same machine (these machines are noisy; absolute times drift between runs). Timings are never asserted in
tests. Each section is rewritten by its target; this page is assembled by `scripts/merge_benchmarks.py`.
"""


def main():
    parts = [INTRO]
    for name in ORDER:
        f = DOCS / f"benchmarks-{name}.md"
        if f.exists():
            parts.append(f.read_text().strip() + "\n")
        else:
            target = {"server": "loadtest", "encoders-zoo": "encoders", "encoders-resnet": "encoders"}.get(name, name)
            parts.append(f"## {name}\n\nNot measured yet: run `make bench-{target}`.\n")
    (DOCS / "benchmarks.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
