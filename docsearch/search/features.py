"""Query stage 4a: per-candidate features for the ranker, computed over all candidates at once.

Every feature is put on a scale that means the same on any corpus, because the ranker is
fitted on two documentation sets and must hold on a third nobody tuned for:
    bm25        BM25 of the main field (page title + heading + text) / the best candidate's
    head_cover  Jaccard overlap of the query's and the heading's content words (1: the heading
                is the query, "exit codes" → "Exit codes"), which BM25 alone blurs: a rare
                word in a long heading can outscore a heading that is exactly the query
    head_equal  1 when the heading is the query (head_cover = 1): the reader typed a section's
                name, as on a docs site's search box; in 13 of the 18 dev queries where some
                heading equalled the query, that heading was judged relevant
    cos         cosine with the query, min-max over the candidates (a small model's cosines
                bunch up, so the raw value says little; its order within a query says a lot)
    page_bm25   the best `bm25` of any candidate on the same page: a page about the query
    page_cos    the best `cos` on the same page     lifts its sections (docs-site hierarchy)
    length      log(1 + tokens) / log(512): a section that explains something is longer than a
                stub ("Added in: v10.0.0", a one-line redirect), and on both dev corpora short
                stubs were the most common false positives of both retrievers
    deprecated  1 for a section that says it is deprecated or legacy at its top
    exact       1 when the heading contains an identifier the query names (0.5 for the body)
    question    the best generated question's cosine, scaled with the fragments' min and max;
                0 when the fragment has none
The names are the model file's contract (ranker.py): a fitted model lists the features it
was trained on, in order, and a model naming one this docsearch lacks is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = (
    "bm25",
    "head_cover",
    "head_equal",
    "cos",
    "page_bm25",
    "page_cos",
    "length",
    "deprecated",
    "exact",
    "question",
)
LENGTH_SCALE = float(np.log(512.0))
# Jaccard overlap at which a heading counts as the query itself (all terms, nothing else).
HEADING_EQUAL = 0.999


@dataclass(slots=True)
class Signals:
    """What the retrievers found for each candidate, as parallel arrays."""

    bm25: np.ndarray  # raw BM25 of the main field, 0 where keyword search missed it
    heading_cover: np.ndarray  # Jaccard overlap of query and heading terms, 0 where missed
    cosine: np.ndarray  # raw cosine of the fragment vector
    question: np.ndarray  # raw cosine of the best question, 0 where none
    exact: np.ndarray  # 0, 0.5 or 1
    page: np.ndarray  # a page number per candidate (same page, same number)
    tokens: np.ndarray  # token count
    deprecated: np.ndarray  # bool


def _by_max(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else np.zeros_like(x)


def _page_max(values: np.ndarray, page: np.ndarray) -> np.ndarray:
    """For each candidate, the largest value among the candidates of its page."""
    if not len(values):
        return values
    best = np.zeros(int(page.max()) + 1, np.float32)
    np.maximum.at(best, page, values)
    return best[page]


def feature_matrix(s: Signals) -> np.ndarray:
    """[candidates, len(FEATURES)] float32, columns in FEATURES order."""
    n = len(s.cosine)
    if n == 0:
        return np.zeros((0, len(FEATURES)), np.float32)
    bm25 = _by_max(s.bm25.astype(np.float32))
    low, high = float(s.cosine.min()), float(s.cosine.max())
    spread = high - low if high > low else 1.0
    cos = ((s.cosine - low) / spread).astype(np.float32)
    question = np.where(s.question > 0, np.clip((s.question - low) / spread, 0.0, 1.0), 0.0)
    columns = {
        "bm25": bm25,
        "head_cover": s.heading_cover.astype(np.float32),
        "head_equal": (s.heading_cover >= HEADING_EQUAL).astype(np.float32),
        "cos": cos,
        "page_bm25": _page_max(bm25, s.page),
        "page_cos": _page_max(cos, s.page),
        "length": np.log1p(s.tokens.astype(np.float32)) / LENGTH_SCALE,
        "deprecated": s.deprecated.astype(np.float32),
        "exact": s.exact.astype(np.float32),
        "question": question.astype(np.float32),
    }
    return np.stack([columns[name] for name in FEATURES], axis=1).astype(np.float32)
