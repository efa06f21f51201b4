"""search/rows.py: the index's rows by position, through the Searcher's caches."""

from __future__ import annotations

from docsearch.search import rows as rows_module
from docsearch.search.rows import FragmentRows
from docsearch.store.tables import IndexReader


class CountingReader:
    """An IndexReader that counts the rows it is asked to read."""

    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader
        self.taken: list[int] = []

    def take_fragments(self, positions):  # type: ignore[no-untyped-def]
        self.taken += positions
        return self._reader.take_fragments(positions)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._reader, name)


def test_rows_come_back_in_the_order_asked_and_are_read_once(corpus_index):
    reader = CountingReader(IndexReader(corpus_index))
    rows = FragmentRows(reader)  # type: ignore[arg-type]
    direct = reader._reader.take_fragments([0, 1, 2, 3])
    assert rows.fragments([3, 0, 2]) == [direct[3], direct[0], direct[2]]
    assert rows.fragments([2, 1]) == [direct[2], direct[1]]
    assert reader.taken == [0, 2, 3, 1]  # ascending, and only what was not cached
    rows.clear()
    rows.fragments([2])
    assert reader.taken[-1:] == [2]  # cleared: read from the files again


def test_the_cache_is_bounded(corpus_index, monkeypatch):
    monkeypatch.setattr(rows_module, "FRAGMENT_CACHE_SIZE", 3)
    reader = CountingReader(IndexReader(corpus_index))
    rows = FragmentRows(reader)  # type: ignore[arg-type]
    rows.fragments([0, 1, 2, 3, 4])  # more than it keeps: all returned, then cut to 5
    rows.fragments([5])  # the least recently used go: 0, 1, 2
    reader.taken.clear()
    rows.fragments([0, 4])
    assert reader.taken == [0]


def test_sections_by_address(corpus_index):
    reader = IndexReader(corpus_index)
    rows = FragmentRows(reader)
    every = reader.take_fragments(list(range(reader.meta.count)))
    target = next(f for f in every if f.anchor and f.part == 0)
    found = rows.fragment_at(target.source, target.path, target.anchor)
    assert found is not None and (found.path, found.anchor, found.part) == (target.path, target.anchor, 0)
    lead = rows.fragment_at(target.source, target.path, "")
    first = min((f for f in every if f.path == target.path), key=lambda f: (f.line_start, f.part))
    assert lead == first  # the page's lead, or its first section
    assert rows.fragment_at(target.source, "no/such/page.md", "") is None
    assert rows.fragment_at(target.source, target.path, "no-such-anchor") is None
    later = next(f for f in every if f.part > 0)  # the manual has long sections, split
    parts = rows.section_parts(later)
    same = sorted(
        (f for f in every if (f.path, f.anchor) == (later.path, later.anchor)), key=lambda f: f.part
    )
    assert parts == same and parts[0].part == 0 and later in parts
    whole = next(f for f in every if (f.path, f.anchor) not in {(g.path, g.anchor) for g in every if g.part})
    assert rows.section_parts(whole) == [whole]  # not split: itself
