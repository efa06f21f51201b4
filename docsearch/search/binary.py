"""Query stage: the binary first phase, hamming distance over every fragment's sign bits.

The packed bits live in memory (loaded once from the `binary` table): 48 bytes a fragment at
384 dimensions, 256 at 2048. Distances are XOR + popcount over uint64 words, which numpy does
in one vectorized pass; top-k by `argpartition`, so the cost is linear in the corpus.
"""

from __future__ import annotations

import numpy as np


class BinaryIndex:
    def __init__(self, ids: np.ndarray, bits: np.ndarray) -> None:
        if bits.ndim != 2 or len(ids) != len(bits):
            raise ValueError("ids and bits must have one row per fragment")
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)
        self.nbits = bits.shape[1] * 8
        width = bits.shape[1]
        if width % 8 == 0:
            # Whole 64-bit words: 8x fewer popcounts than bytes.
            self._words = np.ascontiguousarray(bits).view(np.uint64)
        else:
            self._words = np.ascontiguousarray(bits)
        order = np.argsort(self.ids, kind="stable")
        self._sorted_ids = self.ids[order]
        self._order = order

    def __len__(self) -> int:
        return len(self.ids)

    def positions_of(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of `ids`; -1 for ids not in the index."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(self._sorted_ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(self._sorted_ids, ids).clip(0, len(self._sorted_ids) - 1)
        found = self._sorted_ids[at] == ids
        return np.where(found, self._order[at], -1)

    def distances(self, query_bits: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(query_bits, dtype=np.uint8)
        q = q.view(np.uint64) if self._words.dtype == np.uint64 else q
        return np.bitwise_count(np.bitwise_xor(self._words, q)).sum(axis=1, dtype=np.int32)

    def search(
        self, query_bits: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, similarity = 1 - hamming/bits) of the k nearest, nearest first."""
        if len(self.ids) == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        dist = self.distances(query_bits)
        if mask is not None:
            dist = np.where(mask, dist, np.iinfo(np.int32).max)
            k = min(k, int(mask.sum()))
            if k == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
        top = np.argpartition(dist, k - 1)[:k] if k < len(dist) else np.arange(len(dist))
        top = top[np.argsort(dist[top], kind="stable")]
        return top.astype(np.int64), (1.0 - dist[top] / self.nbits).astype(np.float32)
