"""Asymmetric mode end to end against the fake Voyage API, with timings.

Documents go to a fake voyage-4-large (tests/fake_voyage.py: the real wire protocol, vectors
from the offline MiniLM model), queries are embedded locally by a stand-in voyage-4-nano
(MiniLM's ONNX file registered in the voyage-4 space at 256-d, as tests/test_voyage.py
does). What this measures is docsearch's own overhead around the API: packing, concurrency,
the embedding cache, the CLI start-up; not Voyage's latency or ranking quality.

    python bench/asymmetric_fake.py [--corpus corpus] [--delay 0.05] [--runs 5] [--hashed]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docsearch.embed.models import load_embedder  # noqa: E402
from tests.fake_voyage import FakeVoyage, hashed_vectors  # noqa: E402
from tests.test_voyage import stand_in_nano  # noqa: E402


def run(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "docsearch", *args], capture_output=True, text=True, env=env)
    return time.perf_counter() - start, p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--delay", type=float, default=0.05, help="simulated API latency per request (s)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--hashed",
        action="store_true",
        help="the fake makes hash vectors instead of running MiniLM: times docsearch's own overhead "
        "(packing, concurrency, cache, store) without the fake's model compute; rankings are noise",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="docsearch-bench-"))
    embed = hashed_vectors if args.hashed else load_embedder("minilm-l6-v2").embed_documents
    fake = FakeVoyage(embed=embed, api_key="bench-key", delay=args.delay).start()
    env = dict(
        os.environ,
        VOYAGE_API_KEY="bench-key",
        DOCSEARCH_VOYAGE_BASE_URL=fake.base_url,
        DOCSEARCH_CACHE_DIR=str(work / "cache"),
        DOCSEARCH_VOYAGE_DIMENSION="256",
    )
    idx = str(work / "idx")

    seconds, p = run(["index", str(args.corpus), "--index", idx, "--json"], env)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    print(
        f"index (API, cold cache): {s['fragments']} fragments in {seconds:.2f} s wall "
        f"({s['seconds']:.2f} s in Indexer), {len(fake.ok())} requests, {s['tokens']:,} tokens, "
        f"${s['cost_usd']:.4f}, max {fake.max_in_flight} in flight, {args.delay * 1000:.0f} ms per request"
    )
    seconds, p = run(["index", str(args.corpus), "--index", str(work / "idx2"), "--json"], env)
    s = json.loads(p.stdout)
    print(f"index (new index, warm cache): {seconds:.2f} s wall, {s['cached']} cached, {s['tokens']} tokens")

    _, p = run(["ask", "exit codes", "--index", idx], env)
    print(f"ask with no local voyage-4 model: exit {p.returncode}: {p.stderr.strip()}")
    run(["models", "add", str(stand_in_nano(work / "nano"))], env)

    for label, extra in (("local nano", []), ("API voyage-4-lite", ["--query-model", "voyage-4-lite"])):
        walls, embeds, totals = [], [], []
        before = len(fake.ok("query"))
        for i in range(args.runs):
            query = f"how do I rebuild the index {i % 2}"  # two distinct queries, each repeated
            seconds, p = run(["ask", query, "--index", idx, "--json", *extra], env)
            assert p.returncode == 0, p.stderr
            timing = json.loads(p.stdout)["timing_ms"]
            walls.append(seconds)
            embeds.append(timing["embed"])
            totals.append(timing["total"])
        print(
            f"ask ({label}), {args.runs} runs: wall median {statistics.median(walls):.3f} s, "
            f"embed median {statistics.median(embeds):.1f} ms, search total median "
            f"{statistics.median(totals):.1f} ms, API query requests {len(fake.ok('query')) - before}"
        )
    _, p = run(["ask", "x", "--index", idx, "--query-model", "minilm-l6-v2"], env)
    print(f"ask with a query model of another space: exit {p.returncode}: {p.stderr.strip()}")
    fake.stop()


if __name__ == "__main__":
    main()
