"""Query stage: float rerank of the candidates.

Only the candidates' vectors are read (by row position, from the `float` table, which is
row-aligned with `binary`), like Vespa's paged attributes: the float table never has to fit
in memory. `preload()` holds them all in memory instead, for long-lived processes (the TUI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from docsearch.store.tables import IndexReader


# Read the whole table instead of the candidates when they are more than 1/SCAN_FRACTION of it.
SCAN_FRACTION = 4


class FloatReranker:
    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader
        self._all: np.ndarray | None = None

    def preload(self) -> None:
        self._all = self._reader.all_vectors()

    def scores(self, positions: np.ndarray, expected_ids: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of each candidate with the query (vectors are unit-normalized)."""
        if len(positions) == 0:
            return np.zeros(0, np.float32)
        if self._all is None and len(positions) * SCAN_FRACTION > self._reader.meta.count:
            # Candidates are a large share of a small table: one sequential read of all
            # vectors is cheaper than a random read of these, and it is kept for next time.
            self.preload()
        if self._all is not None:
            return self._all[positions] @ query
        # lance's take returns rows in ascending position order; sort, then map back.
        order = np.argsort(positions)
        ids, vectors = self._reader.take_vectors(positions[order])
        if not np.array_equal(ids, expected_ids[order]):
            raise RuntimeError("float table is out of step with the binary table")
        out = np.empty(len(positions), np.float32)
        out[order] = vectors @ query
        return out
