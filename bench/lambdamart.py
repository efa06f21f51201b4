"""LambdaMART (lightgbm) against the shipped linear ranker, across corpora.

    pip install lightgbm      # a bench-only dependency, not the product's
    python bench/lambdamart.py /tmp/nidx4 bench/qrels/nodejs.tsv /tmp/vidx4 bench/qrels/vue.tsv

The issue left the choice open (LambdaMART or a regularized linear model) "justified by
numbers". Both learners see the same features (Searcher.gather → features.py, exactly what
`docsearch ask` computes) and the same judgments. Each LambdaMART configuration in a small
grid is trained on one corpus and scored on the other, both ways; the linear rows are
ranker.fit on the same data. What decides is the A→B and B→A columns: nothing here is fitted
to the held-out set these corpora stand in for.

Per query only the 300 candidates the shipped model scores highest are given to lightgbm
(nearly every judged candidate is among them; the rest is a long tail of 0-gain rows that
only slows training).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_ranker import START, load

from docsearch.search.features import FEATURES
from docsearch.search.ranker import LinearRanker, TrainingQuery, fit, mean_ndcg

PER_QUERY = 300


def train(queries: list[TrainingQuery], shipped: np.ndarray, leaves: int, rounds: int, min_leaf: int):
    import lightgbm

    rows, labels, groups = [], [], []
    for q in queries:
        keep = np.argsort(-(q.features @ shipped))[:PER_QUERY]
        rows.append(q.features[keep])
        labels.append(q.gains[keep].astype(int))
        groups.append(len(keep))
    params = {
        "objective": "lambdarank",
        "learning_rate": 0.05,
        "num_leaves": leaves,
        "min_data_in_leaf": min_leaf,
        "lambdarank_truncation_level": 20,
        "label_gain": [0, 1, 3],
        "num_threads": 2,
        "seed": 1,
        "deterministic": True,
        "verbose": -1,
    }
    data = lightgbm.Dataset(np.vstack(rows), np.concatenate(labels), group=groups)
    return lightgbm.train(params, data, rounds)


def score(queries: list[TrainingQuery], predict) -> float:
    return float(np.mean([q.ndcg(predict(q.features), 12) for q in queries]))


def row(label: str, got: tuple[float, float]) -> None:
    print(f"{label:<40} {got[0]:>12.3f} {got[1]:>12.3f} {sum(got):>7.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("index_a")
    parser.add_argument("qrels_a")
    parser.add_argument("index_b")
    parser.add_argument("qrels_b")
    args = parser.parse_args()
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        print("error: this benchmark needs lightgbm (pip install lightgbm)", file=sys.stderr)
        return 2

    name_a, a = load(args.index_a, args.qrels_a)
    name_b, b = load(args.index_b, args.qrels_b)
    shipped = np.asarray(LinearRanker.load().weights, np.float32)
    start = LinearRanker(tuple(START.get(f, 0.0) for f in FEATURES))

    print(f"{'model':<40} {name_a + '→' + name_b:>12} {name_b + '→' + name_a:>12} {'sum':>7}")
    on_a, on_b = fit(a, start), fit(b, start)
    linear = (mean_ndcg(b, np.asarray(on_a.weights)), mean_ndcg(a, np.asarray(on_b.weights)))
    row("linear, coordinate ascent (ranker.fit)", linear)
    for leaves, rounds, min_leaf in itertools.product((4, 8, 16), (50, 200), (20, 100)):
        got = (
            score(b, train(a, shipped, leaves, rounds, min_leaf).predict),
            score(a, train(b, shipped, leaves, rounds, min_leaf).predict),
        )
        row(f"lambdamart {leaves} leaves, {rounds} trees, ≥{min_leaf}/leaf", got)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
