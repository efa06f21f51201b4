"""Query stage: keyword retrieval with LanceDB's full-text (BM25) index.

The fields are built on the index side (docsearch/index/fields.py). The main field, page
title + heading + generated questions + text, retrieves, as one plain single-field BM25
query; how much a heading match is worth is the ranker's call (head_cover, head_equal),
not a boost's.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from docsearch.store.tables import IndexReader

# A query word, as the full-text tokenizer splits it.
_QUERY_WORD_RE = re.compile(r"\w+")
_TRAILING_WORD_RE = re.compile(r"\w+$")
MIN_CORRECTED_LENGTH = 4
# A word seen at most RARE_COUNT times is checked against its neighbours; one of them is
# searched too when it is at least COMMONER times as frequent.
RARE_COUNT = 3
COMMONER = 10
HEADING_CACHE_SIZE = 8192


# Words too common to say what a heading is about; the full-text index drops them too.
_STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i",
     "in", "into", "is", "it", "my", "of", "on", "or", "the", "to", "what", "when", "where", "which",
     "why", "with", "you", "your"]
)  # fmt: skip
_SUFFIX_RE = re.compile(r"(?:ing|ed|es|s)$")


def query_terms(text: str) -> set[str]:
    """Lowercased content words with a light plural/tense stem: what "the heading holds the
    query's terms" compares (the heading_cover feature)."""
    out = set()
    for word in _QUERY_WORD_RE.findall(text.lower()):
        if word in _STOP_WORDS:
            continue
        stem = _SUFFIX_RE.sub("", word)
        out.add(stem if len(stem) >= 3 else word)
    return out


def _overlap(query: set[str] | frozenset[str], heading: set[str] | frozenset[str]) -> float:
    """Jaccard overlap of the query's and the heading's terms: 1 when the heading is the
    query, lower both for a heading missing query words and for a long heading that merely
    contains them."""
    union = len(query | heading)
    return len(query & heading) / union if union else 0.0


@dataclass(slots=True)
class KeywordHits:
    """The main field's hits, best first, with their headings and how much each heading
    shares with the query (Jaccard overlap of their terms, identifier parts included)."""

    ids: np.ndarray
    scores: np.ndarray
    headings: list[str]
    heading_cover: np.ndarray

    @classmethod
    def empty(cls) -> KeywordHits:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float32), [], np.zeros(0, np.float32))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def filter_clause(source: str | None, path_prefix: str | None) -> str | None:
    clauses = []
    if source:
        clauses.append(f"source = {_quote(source)}")
    if path_prefix:
        clauses.append(f"starts_with(path, {_quote(path_prefix)})")
    return " AND ".join(clauses) or None


