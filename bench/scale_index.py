"""Build large indexes for the latency and memory benchmarks by replicating a real one.

    python bench/scale_index.py --source /tmp/nidx --out /tmp/scale --sizes 10000,100000,1000000

How the copies are made (so that every stage sees realistic data, not random noise):
- Fragment i of an index of N is a copy of real fragment i mod n (n = the source's count);
  copy r = i // n > 0 lives under `r{r}/` (its own path, so every address is unique).
- Its text is the original with about 10% of the words dropped and 5% replaced by words drawn
  from the whole corpus, so BM25 sees the real term statistics but no two copies are equal.
- Its vector is the original plus Gaussian noise scaled to a cosine of about 0.9 with it, then
  renormalized: the vectors keep the real corpus's clusters and spread (the binary and float
  stages see realistic neighbourhoods) without exact duplicates.
- The copies go through docsearch's own IndexWriter, so the tables, the full-text indexes
  and the vocabulary are exactly what `docsearch index` writes.
Copy 0 is the real corpus itself, so the real queries still have their real answers.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from docsearch.index.fields import keyword_fields
from docsearch.model import Fragment
from docsearch.store.tables import IndexReader, IndexWriter, rows_to_fragments

NOISE_COSINE = 0.9
BATCH = 20_000


def perturb(text: str, rng: np.random.Generator, pool: list[str]) -> str:
    words = text.split(" ")
    keep = rng.random(len(words)) >= 0.10
    swap = rng.random(len(words)) < 0.05
    out = [
        pool[int(rng.integers(len(pool)))] if s else w for w, k, s in zip(words, keep, swap, strict=True) if k
    ]
    return " ".join(out)


def copy_id(copy: int, original: int) -> int:
    digest = hashlib.blake2b(f"{copy}:{original}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "big")


def noisy(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dim = vectors.shape[1]
    # |noise|² = σ²·dim; cos(v, v + noise) ≈ 1 / sqrt(1 + σ²·dim) for a unit v.
    sigma = np.sqrt((1 / NOISE_COSINE**2 - 1) / dim)
    out = vectors + rng.normal(0.0, sigma, vectors.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def build(source: IndexReader, out: Path, size: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = source.fragments.to_table()
    base = rows_to_fragments(table)
    vectors = source.all_vectors()
    # Row order of the float table is the fragment table's (they are row-aligned).
    n = len(base)
    pool = [w for f in base[:2000] for w in f.text.split(" ") if w.isalpha()]
    meta = source.meta
    started = time.perf_counter()
    with IndexWriter(out, meta.document_model, meta.fingerprint) as writer:
        for start in range(0, size, BATCH):
            stop = min(size, start + BATCH)
            frags: list[Fragment] = []
            rows = np.arange(start, stop)
            for i in rows:
                f = base[i % n]
                copy = int(i // n)
                if copy:
                    text = perturb(f.text, rng, pool)
                    f = replace(
                        f,
                        id=copy_id(copy, f.id),
                        path=f"r{copy}/{f.path}",
                        text=text,
                        content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    )
                frags.append(f)
            vecs = vectors[rows % n]
            copies = rows >= n
            if copies.any():
                vecs = vecs.copy()
                vecs[copies] = noisy(vecs[copies], rng)
            writer.add(frags, [keyword_fields(f) for f in frags], vecs)
            print(f"  {size:,}: {stop:,} rows written ({time.perf_counter() - started:.0f} s)", flush=True)
        t = time.perf_counter()
        writer.commit(meta.sources, meta.query_model)
        print(f"  {size:,}: committed (full-text indexes, vocabulary) in {time.perf_counter() - t:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, required=True, help="a real index to replicate")
    parser.add_argument("--out", type=Path, required=True, help="folder for one index per size")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    source = IndexReader(args.source)
    for size in (int(s) for s in args.sizes.split(",")):
        target = args.out / str(size)
        if (target / "meta.json").exists() and IndexReader(target).meta.count == size:
            print(f"{size:,}: already built at {target}")
            continue
        t = time.perf_counter()
        build(source, target, size, args.seed)
        print(f"{size:,}: built {target} in {time.perf_counter() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
