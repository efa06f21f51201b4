"""Fit the shipped ranker across corpora, and print the cross-corpus table.

    python bench/fit_ranker.py /tmp/nidx bench/qrels/nodejs.tsv /tmp/vidx bench/qrels/vue.tsv [--write]

For two (index, judgments) pairs A and B it fits the linear ranker (docsearch/search/ranker.py)
four ways — on A, on B, on both, and not at all (the start model) — and scores each on A and
on B. The A→B and B→A columns are what counts: a model is only worth shipping when it holds on
the corpus it never saw. `--write` saves the model fitted on both to
docsearch/search/ranker.json.

The features are the product's own (Searcher.gather), so what is fitted here is exactly what
`docsearch ask` computes.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from docsearch.evaluate import load_qrels, training_queries
from docsearch.search.features import FEATURES
from docsearch.search.ranker import LinearRanker, TrainingQuery, fit, mean_ndcg
from docsearch.search.searcher import Searcher
from docsearch.settings import Settings

SHIPPED = Path(__file__).resolve().parent.parent / "docsearch" / "search" / "ranker.json"
# Where fitting starts: BM25 and cosine, even, as the 0.5/0.5 baseline; exact and question as
# hand-set before (exact: no dev query moved it either way; question: no data).
START = {"bm25": 0.5, "cos": 0.5, "exact": 0.15, "question": 0.35}


def load(index: str, qrels: str) -> tuple[str, list[TrainingQuery]]:
    searcher = Searcher(Settings.resolve({"index": index}))
    searcher.rerank.preload()
    options = replace(searcher.options, top_k=12)
    queries = training_queries(searcher, load_qrels(Path(qrels)), options, "{path}#{anchor}")
    return Path(qrels).stem, queries


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("index_a")
    parser.add_argument("qrels_a")
    parser.add_argument("index_b")
    parser.add_argument("qrels_b")
    parser.add_argument("--write", action="store_true", help="save the model fitted on both")
    parser.add_argument("--drop", default="", help="comma-separated features held at 0 (ablation)")
    args = parser.parse_args()

    t = time.perf_counter()
    name_a, a = load(args.index_a, args.qrels_a)
    name_b, b = load(args.index_b, args.qrels_b)
    print(f"features of {len(a)} + {len(b)} queries in {time.perf_counter() - t:.1f} s")
    dropped = {d for d in args.drop.split(",") if d}
    fixed = tuple(sorted({"question", *dropped}))
    start = LinearRanker(tuple(0.0 if f in dropped else START.get(f, 0.0) for f in FEATURES), fixed=fixed)

    models = {
        "start (not fitted)": start,
        f"fitted on {name_a}": fit(a, start, trained_on=[name_a]),
        f"fitted on {name_b}": fit(b, start, trained_on=[name_b]),
        "fitted on both": fit([*a, *b], start, trained_on=[name_a, name_b]),
    }
    print(f"\n{'model':<24} {'nDCG@12 ' + name_a:>16} {'nDCG@12 ' + name_b:>16}")
    for label, model in models.items():
        w = np.asarray(model.weights)
        print(f"{label:<24} {mean_ndcg(a, w):>16.3f} {mean_ndcg(b, w):>16.3f}")
    print("\nweights:")
    print(f"{'feature':<12}" + "".join(f"{label[:18]:>20}" for label in models))
    for i, feature in enumerate(FEATURES):
        print(f"{feature:<12}" + "".join(f"{m.weights[i]:>20.2f}" for m in models.values()))
    if args.write:
        # The question weight has no judged data: it keeps the old formula's ratio to the
        # cosine (0.35 against 0.7), whatever scale the fitted weights came out at.
        both = models["fitted on both"]
        weights = list(both.weights)
        weights[FEATURES.index("question")] = round(0.5 * weights[FEATURES.index("cos")], 4)
        replace(both, weights=tuple(weights)).save(SHIPPED)
        print(f"\nwrote {SHIPPED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
