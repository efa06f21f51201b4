"""Wall time of a whole `docsearch ask --json` process (start-up included), and its stage timings.

    python bench/ask_wall.py --index PATH [--runs 7] [QUERY ...]

Prints, per query, the median wall seconds over the runs and the median of each `timing_ms` stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

DEFAULT_QUERIES = [
    "fs.readFile",
    "how do I read a file line by line",
    "spawn a child process with a shell",
    "ERR_INVALID_ARG_TYPE",
    "EventEmitter once",
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("queries", nargs="*", default=DEFAULT_QUERIES)
    args = parser.parse_args()
    print(
        f"{'query':40} {'wall s':>7} {'embed':>7} {'keyword':>8} {'binary':>7} {'rerank':>7} {'total ms':>9}"
    )
    walls_all = []
    for query in args.queries:
        walls, stages = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "docsearch", "ask", query, "--json", "--index", args.index],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            walls.append(time.perf_counter() - t)
            stages.append(json.loads(out)["timing_ms"])
        med = {k: statistics.median(s[k] for s in stages) for k in stages[0]}
        walls_all.extend(walls)
        row = [
            statistics.median(walls),
            med["embed"],
            med["keyword"],
            med["binary"],
            med["rerank"],
            med["total"],
        ]
        print(
            f"{query[:40]:40} " + " ".join(f"{v:8.3f}" if n == 0 else f"{v:8.1f}" for n, v in enumerate(row))
        )
    print(f"median wall over all runs: {statistics.median(walls_all):.3f} s ({len(walls_all)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
