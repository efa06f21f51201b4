"""Suggestions per keystroke: build time, memory, and p50/p95 latency, per index.

    python bench/suggest_latency.py --index /tmp/scale/10000 --index /tmp/scale/1000000

Every prefix (3+ characters) of each qrels query, plus misspelt names, is suggested once
(`Suggester.suggest`, what the terminal UI calls on each keystroke; without the semantic
part, which is a search and is timed by bench/query_latency.py). Memory is the growth of the
process's peak resident set while the suggester is built.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from docsearch.evaluate import load_qrels
from docsearch.search.suggest import Suggester
from docsearch.store.tables import IndexReader

TYPOS = ["readfiel", "settimout", "createserver", "evnt emiter", "fs.readfil", "procss.env"]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, action="append", required=True)
    parser.add_argument("--queries", type=Path, default=Path("bench/qrels/nodejs.tsv"))
    args = parser.parse_args()
    queries = list(dict.fromkeys(j.query for j in load_qrels(args.queries)))
    inputs = [q[:end] for q in queries + TYPOS for end in range(3, len(q) + 1) if not q[:end].endswith(" ")]
    rows = []
    for index in args.index:
        reader = IndexReader(index)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        suggester = Suggester(reader)
        build = time.perf_counter() - t
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        times = []
        for text in inputs:
            t = time.perf_counter()
            suggester.suggest(text, limit=6)
            times.append((time.perf_counter() - t) * 1000)
        row = (
            f"| {reader.meta.count:,} | {len(suggester):,} | {build:.2f} s | {grown:.0f} MB | "
            f"{len(times):,} | {np.percentile(times, 50):.2f} ms | {np.percentile(times, 95):.2f} ms |"
        )
        rows.append(row)
        print(row, flush=True)
        del suggester
    print()
    print("| fragments | entries | build | peak RSS growth | inputs | p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
