"""Query stage: float rerank of the candidates.

Only the candidates' vectors are read (by row position, from the `float` table, which is
row-aligned with `binary`), like Vespa's paged attributes: the float table never has to fit
in memory. That suits a one-shot `ask`, which would spend longer loading every vector than
reading 2,000 of them.

A long-lived process (the TUI, `eval`) calls `preload(max_bytes)` instead: every vector is
held in memory when that fits the budget (`float_memory_mb`). Reading
2,000 random rows from disk costs 12–25 ms at 10k–100k fragments; gathering them in memory
costs 0.4 ms (bench/query_latency.py).
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

    def preload(self, max_bytes: int | None = None) -> bool:
        """Hold every float vector in memory if they fit in `max_bytes` (no limit when None):
        as float32 when that fits (a gather and one matrix product), else as float16, as
        stored (half the memory, plus a conversion of the candidates per query). Returns
        whether they are in memory now."""
        if self._all is not None:
            return True
        meta = self._reader.meta
        values = meta.count * meta.document_model.dim
        with self._reader.guard():
            if max_bytes is None or values * 4 <= max_bytes:
                self._all = self._reader.all_vectors(np.float32)
            elif values * 2 <= max_bytes:
                self._all = self._reader.all_vectors(np.float16)
            else:
                return False
        return True

    def scores(self, positions: np.ndarray, expected_ids: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of each candidate with the query (vectors are unit-normalized)."""
        if len(positions) == 0:
            return np.zeros(0, np.float32)
        if self._all is None and len(positions) * SCAN_FRACTION > self._reader.meta.count:
            # Candidates are a large share of a small table: one sequential read of all
            # vectors is cheaper than a random read of these, and it is kept for next time.
            self.preload()
        if self._all is not None:
            return self._all[positions].astype(np.float32, copy=False) @ query
        # lance's take returns rows in ascending position order; sort, then map back.
        order = np.argsort(positions)
        ids, vectors = self._reader.take_vectors(positions[order])
        if not np.array_equal(ids, expected_ids[order]):
            raise RuntimeError("float table is out of step with the binary table")
        out = np.empty(len(positions), np.float32)
        out[order] = vectors @ query
        return out
