"""Query stage 5: fuse every retriever's evidence into one score per candidate.

    score = ranker · features(candidate)

features.py puts each signal (BM25, heading overlap, the cosine, page-level evidence,
length, deprecation, exact identifiers, generated questions) on a corpus-independent scale;
ranker.py holds the learned weights and says how they were fitted. This module also finds the
identifiers a query names, for the `exact` feature.
"""

from __future__ import annotations

import re

import numpy as np

from docsearch.search.features import Signals, feature_matrix
from docsearch.search.ranker import LinearRanker

# An identifier-like query token: has a dot, underscore, hyphen between words, parens,
# or an inner capital (camelCase).
_IDENTIFIER_RE = re.compile(r"[\w$]+(?:[.\-_:/#][\w$]+)+|[a-z]+[A-Z][\w$]*|[\w$]+\(\)")


# No identifier is longer; a longer word is not scanned. The pattern backtracks (a `_` is both
# a word character and a separator), so a scan of one long word grows with its square: 16k
# letters took 19 s. Bounded words keep the whole scan linear in the query's length.
MAX_IDENTIFIER = 200


def query_identifiers(query: str) -> list[str]:
    return [
        m.lower().removesuffix("()")
        for word in query.split()
        if len(word) <= MAX_IDENTIFIER
        for m in _IDENTIFIER_RE.findall(word)
    ]


def exact_matches(identifiers: list[str], headings: list[str]) -> np.ndarray:
    if not identifiers:
        return np.zeros(len(headings), np.float32)
    lowered = [h.lower() for h in headings]
    return np.array([1.0 if any(i in h for i in identifiers) else 0.0 for h in lowered], np.float32)


def fuse(signals: Signals, ranker: LinearRanker) -> np.ndarray:
    return ranker.score(feature_matrix(signals))


def linear_mix(bm25: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """The baseline every hybrid should beat: 0.5 · BM25 / max + 0.5 · cosine."""
    top = float(bm25.max()) if len(bm25) else 0.0
    return (0.5 * (bm25 / top if top > 0 else bm25) + 0.5 * cosine).astype(np.float32)
