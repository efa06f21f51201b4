"""Pages and sections of the open index, for reading rather than ranking.

The Searcher answers "which fragments"; an agent then asks for a whole section (every part of
a long one, joined) or a window of a page. Both are addressed the way search results are:
`path#anchor`, within a source. The map is built from a few small columns of the committed
fragments table, once per open commit, so that a lookup is a dictionary read and the text
comes from the rows of that section only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # lance and pyarrow load on the loading thread, not before the handshake
    from docsearch.model import Fragment
    from docsearch.store.tables import IndexReader

_COLUMNS = ["source", "path", "anchor", "part", "title", "heading", "level", "line_start", "line_end"]


@dataclass(frozen=True, slots=True)
class Section:
    """One address (`path#anchor`): a heading's section, all of its parts."""

    anchor: str
    heading: str
    level: int
    line_start: int
    line_end: int
    positions: tuple[int, ...]  # row positions of its parts, in part order
    part_lines: tuple[int, ...]  # each part's first line in the file

    def ref(self, path: str) -> str:
        return f"{path}#{self.anchor}" if self.anchor else path


@dataclass(frozen=True, slots=True)
class Page:
    source: str
    path: str
    title: str
    sections: tuple[Section, ...]  # in line order

    def section(self, anchor: str) -> Section | None:
        return next((s for s in self.sections if s.anchor == anchor), None)

    @property
    def fragments(self) -> int:
        return sum(len(s.positions) for s in self.sections)


class PageMap:
    """Every page of one open commit."""

    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        with reader.guard():
            table = reader.fragments.to_table(columns=_COLUMNS)
        cols = {name: table.column(name).to_pylist() for name in _COLUMNS}
        rows: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = {}
        titles: dict[tuple[str, str], str] = {}
        for position, (source, path, anchor, part) in enumerate(
            zip(cols["source"], cols["path"], cols["anchor"], cols["part"], strict=True)
        ):
            key = (source, path)
            titles.setdefault(key, cols["title"][position])
            rows.setdefault(key, {}).setdefault(anchor, []).append((part, position))
        self.pages: dict[tuple[str, str], Page] = {}
        for key, anchors in rows.items():
            sections = []
            for anchor, parts in anchors.items():
                parts.sort()
                positions = tuple(p for _, p in parts)
                first, last = positions[0], positions[-1]
                sections.append(
                    Section(
                        anchor=anchor,
                        heading=cols["heading"][first],
                        level=cols["level"][first],
                        line_start=cols["line_start"][first],
                        line_end=cols["line_end"][last],
                        positions=positions,
                        part_lines=tuple(cols["line_start"][p] for p in positions),
                    )
                )
            sections.sort(key=lambda s: (s.line_start, s.anchor))
            self.pages[key] = Page(key[0], key[1], titles[key], tuple(sections))

    def lookup(self, path: str, source: str | None = None) -> list[Page]:
        """The pages at `path`: one per source that has it (only `source`'s, when given)."""
        if source is not None:
            page = self.pages.get((source, path))
            return [page] if page else []
        return [p for (_, p_path), p in sorted(self.pages.items()) if p_path == path]

    def sorted_pages(self) -> list[Page]:
        return [self.pages[key] for key in sorted(self.pages)]

    def parts(self, section: Section) -> list[Fragment]:
        """The section's fragments, in part order (lance returns rows by ascending position)."""
        with self.reader.guard():
            fragments = self.reader.take_fragments(sorted(section.positions))
        return sorted(fragments, key=lambda f: f.part)


def read_page_lines(root: str | None, path: str) -> list[str] | None:
    """The page as it is on disk now, by lines; None when its folder or file cannot be read."""
    if not root:
        return None
    with contextlib.suppress(OSError):
        text = (Path(root) / path).read_text(encoding="utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return None


def heading_line(lines: list[str], section: Section) -> int:
    """The line (1-based) where `section` starts in `lines`: where the index says, or, when the
    file has changed since it was indexed, the nearest line that holds its heading."""
    at = section.line_start
    if not section.heading or (0 < at <= len(lines) and section.heading in lines[at - 1]):
        return max(1, min(at, len(lines)))
    found = [
        n for n, line in enumerate(lines, 1) if section.heading in line and line.lstrip().startswith("#")
    ]
    return min(found, key=lambda n: abs(n - at)) if found else max(1, min(at, len(lines)))
