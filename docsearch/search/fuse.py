"""The ranking formula, in one place.

    score = w_semantic · norm(cosine(query, fragment))    float rerank
          + w_keyword  · bm25 / max(bm25 over candidates) keyword, in [0, 1]
          + w_exact    · exact                            1 if the heading contains an
                                                          identifier the query names, else 0
          + w_question · norm(max cosine(query, question)) over the fragment's LLM-written
                                                          questions; 0 when it has none
    norm(c) = (c - min) / (max - min), min and max of the fragment cosines over the candidates

Why: the cosine carries meaning and paraphrase; BM25 (with headings weighted above body text,
see keyword.py) carries the exact words a reader typed; the exact term makes a typed
identifier (`fs.readFile`, `num-threads-per-search`) win over prose that merely mentions it;
the question term rewards a fragment whose questions read like the query.

Both retrieval scores are put on [0, 1] over the candidates before they are mixed, because
their raw ranges are unrelated: BM25 grows with query length and corpus statistics, and a
small embedding model's cosines bunch up (0.3–0.7 over the whole candidate list is common),
so a raw cosine loses to any normalized keyword score however the weights are set. This is
the convex combination of min-max normalized scores that Bruch et al. ("An Analysis of Fusion
Functions for Hybrid Retrieval", 2023) found to beat rank fusion (RRF) and to be the least
sensitive to its weight; measured on bench/qrels/nodejs.tsv it is flat within 0.01 nDCG for a
keyword share from 0.15 to 0.35 where the raw cosine fell by 0.05 (BENCHMARKS.md). Questions
are scaled with the fragments' min and max so that the two cosines stay comparable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# An identifier-like query token: has a dot, underscore, hyphen between words, parens,
# or an inner capital (camelCase).
_IDENTIFIER_RE = re.compile(r"[\w$]+(?:[.\-_:/#][\w$]+)+|[a-z]+[A-Z][\w$]*|[\w$]+\(\)")


@dataclass(frozen=True, slots=True)
class FusionWeights:
    semantic: float = 0.7
    keyword: float = 0.3
    exact: float = 0.15
    question: float = 0.35


def query_identifiers(query: str) -> list[str]:
    return [m.lower().removesuffix("()") for m in _IDENTIFIER_RE.findall(query)]


def exact_matches(identifiers: list[str], headings: list[str]) -> np.ndarray:
    if not identifiers:
        return np.zeros(len(headings), np.float32)
    lowered = [h.lower() for h in headings]
    return np.array([1.0 if any(i in h for i in identifiers) else 0.0 for h in lowered], np.float32)


def fuse(
    semantic: np.ndarray,
    keyword: np.ndarray,
    exact: np.ndarray,
    weights: FusionWeights,
    question: np.ndarray | None = None,
) -> np.ndarray:
    """All arrays are per candidate; keyword is raw BM25 (0 where keyword search missed it),
    semantic and question are raw cosines."""
    if len(semantic) == 0:
        return np.zeros(0, np.float32)
    top = float(keyword.max())
    keyword_norm = keyword / top if top > 0 else keyword
    low, high = float(semantic.min()), float(semantic.max())
    spread = high - low if high > low else 1.0
    score = (
        weights.semantic * (semantic - low) / spread + weights.keyword * keyword_norm + weights.exact * exact
    )
    if question is not None:
        # 0 where a fragment has no questions; otherwise clipped to the fragments' range.
        question_norm = np.clip((question - low) / spread, 0.0, 1.0)
        score = score + weights.question * np.where(question > 0, question_norm, 0.0)
    return score.astype(np.float32)
