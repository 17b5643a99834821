"""Seeded clustered unit vectors for the index benchmark: an anisotropic Gaussian mixture.

Each of `--clusters` components has a random unit centre and its own per-axis spread (log-normal
scales) in one shared random rotation, so clusters are elongated in different directions; points
are L2-normalised like CLIP embeddings. Base and queries are independent draws from the mixture.

    python eval/make_clustered.py --n 100000 --queries 1000 --dim 512 --seed 1 --out eval/data/clustered
writes OUT-base.npy [n, dim] and OUT-queries.npy [queries, dim], float32.
"""
import argparse

import numpy as np


def mixture(rng, n, centres, scales, weights, rotation):
    labels = rng.choice(len(centres), size=n, p=weights)
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    for start in range(0, n, 10000):
        lab = labels[start:start + 10000]
        z = rng.standard_normal((len(lab), centres.shape[1])).astype(np.float32) * scales[lab]
        x = centres[lab] + z @ rotation
        out[start:start + len(lab)] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--clusters", type=int, default=64)
    ap.add_argument("--spread", type=float, default=0.045, help="typical per-axis standard deviation")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="path prefix")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    centres = rng.standard_normal((a.clusters, a.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    scales = (a.spread * np.exp(rng.normal(0.0, 0.6, size=(a.clusters, a.dim)))).astype(np.float32)
    rotation, _ = np.linalg.qr(rng.standard_normal((a.dim, a.dim)))
    rotation = rotation.astype(np.float32)
    weights = rng.dirichlet(np.full(a.clusters, 2.0))
    base = mixture(rng, a.n, centres, scales, weights, rotation)
    queries = mixture(rng, a.queries, centres, scales, weights, rotation)
    np.save(a.out + "-base.npy", base)
    np.save(a.out + "-queries.npy", queries)
    print(f"wrote {a.out}-base.npy {base.shape} and {a.out}-queries.npy {queries.shape} (seed {a.seed})")


if __name__ == "__main__":
    main()
