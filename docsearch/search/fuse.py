"""The ranking formula, in one place.

    score = w_semantic · cosine(query, fragment)          float rerank, in [-1, 1]
          + w_keyword  · bm25 / max(bm25 over candidates) keyword, in [0, 1]
          + w_exact    · exact                            1 if the heading contains an
                                                          identifier the query names, else 0
          + w_question · max cosine(query, question)      over the fragment's LLM-written
                                                          questions; 0 when it has none

Why: the cosine carries meaning and paraphrase; BM25 (with headings weighted above body text,
see keyword.py) carries the exact words a reader typed, and normalizing it by the best
candidate puts it on the cosine's scale whatever the corpus; the exact term makes a typed
identifier (`fs.readFile`, `num-threads-per-search`) win over prose that merely mentions it;
the question term rewards a fragment whose questions read like the query (the user asks a
question, the fragment is its answer). Tune the weights with `docsearch eval` qrels.
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
    semantic: float = 1.0
    keyword: float = 0.6
    exact: float = 0.15
    question: float = 0.5


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
    """All arrays are per candidate; keyword is raw BM25 (0 where keyword search missed it)."""
    top = float(keyword.max()) if len(keyword) else 0.0
    keyword_norm = keyword / top if top > 0 else keyword
    score = weights.semantic * semantic + weights.keyword * keyword_norm + weights.exact * exact
    if question is not None:
        score = score + weights.question * np.maximum(question, 0.0)
    return score
