"""Suggestions while typing: hot links, headings, generated questions.

Three ways to match, tried in order until `limit` suggestions are found:
1. prefix, for precision: a hot link (`fs.readFile()`, `top_k`) whose name, or a dotted part
   of it, starts with the input; then headings and questions with a word starting with it;
2. typo-tolerant, for short inputs: names and heading words within one or two edits of the
   input (rapidfuzz's Levenshtein on the same-length prefix, so "readfiel" finds readFile);
3. semantic, for longer inputs: the searcher's best fragments, shown as their best-matching
   generated question or their heading.
It works without an LLM: headings and hot links come from the markdown itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher
    from docsearch.store.tables import IndexReader

Kind = str  # "hotlink", "heading", "question", "semantic"
_WORD_RE = re.compile(r"[\w$]+")
SEMANTIC_MIN_WORDS = 3
FUZZY_MAX_CHARS = 24


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    kind: Kind
    path: str
    anchor: str
    breadcrumb: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.path}#{self.anchor}" if self.anchor else self.path

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "kind": self.kind,
            "path": self.path,
            "anchor": self.anchor,
            "breadcrumb": list(self.breadcrumb),
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    text: str
    lower: str
    kind: Kind
    path: str
    anchor: str
    breadcrumb: tuple[str, ...]
    keys: tuple[str, ...]  # lower-case strings a prefix may start: the name's parts, or words
    defines: bool = True  # a hot link whose section defines the name (not merely mentions it)

    def suggestion(self, kind: Kind | None = None) -> Suggestion:
        return Suggestion(self.text, kind or self.kind, self.path, self.anchor, self.breadcrumb)


def _name_keys(name: str) -> tuple[str, ...]:
    lower = name.lower()
    parts = [lower]
    for sep in (".", ":", "#", "/"):
        if sep in lower:
            tail = lower
            while sep in tail:
                tail = tail.split(sep, 1)[1]
                parts.append(tail)
    return tuple(dict.fromkeys(parts))


class Suggester:
    def __init__(self, reader: IndexReader, searcher: Callable[[], Searcher] | None = None) -> None:
        """`searcher` builds a Searcher on demand: only semantic suggestions need the model."""
        table = reader.fragments.to_table(
            columns=["path", "anchor", "part", "heading", "title", "breadcrumb", "questions", "hot_links"]
        )
        self._searcher_factory = searcher
        self._searcher: Searcher | None = None
        self.hot: list[_Entry] = []
        self.texts: list[_Entry] = []
        seen: set[tuple[str, str, str]] = set()
        for row in table.to_pylist():
            crumbs = tuple(row["breadcrumb"])
            path, anchor = row["path"], row["anchor"]
            heading = (row["heading"] or "").lower()
            for name in row["hot_links"] or ():
                # A heading that starts with the name defines it (so does a table key, which is
                # not in the heading); a heading that names it later mentions it (a deprecation
                # note about `process.env`). Definitions come first.
                bare = name.lower().removesuffix("()")
                defines = heading.startswith(bare) or bare not in heading
                keys = _name_keys(name)
                self.hot.append(_Entry(name, name.lower(), "hotlink", path, anchor, crumbs, keys, defines))
            candidates = [(row["heading"] or row["title"], "heading")] if row["part"] == 0 else []
            candidates += [(q, "question") for q in row["questions"] or ()]
            for text, kind in candidates:
                key = (text.lower(), path, anchor)
                if not text or key in seen:
                    continue
                seen.add(key)
                words = tuple(w.lower() for w in _WORD_RE.findall(text))
                self.texts.append(_Entry(text, text.lower(), kind, path, anchor, crumbs, words))
        # Shorter names first: the closest completion of what was typed.
        self.hot.sort(key=lambda e: (not e.defines, len(e.text), e.lower))

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        query = " ".join(text.split()).lower()
        if not query or limit <= 0:
            return []
        out: list[Suggestion] = []
        seen: set[str] = set()

        def add(s: Suggestion) -> bool:
            # One suggestion per destination: the first (best) way to name it wins.
            if s.ref not in seen:
                seen.add(s.ref)
                out.append(s)
            return len(out) >= limit

        for e in self.hot:
            if any(k.startswith(query) for k in e.keys) and add(e.suggestion()):
                return out
        for e in self._text_prefix(query):
            if add(e.suggestion()):
                return out
        if not out and len(query) <= FUZZY_MAX_CHARS:
            # Only when nothing matched as typed: a typo, not a finer-grained completion.
            for e in self._fuzzy(query):
                if add(e.suggestion()):
                    return out
        if len(query.split()) >= SEMANTIC_MIN_WORDS and self._searcher_factory is not None:
            for s in self._semantic(text, limit):
                if add(s):
                    return out
        return out

    def _text_prefix(self, query: str) -> list[_Entry]:
        words = query.split()
        whole = [e for e in self.texts if e.lower.startswith(query)]
        # Every typed word starts some word of the text (in any order): "safety crash" finds
        # "Crash safety", and the last word may be unfinished.
        partial = [
            e
            for e in self.texts
            if not e.lower.startswith(query) and all(any(k.startswith(w) for k in e.keys) for w in words)
        ]
        rank = {"heading": 0, "question": 1}
        return sorted(whole, key=lambda e: (rank[e.kind], len(e.text))) + sorted(
            partial, key=lambda e: (rank[e.kind], len(e.text))
        )

    def _fuzzy(self, query: str) -> list[_Entry]:
        from rapidfuzz.distance import Levenshtein

        if len(query) < 4:
            return []  # three letters are a prefix, not a word one can misspell
        edits = 1 if len(query) <= 6 else 2
        scored: list[tuple[int, int, _Entry]] = []
        for e in self.hot + self.texts:
            # Compare with each key's same-length prefix (an unfinished word), and whole keys
            # of about the query's length (a dropped or doubled letter).
            best = min(
                (
                    Levenshtein.distance(query, key, score_cutoff=edits)
                    for k in e.keys
                    if len(k) >= len(query) - 1
                    for key in (k[: len(query)], k)
                ),
                default=edits + 1,
            )
            if best <= edits:
                scored.append((best, len(e.text), e))
        scored.sort(key=lambda t: (t[0], t[2].kind != "hotlink", t[1]))
        return [e for _, _, e in scored]

    def _semantic(self, text: str, limit: int) -> list[Suggestion]:
        if self._searcher is None:
            assert self._searcher_factory is not None
            self._searcher = self._searcher_factory()
        out = []
        for hit in self._searcher.search(text, top_k=limit).hits:
            f = hit.fragment
            label = hit.matched_question or f.heading or f.title
            out.append(Suggestion(label, "semantic", f.path, f.anchor, f.breadcrumb))
        return out
