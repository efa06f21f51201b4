"""The index's rows by position, for the query pipeline and the shells' previews: whole
columns read once, fragments and body texts through small LRU caches, and the sections that
were split into parts.

One per Searcher (one commit): its caches are never stale, because a re-index opens a new
Searcher over the new commit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from docsearch.model import Fragment
from docsearch.store.tables import IndexReader

T = TypeVar("T")

# Fragments kept by row position (about 2 KB each): a few screens of recent results.
FRAGMENT_CACHE_SIZE = 512


class FragmentRows:
    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self._columns: dict[str, np.ndarray] = {}
        self._fragment_cache: OrderedDict[int, Fragment] = OrderedDict()
        self._text_cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()
        self._sections: dict[tuple[str, str, str], list[int]] | None = None

    def clear(self) -> None:
        """Forget the cached fragments and texts: the next read goes to the files."""
        with self._lock:
            self._fragment_cache.clear()
            self._text_cache.clear()

    def column(self, name: str) -> np.ndarray:
        if name not in self._columns:
            self._columns[name] = np.asarray(self.reader.column(name).to_pylist(), dtype=object)
        return self._columns[name]

    def _cached(
        self, cache: OrderedDict[int, T], positions: list[int], read: Callable[[list[int]], list[T]]
    ) -> list[T]:
        """Rows by position through an LRU cache: while a query is typed one key at a time,
        most of the top rows stay the same, and reading one row from lance costs about as
        much as reading forty. `read` takes ascending positions (lance's take returns rows in
        ascending position order, whatever order is asked)."""
        with self._lock:  # the TUI may search from two workers at once
            missing = sorted({p for p in positions if p not in cache})
            if missing:
                for p, row in zip(missing, read(missing), strict=True):
                    cache[p] = row
            out = []
            for p in positions:
                cache.move_to_end(p)
                out.append(cache[p])
            while len(cache) > max(FRAGMENT_CACHE_SIZE, len(positions)):
                cache.popitem(last=False)
            return out

    def fragments(self, positions: list[int]) -> list[Fragment]:
        return self._cached(self._fragment_cache, positions, self.reader.take_fragments)

    def texts(self, positions: list[int]) -> list[str]:
        """Body texts only, for the identifier check: one column instead of a whole row."""
        return self._cached(self._text_cache, positions, self.reader.take_texts)

    def section_parts(self, fragment: Fragment) -> list[Fragment]:
        """Every part of the section `fragment` is a part of, in order (just `fragment` when
        the section was not split): the preview shows a section whole, from its heading."""
        key = (fragment.source, fragment.path, fragment.anchor)
        positions = self.split_sections().get(key)
        if positions is None:
            return [fragment]
        return sorted(self.fragments(positions), key=lambda f: f.part)

    def fragment_at(self, source: str, path: str, anchor: str) -> Fragment | None:
        """The first part of the section at `path#anchor` ("" for the page's lead, or its first
        section when it has no lead), or None when the index has no such page."""
        sources, paths = self.column("source"), self.column("path")
        rows = np.flatnonzero((sources == source) & (paths == path))
        if not len(rows):
            return None
        found = self.fragments([int(p) for p in rows])
        exact = [f for f in found if f.anchor == anchor]
        pool = exact or (found if not anchor else [])
        return min(pool, key=lambda f: (f.line_start, f.part)) if pool else None

    def split_sections(self) -> dict[tuple[str, str, str], list[int]]:
        """(source, path, anchor) → row positions, for the sections split into parts."""
        if self._sections is None:
            parts = self.reader.column("part").to_numpy()
            split: dict[tuple[str, str, str], list[int]] = {}
            later = np.flatnonzero(parts > 0)
            if len(later):
                sources, paths, anchors = self.column("source"), self.column("path"), self.column("anchor")
                keys = set(zip(sources[later], paths[later], anchors[later], strict=True))
                for p in np.flatnonzero(np.isin(anchors, [k[2] for k in keys])):
                    key = (sources[p], paths[p], anchors[p])
                    if key in keys:
                        split.setdefault(key, []).append(int(p))
            self._sections = split
        return self._sections
