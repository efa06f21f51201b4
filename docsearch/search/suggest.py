"""Suggestions while typing: hot links, headings, generated questions.

Three ways to match, tried in order until `limit` suggestions are found:
1. prefix, for precision: a hot link (`fs.readFile()`, `top_k`) whose name, or a dotted part
   of it, starts with the input; then headings and questions with a word starting with it;
2. typo-tolerant, for short inputs: names and heading words within one or two edits of the
   input (rapidfuzz's Levenshtein on the same-length prefix, so "readfiel" finds readFile);
3. semantic, for longer inputs: the searcher's best fragments, shown as their best-matching
   generated question or their heading.
It works without an LLM: headings and hot links come from the markdown itself.

It is built for a million fragments as much as for a hundred: the entries sit in arrays in
rank order and their words in sorted prefix indexes, so a keystroke costs what it matches
(bench/suggest_latency.py), and only the shown suggestions' breadcrumbs are read.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher
    from docsearch.store.tables import IndexReader

Kind = str  # "hotlink", "heading", "question", "semantic"
_WORD_RE = re.compile(r"[\w$]+")
SEMANTIC_MIN_WORDS = 3
FUZZY_MAX_CHARS = 24
# Text matches are put whole-input-first among this many of the best.
WHOLE_CHECK = 512
KIND_HOTLINK, KIND_HEADING, KIND_QUESTION = 0, 1, 2
KIND_NAMES = ("hotlink", "heading", "question")
# Rows turned into Python strings at a time while building.
BUILD_SLICE = 65_536
# A hot link is also found by the part after each of its first few separators.
MAX_NAME_TAILS = 4


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


class _PrefixIndex:
    """Sorted distinct keys, each with the entries that have it (CSR: entries of key i are
    entries[offsets[i]:offsets[i + 1]]). A prefix is a contiguous run of keys, found by
    bisection, so a lookup costs the matches, not the size of the index."""

    def __init__(self, keys: pa.Array, entries: np.ndarray) -> None:
        """`keys[i]` belongs to `entries[i]`; empty keys are dropped. Sorted by Arrow, so a
        million fragments' words never become Python strings, only the distinct ones do."""
        keep = pc.greater(pc.utf8_length(keys), 0)
        keys = keys.filter(keep)
        entries = entries[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
        order = pc.sort_indices(keys).to_numpy()
        keys = keys.take(order)
        self.entries = entries[order]
        if len(keys):
            changed = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1))
            starts = np.concatenate([[0], np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1])
        else:
            starts = np.zeros(0, np.int64)
        self.keys: list[str] = keys.take(starts).to_pylist()
        self.offsets = np.append(starts, len(keys)).astype(np.int64)

    def prefixed(self, prefix: str) -> np.ndarray:
        """Entries with a key that starts with `prefix` (unsorted, may repeat)."""
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + "\U0010ffff")
        return self.entries[self.offsets[lo] : self.offsets[hi]]

    def exact(self, key: str) -> np.ndarray:
        i = bisect.bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            return self.entries[self.offsets[i] : self.offsets[i + 1]]
        return self.entries[:0]


