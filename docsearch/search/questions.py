"""Query stage: generated questions as extra vectors of their fragment (multi-vector).

Every question has its own sign bits and float vector (tables `qbinary` and `qfloat`, keyed
by fragment id and question number). The binary phase over questions adds candidates: a
query phrased like a question finds the fragment that answers it even when the fragment's
own text is worded differently. For every candidate, the rerank takes the cosine of its
best-matching question: max over its questions, as search.vespa.ai's multi-vector question
embedding did. Fragments without questions score 0 on this term.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from docsearch.search.binary import BinaryIndex

if TYPE_CHECKING:
    from docsearch.store.tables import IndexReader


class QuestionIndex:
    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader
        fragment_ids, numbers, bits = reader.load_question_bits()
        self.fragment_ids = fragment_ids.astype(np.int64)
        self.numbers = numbers.astype(np.int64)
        self.bits = BinaryIndex(np.arange(len(fragment_ids), dtype=np.int64), bits)
        # Question rows grouped by fragment id, for "all questions of these fragments".
        self._order = np.argsort(self.fragment_ids, kind="stable")
        self._sorted = self.fragment_ids[self._order]

    def __len__(self) -> int:
        return len(self.fragment_ids)

    def candidates(self, query_bits: np.ndarray, k: int, mask_of: np.ndarray | None = None) -> np.ndarray:
        """Fragment ids whose questions are nearest to the query in hamming distance."""
        if not len(self) or k <= 0:
            return np.zeros(0, np.int64)
        positions, _ = self.bits.search(query_bits, k, mask_of)
        return np.unique(self.fragment_ids[positions])

    def best(self, fragment_ids: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per fragment: (cosine of its best question, that question's number or -1)."""
        n = len(fragment_ids)
        scores = np.zeros(n, np.float32)
        which = np.full(n, -1, np.int64)
        if not len(self) or not n:
            return scores, which
        starts = np.searchsorted(self._sorted, fragment_ids, "left")
        ends = np.searchsorted(self._sorted, fragment_ids, "right")
        counts = ends - starts
        has = counts > 0
        if not has.any():
            return scores, which
        # Every question row of the candidates, grouped by candidate, without a Python loop:
        # range(start, end) for each group, laid end to end.
        sizes = counts[has]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rows = self._order[np.repeat(starts[has] - offsets, sizes) + np.arange(int(sizes.sum()))]
        order = np.argsort(rows)
        ids, vectors = self._reader.take_vectors(rows[order], table_name="qfloat")
        if not np.array_equal(ids, self.fragment_ids[rows[order]]):
            raise RuntimeError("question tables are out of step")
        cos = np.empty(len(rows), np.float32)
        cos[order] = vectors @ query
        best = np.maximum.reduceat(cos, offsets)
        # The first row of each group that reaches its maximum: the question that matched.
        group = np.repeat(np.arange(len(sizes)), sizes)
        hits = np.flatnonzero(cos == best[group])
        _, first = np.unique(group[hits], return_index=True)
        at = hits[first]
        scores[has] = best
        which[has] = self.numbers[rows[at]]
        return scores, which
