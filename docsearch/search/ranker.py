"""Query stage 4b: the learned ranker — a linear model over the candidate features.

    score = Σ_f weight_f · feature_f        (features.py defines each feature and its scale)

The shipped weights (`ranker.json`, beside this file) were fitted by coordinate ascent on
nDCG@12 (RankLib's method) over the judgments of two documentation corpora, Node.js and
Vue.js (bench/qrels), and kept only because a model fitted on either one alone scored within
reach of it on the other (BENCHMARKS.md, "cross-corpus"). A linear model, not LambdaMART:
over the same features, lightgbm's LambdaMART scored below it across corpora in every
configuration tried (bench/lambdamart.py: Node → Vue 0.63–0.70 against 0.724) while scoring
up to 0.91 on the corpus it was trained on; with ~150 judged queries the trees learn the
corpus. And ten weights can be read and argued about.

Weights named in `fixed` are not fitted: `question` has no judged data yet (the dev corpora
are indexed without an LLM), so its weight stays hand-set.

A model file is JSON: {"format": 1, "kind": "linear", "features": [...], "weights": [...],
"fixed": [...], "trained_on": [...]}. `docsearch eval QRELS --fit FILE` writes one from your
own judgments; `ranker = "FILE"` in docsearch.toml (or DOCSEARCH_RANKER) uses it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from docsearch.errors import InputError
from docsearch.search.features import FEATURES

MODEL_FORMAT = 1
SHIPPED = "ranker.json"


@dataclass(frozen=True, slots=True)
class LinearRanker:
    weights: tuple[float, ...]  # one per FEATURES entry
    fixed: tuple[str, ...] = ("question",)
    trained_on: tuple[str, ...] = ()

    def score(self, features: np.ndarray) -> np.ndarray:
        return (features @ np.asarray(self.weights, np.float32)).astype(np.float32)

    def as_json(self) -> dict[str, object]:
        return {
            "format": MODEL_FORMAT,
            "kind": "linear",
            "features": list(FEATURES),
            "weights": [round(w, 4) for w in self.weights],
            "fixed": list(self.fixed),
            "trained_on": list(self.trained_on),
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: object, where: str) -> LinearRanker:
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT or data.get("kind") != "linear":
            raise InputError(f"{where} is not a docsearch ranker model (format {MODEL_FORMAT}, linear)")
        names, weights = data.get("features"), data.get("weights")
        if not isinstance(names, list) or not isinstance(weights, list) or len(names) != len(weights):
            raise InputError(f"{where}: features and weights must be lists of the same length")
        unknown = [n for n in names if n not in FEATURES]
        if unknown:
            raise InputError(f"{where} uses features this docsearch does not compute: {', '.join(unknown)}")
        try:
            by_name = {str(n): float(w) for n, w in zip(names, weights, strict=True)}
        except (TypeError, ValueError):
            raise InputError(f"{where}: weights must be numbers") from None
        # A feature the model does not name weighs 0: older models keep working.
        return cls(
            weights=tuple(by_name.get(n, 0.0) for n in FEATURES),
            fixed=tuple(str(x) for x in data.get("fixed", ())),
            trained_on=tuple(str(x) for x in data.get("trained_on", ())),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> LinearRanker:
        """The model at `path`, or the shipped one."""
        if path is None:
            text = resources.files("docsearch.search").joinpath(SHIPPED).read_text(encoding="utf-8")
            return cls.from_json(json.loads(text), SHIPPED)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"ranker model not found: {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the ranker model {path}: {exc}") from None
        return cls.from_json(data, str(path))


# -- fitting -------------------------------------------------------------------------------------


@dataclass(slots=True)
class TrainingQuery:
    """One judged query's candidates: features, judged gain, and a section number each (the
    parts of one long section share it and count once, as in the results)."""

    features: np.ndarray
    gains: np.ndarray
    sections: np.ndarray
    judged: list[int] = field(default_factory=list)  # every judged grade, for the ideal order

    def ndcg(self, scores: np.ndarray, k: int) -> float:
        ideal = sorted(self.judged, reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        if idcg <= 0 or not len(scores):
            return 0.0
        order = np.argsort(-scores, kind="stable")
        _, first = np.unique(self.sections[order], return_index=True)
        shown = order[np.sort(first)[:k]]
        gains = self.gains[shown]
        return float((gains / np.log2(np.arange(len(gains)) + 2)).sum() / idcg)


# Step schedules of the coordinate ascent, coarse to fine, with the rounds each gets.
SCHEDULES: tuple[tuple[tuple[float, ...], int], ...] = (
    ((-0.5, -0.2, -0.1, -0.05, 0.05, 0.1, 0.2, 0.5), 4),
    ((-0.2, -0.1, -0.05, 0.05, 0.1, 0.2), 8),
    ((-0.1, -0.05, 0.05, 0.1), 10),
)


def mean_ndcg(queries: Sequence[TrainingQuery], weights: np.ndarray, k: int = 12) -> float:
    if not queries:
        return 0.0
    w = weights.astype(np.float32)
    return float(np.mean([q.ndcg(q.features @ w, k) for q in queries]))


def _ascend(
    queries: Sequence[TrainingQuery],
    w: np.ndarray,
    free: list[int],
    steps: Sequence[float],
    rounds: int,
    k: int,
) -> np.ndarray:
    best = mean_ndcg(queries, w, k)
    for _ in range(rounds):
        improved = False
        for i in free:
            for step in steps:
                trial = w.copy()
                trial[i] += step
                got = mean_ndcg(queries, trial, k)
                if got > best + 5e-4:
                    best, w, improved = got, trial, True
        if not improved:
            break
    return w


def fit(
    queries: Sequence[TrainingQuery],
    start: LinearRanker,
    k: int = 12,
    trained_on: Sequence[str] = (),
) -> LinearRanker:
    """Coordinate ascent on mean nDCG@k (RankLib's method), averaged over step schedules.

    One ascent tries every step on every free weight and keeps a change only when it raises
    mean nDCG@k by more than 0.0005. nDCG is a step function of the weights, so where one
    ascent ends depends on its path: fitted on Node, one schedule scored 0.706 on Vue and
    another 0.724. Each schedule's end point is scaled to the same total weight and the
    points are averaged, which keeps what the paths agree on; the average transferred
    across corpora better than any single path (BENCHMARKS.md). Seeded random restarts did
    the opposite — higher on the fitted corpus, lower on the other — and are not used.
    The free weights of each end point are scaled to the start's total, so that weights in
    `start.fixed` keep their weight relative to the rest."""
    free = [i for i, name in enumerate(FEATURES) if name not in start.fixed]
    origin = np.asarray(start.weights, np.float64)
    total = float(np.abs(origin[free]).sum()) or 1.0
    ends = []
    for steps, rounds in SCHEDULES:
        w = _ascend(queries, origin.copy(), free, steps, rounds, k)
        w[free] *= total / (float(np.abs(w[free]).sum()) or 1.0)
        ends.append(w)
    mean = np.mean(ends, axis=0)
    return LinearRanker(tuple(round(float(x), 4) for x in mean), start.fixed, tuple(trained_on))