class KeywordRetriever:
    def __init__(self, reader: IndexReader) -> None:
        self._reader = reader
        self._dataset = reader.fragments
        self._vocabulary: list[str] | None = None  # sorted words, for completion and typos
        self._frequency: dict[str, int] = {}
        self._heading_cache: dict[int, frozenset[str]] = {}

    def _heading_terms(self, fragment_id: int, heading: str) -> frozenset[str]:
        """A heading's terms, cached by fragment id: while a query is typed the same rows come
        back keystroke after keystroke, and this runs on the keyword thread beside the query
        embedding, holding the GIL."""
        found = self._heading_cache.get(fragment_id)
        if found is None:
            if len(self._heading_cache) >= HEADING_CACHE_SIZE:
                self._heading_cache.clear()  # a new query's rows; cheap to rebuild
            found = self._heading_cache[fragment_id] = frozenset(query_terms(heading))
        return found

    def _words(self) -> list[str]:
        """Every indexed word, sorted; read from the index's vocabulary table on first use."""
        if self._vocabulary is None:
            words, counts = self._reader.load_vocabulary()
            self._frequency = dict(zip(words, counts.tolist(), strict=True))
            self._vocabulary = words
        return self._vocabulary

    def is_word(self, word: str) -> bool:
        """Whether `word`, typed as the last word, is complete: an indexed word in its own
        right, not only the start of others. A word the index holds only rarely (RARE_COUNT),
        or far less often than a completion (COMMONER), is taken as unfinished: "proc" 4
        times, "process" 2,238 times in the Node docs; the manual quotes "crash saf" twice."""
        word = word.lower()
        self._words()
        count = self._frequency.get(word, 0)
        if not count:
            return False
        others = [self._frequency[w] for w in self.complete(word, limit=2) if w != word]
        return not others or (count > RARE_COUNT and count * COMMONER >= max(others))

    def complete(self, prefix: str, limit: int = 4) -> list[str]:
        """The most frequent indexed words that start with `prefix` (the word being typed)."""
        prefix = prefix.lower()
        if len(prefix) < 2:
            return [prefix] if prefix else []
        words = self._words()
        start = bisect.bisect_left(words, prefix)
        end = bisect.bisect_left(words, prefix + "\uffff")
        found = sorted(words[start:end], key=lambda w: -self._frequency[w])[:limit]
        if prefix in self._frequency and prefix not in found:
            found = [prefix, *found[: limit - 1]]
        return found or [prefix]

    def correct(self, word: str) -> str | None:
        """The indexed word a misspelt `word` most likely meant, or None.

        A word is taken as misspelt when the index lacks it, or holds it only a few times
        while a word one or two edits away is far more common (documentation has typos too,
        and a page may quote one): the usual spelling is then searched as well. The allowed
        distance grows with length (one edit up to 7 letters, two from 8), counting a swap of
        neighbours as one edit (optimal string alignment), so "fiel" is "file", not "field".
        Ties go to the more frequent word.
        """
        word = word.lower()
        if len(word) < MIN_CORRECTED_LENGTH or not word.isalpha():
            return None
        words = self._words()
        count = self._frequency.get(word, 0)
        if count > RARE_COUNT:
            return None
        from rapidfuzz import distance, process

        limit = 1 if len(word) < 8 else 2
        found = [
            (w, d)
            for w, d, _ in process.extract(
                word, words, scorer=distance.OSA.distance, score_cutoff=limit, limit=None
            )
            if w != word and self._frequency[w] >= max(1, count * COMMONER)
        ]
        if not found:
            return None
        return str(min(found, key=lambda m: (m[1], -self._frequency[m[0]]))[0])

    def corrections(self, query: str, prefix_last: bool = False) -> list[str]:
        """The corrections of the query's misspelt words, in order, without repeats; with
        `prefix_last` the word still being typed is left alone."""
        typed = _TRAILING_WORD_RE.search(query) if prefix_last else None
        settled = query[: typed.start()] if typed else query
        found = [c for w in _QUERY_WORD_RE.findall(settled) if (c := self.correct(w))]
        return list(dict.fromkeys(found))

    def expand(self, query: str, prefix_last: bool = False, corrections: list[str] | None = None) -> str:
        """The text the full-text index is asked for: the query, with each misspelt word's
        correction added (the original stays, in case it was meant), and with `prefix_last`
        the word being typed replaced by the indexed words it begins ("fs.readF" completes
        "readF") unless it is an indexed word already."""
        text = query
        typed = _TRAILING_WORD_RE.search(query) if prefix_last else None
        if typed and not self.is_word(typed.group(0)):
            # Completion fills in only a word that is not complete yet: "readline" typed is the
            # readline module, not its completions (readlinePromises, readlines) side by side.
            text = query[: typed.start()] + " " + " ".join(self.complete(typed.group(0)))
        if corrections is None:
            corrections = self.corrections(query, prefix_last)
        return " ".join([text, *corrections])

    def _match(self, query: str, column: str, limit: int, where: str | None, columns: list[str]) -> pa.Table:
        from lance.query import MatchQuery

        # A query of nothing but stop words or punctuation matches no rows (no error). An
        # error here is a full-text index that does not read: it must not pass for "no
        # keyword hits", so it goes up to the reader's guard, which names the damage.
        return self._dataset.to_table(
            columns=columns,
            full_text_query=MatchQuery(query, column),
            limit=limit,
            filter=where,
            prefilter=where is not None,
        )

    def search(self, query: str, limit: int, where: str | None = None) -> KeywordHits:
        """The main field's best `limit` fragments with their BM25 scores.

        The heading features come from the same rows (their stored heading field), not from
        a second full-text query: a heading that shares the query's words is part of the main
        field too, so its fragment is among these hits, and one query costs half of two."""
        if not query.strip() or limit <= 0:
            return KeywordHits.empty()
        main = self._match(query, "kw_all", limit, where, ["id", "heading", "title", "kw_heading", "_score"])
        headings = [
            h or t
            for h, t in zip(main.column("heading").to_pylist(), main.column("title").to_pylist(), strict=True)
        ]
        terms = query_terms(query)
        ids = main.column("id").to_numpy()
        cover = [
            _overlap(terms, self._heading_terms(int(i), h))
            for i, h in zip(ids.tolist(), main.column("kw_heading").to_pylist(), strict=True)
        ]
        return KeywordHits(
            ids,
            main.column("_score").to_numpy().astype(np.float32),
            headings,
            np.asarray(cover, np.float32),
        )
