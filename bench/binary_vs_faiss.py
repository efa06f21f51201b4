"""The binary first phase (docsearch's BinaryIndex: uint64 XOR + popcount in numpy) against
faiss.IndexBinaryFlat exact search, on identical data in the same run.

Vectors are realistic: sign bits of a random projection of MiniLM-like unit vectors with a
shared component, so bits are correlated as real embeddings are. Each query is one index
vector with 10% of its bits flipped. Both sides return the top k by hamming distance;
the script checks that they agree (same distance at every rank) and prints median and p95
latency per query, and the ratio. faiss is a benchmark-only dependency:

    pip install faiss-cpu
    python bench/binary_vs_faiss.py [--sizes 100000,1000000] [--bits 384,2048] [--k 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docsearch.search.binary import BinaryIndex


def make_bits(n: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    shared = rng.standard_normal(bits).astype(np.float32)
    out = np.empty((n, bits // 8), dtype=np.uint8)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        v = rng.standard_normal((m, bits), dtype=np.float32) + 0.3 * shared
        out[start : start + m] = np.packbits(v > 0, axis=1)
    return out


def timed(fn, queries) -> list[float]:
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t) * 1000)
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--bits", default="384,2048")
    parser.add_argument("--k", type=int, default=2000, help="candidates kept (docsearch's rerank_count)")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads (docsearch uses one)")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(7)
    print(f"k = {args.k}, {args.queries} queries, faiss threads = {args.threads}")
    head = f"{'vectors':>9} {'bits':>5} {'docsearch p50':>14} {'p95':>7}"
    print(head + f" {'faiss p50':>10} {'p95':>7} {'ratio p50':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        for bits in (int(b) for b in args.bits.split(",")):
            data = make_bits(n, bits, rng)
            ids = np.arange(n, dtype=np.int64)
            ours = BinaryIndex(ids, data)
            theirs = faiss.IndexBinaryFlat(bits)
            theirs.add(data)
            picks = rng.integers(0, n, args.queries)
            queries = data[picks].copy()
            flips = rng.random((args.queries, bits)) < 0.1
            queries ^= np.packbits(flips, axis=1)
            # Same answers: distances at every rank agree (ties may order ids differently).
            for q in queries[:3]:
                _pos, sim = ours.search(q, args.k)
                dist_faiss, _ = theirs.search(q[None, :], args.k)
                ours_dist = np.round((1 - sim) * bits).astype(int)
                assert np.array_equal(np.sort(ours_dist), np.sort(dist_faiss[0])), "results differ"
            t_ours = timed(lambda q, index=ours: index.search(q, args.k), queries)
            t_faiss = timed(lambda q, index=theirs: index.search(q[None, :], args.k), queries)
            ratio = statistics.median(t_ours) / statistics.median(t_faiss)
            print(
                f"{n:>9,} {bits:>5} {statistics.median(t_ours):>11.2f} ms {p95(t_ours):>7.2f} "
                f"{statistics.median(t_faiss):>7.2f} ms {p95(t_faiss):>7.2f} {ratio:>9.2f}x"
            )


if __name__ == "__main__":
    main()