class Suggester:
    """Suggestions from an index of any size: the entries (hot links, headings, questions)
    live in numpy arrays in rank order, so "the best matches" is "the lowest entry numbers",
    and their words in prefix indexes; the display fields are read for the few shown."""

    def __init__(self, reader: IndexReader, searcher: Callable[[], Searcher] | None = None) -> None:
        """`searcher` builds a Searcher on demand: only semantic suggestions need the model."""
        self._reader = reader
        self._searcher_factory = searcher
        self._searcher: Searcher | None = None
        with reader.guard():
            table = reader.fragments.to_table(
                columns=["path", "anchor", "part", "heading", "title", "questions", "hot_links"]
            )
        self._paths = table.column("path").combine_chunks()
        self._anchors = table.column("anchor").combine_chunks()
        heading = pc.fill_null(table.column("heading").combine_chunks(), "")

        # Hot links, best first: definitions before mentions, then shorter, then by name.
        links = table.column("hot_links").combine_chunks()
        link_rows = pc.list_parent_indices(links).to_numpy()
        names = pc.list_flatten(links)
        lower = pc.utf8_lower(names)
        bare = pc.replace_substring_regex(lower, r"\(\)$", "")
        # A heading that starts with the name defines it (so does a table key, which is not
        # in the heading); a heading that names it later mentions it (a deprecation note
        # about `process.env`). In slices, so that only one slice is ever Python strings.
        mentions = np.zeros(len(names), dtype=bool)
        for start in range(0, len(names), BUILD_SLICE):
            rows = link_rows[start : start + BUILD_SLICE]
            sliced = zip(
                pc.utf8_lower(heading.take(rows)).to_pylist(),
                bare.slice(start, len(rows)).to_pylist(),
                strict=True,
            )
            mentions[start : start + len(rows)] = [not (h.startswith(b) or b not in h) for h, b in sliced]
        order = pc.sort_indices(
            pa.table({"m": pa.array(mentions), "n": pc.utf8_length(names), "l": lower}),
            sort_keys=[("m", "ascending"), ("n", "ascending"), ("l", "ascending")],
        )
        names, lower, link_rows = names.take(order), lower.take(order), link_rows[order.to_numpy()]

        # Headings (of a section's first part) and questions, best first: headings before
        # questions, then shorter.
        first = np.flatnonzero(table.column("part").to_numpy() == 0)
        titled = pc.if_else(pc.equal(heading, ""), table.column("title").combine_chunks(), heading)
        heads = titled.take(first)
        questions = table.column("questions").combine_chunks()
        question_rows = pc.list_parent_indices(questions).to_numpy()
        question_texts = pc.list_flatten(questions)
        texts = pa.concat_arrays([heads.cast(pa.string()), question_texts.cast(pa.string())])
        text_rows = np.concatenate([first, question_rows]).astype(np.int64)
        kinds = np.concatenate(
            [np.full(len(heads), KIND_HEADING), np.full(len(question_texts), KIND_QUESTION)]
        ).astype(np.int8)
        keep = np.flatnonzero(pc.utf8_length(texts).to_numpy(zero_copy_only=False) > 0)
        lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False)[keep]
        order = keep[np.lexsort((lengths, kinds[keep]))]
        texts = texts.take(order)
        del table

        hot = len(names)
        self._rows = np.concatenate([link_rows.astype(np.int64), text_rows[order]])
        self._kinds = np.concatenate([np.full(hot, KIND_HOTLINK, np.int8), kinds[order]])
        self._texts = pa.concat_arrays([names.cast(pa.string()), texts])

        # Keys of a hot link: its name and each tail after a separator (`fs.promises.readFile()`
        # is also `promises.readfile()` and `readfile()`).
        tails = [lower]
        for _ in range(MAX_NAME_TAILS):
            tail = pc.replace_substring_regex(tails[-1], r"^[^.:#/]*[.:#/]", "", max_replacements=1)
            changed = pc.not_equal(tail, tails[-1])
            tails.append(pc.if_else(changed, tail, pa.scalar("", pa.string())))
        link_entries = np.arange(hot, dtype=np.int32)
        self._hot = _PrefixIndex(
            pa.concat_arrays([t.cast(pa.string()) for t in tails]),
            np.tile(link_entries, len(tails)),
        )
        # Keys of a heading or question: its words.
        words = pc.split_pattern_regex(pc.utf8_lower(texts), r"[^\p{L}\p{N}_$]+")
        word_entries = pc.list_parent_indices(words).to_numpy().astype(np.int32) + hot
        self._words = _PrefixIndex(pc.list_flatten(words).cast(pa.string()), word_entries)

    def __len__(self) -> int:
        return len(self._rows)

    def examples(self, count: int = 4) -> list[str]:
        """A few queries drawn from the index itself, for the empty start screen: names it
        defines and headings of a few words, spread over the whole index."""
        half = (count + 1) // 2
        kinds = self._kinds
        hot = np.flatnonzero(kinds == KIND_HOTLINK)
        heads = np.flatnonzero(kinds == KIND_HEADING)

        def spread(entries: np.ndarray, keep: Callable[[str], bool], n: int) -> list[str]:
            picked: list[str] = []
            if not len(entries):
                return picked
            for i in np.unique(np.linspace(0, len(entries) - 1, num=min(len(entries), 40)).astype(int)):
                text = str(self._texts[int(entries[i])].as_py())
                if keep(text) and text not in picked:
                    picked.append(text)
            step = max(1, len(picked) // n)
            return picked[::step][:n]

        names = spread(hot, lambda t: 6 <= len(t) <= 32 and ("." in t or "_" in t), half)
        words = spread(heads, lambda t: 2 <= len(t.split()) <= 5 and len(t) <= 40, count - len(names))
        return [*names, *words]

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        with self._reader.guard():  # a table that does not read: one line, not a traceback
            return self._suggest(text, limit)

    def _suggest(self, text: str, limit: int) -> list[Suggestion]:
        query = " ".join(text.split()).lower()
        if not query or limit <= 0:
            return []
        chosen: list[int] = []  # entries, best first
        refs: set[tuple[str, str]] = set()

        def add(entries: Iterable[int]) -> bool:
            # One suggestion per destination: the first (best) way to name it wins.
            for e in entries:
                ref = (self._paths[self._rows[e]].as_py(), self._anchors[self._rows[e]].as_py())
                if ref not in refs:
                    refs.add(ref)
                    chosen.append(e)
                    if len(chosen) >= limit:
                        return True
            return False

        done = add(self._ranked(self._hot.prefixed(query))) or add(self._text_prefix(query))
        if not done and not chosen and len(query) <= FUZZY_MAX_CHARS:
            # Only when nothing matched as typed: a typo, not a finer-grained completion.
            done = add(self._fuzzy(query))
        out = self._suggestions(chosen)
        if not done and len(query.split()) >= SEMANTIC_MIN_WORDS and self._searcher_factory is not None:
            seen = {s.ref for s in out}
            for s in self._semantic(text, limit):
                if s.ref not in seen and len(out) < limit:
                    seen.add(s.ref)
                    out.append(s)
        return out

    def _ranked(self, entries: np.ndarray) -> Iterator[int]:
        """Distinct entries in rank order (entry numbers are ranks)."""
        if len(entries) == 0:
            return iter(())
        return iter(np.unique(entries).tolist())

    def _text_prefix(self, query: str) -> Iterator[int]:
        """Headings and questions of which every typed word starts some word (in any order:
        "safety crash" finds "Crash safety"; the last word may be unfinished), those that
        start with the whole input first."""
        words = [w for w in _WORD_RE.findall(query)]
        if not words:
            return iter(())
        found: np.ndarray | None = None
        for word in sorted(set(words), key=len, reverse=True):  # longest: fewest matches
            entries = np.unique(self._words.prefixed(word))
            found = entries if found is None else np.intersect1d(found, entries, assume_unique=True)
            if len(found) == 0:
                return iter(())
        assert found is not None
        head = found[:WHOLE_CHECK].tolist()
        whole = [e for e in head if self._texts[e].as_py().lower().startswith(query)]
        taken = set(whole)
        rest = (e for e in found.tolist() if e not in taken)
        return itertools.chain(whole, rest)

    def _fuzzy(self, query: str) -> list[int]:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        if len(query) < 4:
            return []  # three letters are a prefix, not a word one can misspell
        edits = 1 if len(query) <= 6 else 2
        scored: list[tuple[int, bool, int]] = []  # (distance, not a hot link, entry)
        for index, hot in ((self._hot, True), (self._words, False)):
            # Compare with each key's same-length prefix (an unfinished word), and whole keys
            # of about the query's length (a dropped or doubled letter).
            keys = [k for k in index.keys if len(k) >= len(query) - 1]
            best: dict[str, int] = {}
            for choices in ([k[: len(query)] for k in keys], keys):
                for _, distance, i in process.extract(
                    query, choices, scorer=Levenshtein.distance, score_cutoff=edits, limit=None
                ):
                    key = keys[i]
                    best[key] = min(distance, best.get(key, edits + 1))
            for key, distance in best.items():
                scored.extend((distance, not hot, int(e)) for e in index.exact(key))
        scored.sort()
        return list(dict.fromkeys(e for _, _, e in scored))

    def _suggestions(self, entries: list[int]) -> list[Suggestion]:
        if not entries:
            return []
        rows = sorted({int(self._rows[e]) for e in entries})
        crumbs = self._reader.fragments.take(rows, columns=["breadcrumb"]).column("breadcrumb").to_pylist()
        breadcrumb = dict(zip(rows, crumbs, strict=True))
        out = []
        for e in entries:
            row = int(self._rows[e])
            out.append(
                Suggestion(
                    self._texts[e].as_py(),
                    KIND_NAMES[int(self._kinds[e])],
                    self._paths[row].as_py(),
                    self._anchors[row].as_py(),
                    tuple(breadcrumb[row] or ()),
                )
            )
        return out

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
