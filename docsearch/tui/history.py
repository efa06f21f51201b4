"""Query history: the queries a user settled on, kept in the cache dir across runs.

A query counts once it was acted on (Enter, opening the preview, the editor, a copy), not per
keystroke, so the history holds "fs.readFile" and not "f", "fs", "fs.", ... One query a line,
newest last, at most LIMIT lines; a repeated query moves to the end. ↑ on an empty query walks
back through it (↓ forward), Ctrl+R lists it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

LIMIT = 500
FILE = "tui-history"


class History:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = self._read()
        self._cursor: int | None = None  # position while walking with ↑/↓; None: not walking

    def _read(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [line for line in text.split("\n") if line.strip()][-LIMIT:]

    def add(self, query: str) -> None:
        query = " ".join(query.split())
        self._cursor = None
        if not query:
            return
        if query in self.entries:
            self.entries.remove(query)
        self.entries = [*self.entries, query][-LIMIT:]
        # A history that cannot be written (read-only cache, full disk) is not worth an error.
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
            tmp.write_text("\n".join(self.entries) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)

    def older(self) -> str | None:
        """The query before the one shown (the newest first), or None at the oldest."""
        if not self.entries:
            return None
        at = len(self.entries) if self._cursor is None else self._cursor
        if at == 0:
            return None
        self._cursor = at - 1
        return self.entries[self._cursor]

    def newer(self) -> str | None:
        """The query after the one shown; "" past the newest (back to an empty query)."""
        if self._cursor is None:
            return None
        self._cursor += 1
        if self._cursor >= len(self.entries):
            self._cursor = None
            return ""
        return self.entries[self._cursor]

    def reset(self) -> None:
        self._cursor = None

    @property
    def walking(self) -> bool:
        return self._cursor is not None
