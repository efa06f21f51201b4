"""Page mode (Ctrl+G): the fragment's whole page, rendered a window of sections at a time.

A big page is thousands of markdown blocks (the Node docs' `fs.md`: 8,000 lines, 274
headings); mounting them all took 11 s and the UI lagged for a minute. The page is split at
its headings instead, and the preview holds a window of whole sections around the fragment:
more are appended as the reader scrolls to the bottom, and the window moves back when they
scroll to the top. The page's link definitions go with every window, so reference links
render as links wherever the window starts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from docsearch.links import definitions_block
from docsearch.present import sanitize

_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
# Lines per window step: a few screens, a few hundred blocks at most to mount.
WINDOW_LINES = 240


@dataclass(frozen=True, slots=True)
class Window:
    first: int  # section numbers, inclusive
    last: int
    markdown: str
    target_line: int  # 0-based line of `markdown` where the fragment's section begins, -1 if outside


class Page:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = text.split("\n")
        starts = [0]
        in_fence = False
        for n, line in enumerate(self.lines):
            if _FENCE_RE.match(line):
                in_fence = not in_fence
            elif not in_fence and n and _HEADING_RE.match(line):
                starts.append(n)
        self.starts = starts  # first line (0-based) of each section
        self._definitions: dict[tuple[int, int], str] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def section_of(self, line: int) -> int:
        """The section holding 1-based `line`."""
        return max(0, bisect.bisect_right(self.starts, line - 1) - 1)

    def _end(self, section: int) -> int:
        return self.starts[section + 1] if section + 1 < len(self.starts) else len(self.lines)

    def extend(self, first: int, lines: int = WINDOW_LINES) -> int:
        """The last section of a window that starts at `first` and holds about `lines` lines."""
        last = first
        while last + 1 < len(self.starts) and self._end(last) - self.starts[first] < lines:
            last += 1
        return last

    def back(self, first: int, lines: int = WINDOW_LINES) -> int:
        """The first section of about `lines` lines that end where section `first` begins."""
        start = first
        while start > 0 and self.starts[first] - self.starts[start - 1] <= lines:
            start -= 1
        return min(start, max(first - 1, 0))

    def window(self, first: int, last: int, target: int = -1) -> Window:
        text = "\n".join(self.lines[self.starts[first] : self._end(last)])
        defs = definitions_block(self.text, text)
        markdown = sanitize(text) + (f"\n\n{sanitize(defs)}\n" if defs else "")
        target_line = self.starts[target] - self.starts[first] if first <= target <= last else -1
        return Window(first, last, markdown, target_line)

    def around(self, line: int) -> Window:
        """The window that opens page mode at the fragment starting at 1-based `line`: the
        section before it for context, the fragment's section at the top of the screen."""
        target = self.section_of(line)
        first = max(0, target - 1)
        return self.window(first, self.extend(target), target)

    def describe(self, window: Window) -> str:
        start = self.starts[window.first] + 1
        end = self._end(window.last)
        return f"lines {start}–{end} of {len(self.lines)}"
