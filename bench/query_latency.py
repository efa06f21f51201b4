"""Query latency per stage, p50 and p95, on one or more indexes (issue 6's search targets).

    python bench/query_latency.py --index /tmp/scale/10000 --index /tmp/scale/100000 \
        --queries bench/qrels/nodejs.tsv --runs 3

Each query of the qrels file is searched `--runs` times through `Searcher.search` (what `ask`
and the TUI call) after a warm-up, in two ways:
  whole query   the query as submitted (`ask`)
  typing        each prefix of the query that ends a word or is 3+ letters into one, with the
                last word completed (`prefix_last`, what the TUI runs per keystroke)
Times are the searcher's own per-stage timings (embed, keyword, binary, rerank, fuse) and the
total, which excludes rendering. Float vectors are read from disk per query unless
`--preload` holds them in memory.

It also times the float rerank of 2,000 candidates alone: vectors taken from disk (lance take
by row position) against vectors held in memory, on the same positions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from docsearch.evaluate import load_qrels
from docsearch.search.searcher import Searcher
from docsearch.settings import Settings

STAGES = ("embed", "keyword", "binary", "rerank", "fuse", "total")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def prefixes(query: str) -> list[str]:
    out = []
    for end in range(3, len(query) + 1):
        text = query[:end]
        if text.endswith(" "):
            continue
        out.append(text)
    return out


def time_searches(searcher: Searcher, queries: list[str], runs: int, typing: bool) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(runs):
        for q in queries:
            for text in prefixes(q) if typing else [q]:
                t = searcher.search(text, prefix_last=typing).timings
                for stage in STAGES:
                    times[stage].append(getattr(t, stage))
    return times


def rerank_disk_vs_memory(searcher: Searcher, count: int, trials: int) -> tuple[float, float, float]:
    """(median ms from disk, median ms from memory, seconds to load all vectors)."""
    rng = np.random.default_rng(1)
    n = len(searcher.binary)
    query = searcher.embedder.embed_query("read a file line by line")
    disk, memory = [], []
    sets = [np.sort(rng.choice(n, size=min(count, n), replace=False)) for _ in range(trials)]
    reader = searcher.reader
    for positions in sets:
        t = time.perf_counter()
        _, vectors = reader.take_vectors(positions)
        _ = vectors @ query
        disk.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    everything = reader.all_vectors()
    load_s = time.perf_counter() - t
    for positions in sets:
        t = time.perf_counter()
        _ = everything[positions] @ query
        memory.append((time.perf_counter() - t) * 1000)
    return statistics.median(disk), statistics.median(memory), load_s


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--queries", type=Path, default=Path("bench/qrels/nodejs.tsv"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--preload", action="store_true", help="hold float vectors in memory")
    parser.add_argument("--no-typing", action="store_true", help="skip the per-keystroke run")
    parser.add_argument("--rerank-trials", type=int, default=20)
    args = parser.parse_args()
    queries = list(dict.fromkeys(j.query for j in load_qrels(args.queries)))
    print(
        f"{len(queries)} queries from {args.queries}, {args.runs} runs each; floats "
        f"{'in memory' if args.preload else 'from disk'}"
    )
    header = "| index | mode | searches | " + " | ".join(f"{s} p50 / p95" for s in STAGES) + " |"
    rows = [header, "|" + "---|" * (3 + len(STAGES))]
    rerank_rows = []
    for index in args.index:
        t = time.perf_counter()
        searcher = Searcher(Settings.resolve({"index": index}))
        open_s = time.perf_counter() - t
        if args.preload:
            searcher.rerank.preload()
        count = len(searcher.binary)
        for q in queries[:5]:  # warm-up: first-use loads (vocabulary, lance caches, ONNX)
            searcher.search(q)
            searcher.search(q[:4], prefix_last=True)
        modes = [("whole query", False)] + ([] if args.no_typing else [("typing", True)])
        for label, typing in modes:
            times = time_searches(searcher, queries, args.runs, typing)
            cells = [f"{percentile(times[s], 50):.1f} / {percentile(times[s], 95):.1f}" for s in STAGES]
            rows.append(f"| {count:,} | {label} | {len(times['total']):,} | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
        disk, memory, load_s = rerank_disk_vs_memory(searcher, 2000, args.rerank_trials)
        rerank_rows.append(
            f"| {count:,} | {disk:.2f} ms | {memory:.2f} ms | {load_s:.2f} s | {open_s:.2f} s |"
        )
        print(rerank_rows[-1], flush=True)
        searcher.close()
    print()
    print("\n".join(rows))
    print()
    print(
        "| fragments | rerank 2,000 from disk p50 | from memory p50 | loading all floats "
        "| opening the searcher |"
    )
    print("|---|---|---|---|---|")
    print("\n".join(rerank_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
