"""Query stage: keyword retrieval with LanceDB's full-text (BM25) index.

Documentation readers type titles, identifiers and config names as often as concepts, so a
fragment is indexed in three fields that are weighted differently at query time:
    kw_heading  the section heading (or page title), plus identifier parts: `readFileSync`
                also as `read file sync`, so both spellings find it
    kw_context  the breadcrumb above the heading and the path's words
    kw_questions  the questions an LLM said the fragment answers (when generated)
    text        the body
The index removes English stop words and stems, so a natural-language question is matched on
its content words.
"""

from __future__ import annotations

import bisect
import re
from typing import TYPE_CHECKING

import numpy as np

from docsearch.model import Fragment

if TYPE_CHECKING:
    from docsearch.store.tables import IndexReader

# Words inside identifiers: fooBar, FooBar, HTTPServer, foo2Bar.
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
# A query word, as the full-text tokenizer splits it.
_QUERY_WORD_RE = re.compile(r"\w+")
_TRAILING_WORD_RE = re.compile(r"\w+$")
MIN_CORRECTED_LENGTH = 4
# A word seen at most RARE_COUNT times is checked against its neighbours; one of them is
# searched too when it is at least COMMONER times as frequent.
RARE_COUNT = 3
COMMONER = 10

HEADING_BOOST = 3.0
CONTEXT_BOOST = 1.5
# Generated questions are phrased like queries: a match there is strong evidence, but they
# are a model's guess, so they weigh less than the author's own heading.
QUESTIONS_BOOST = 2.0
TEXT_BOOST = 1.0


def identifier_parts(text: str) -> list[str]:
    """The camelCase words of identifiers in `text` that the tokenizer would keep whole."""
    parts: list[str] = []
    for ident in _IDENT_RE.findall(text):
        words = _CAMEL_RE.findall(ident)
        if len(words) > 1:
            parts.extend(words)
    return parts


def keyword_fields(fragment: Fragment) -> tuple[str, str, str]:
    heading = fragment.heading or fragment.title
    kw_heading = " ".join([heading, *identifier_parts(heading)])
    ancestors = fragment.breadcrumb[:-1] if fragment.heading else ()
    path_words = re.sub(r"[/._\-]+", " ", fragment.path.rsplit(".", 1)[0])
    kw_context = " ".join([*ancestors, *identifier_parts(" ".join(ancestors)), path_words])
    questions = " ".join(fragment.questions)
    kw_questions = " ".join([questions, *identifier_parts(questions)])
    return kw_heading, kw_context, kw_questions


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

    def _words(self) -> list[str]:
        """Every indexed word, sorted; read from the index's vocabulary table on first use."""
        if self._vocabulary is None:
            words, counts = self._reader.load_vocabulary()
            self._frequency = dict(zip(words, counts.tolist(), strict=True))
            self._vocabulary = words
        return self._vocabulary

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
        "readF")."""
        text = query
        typed = _TRAILING_WORD_RE.search(query) if prefix_last else None
        if typed:
            text = query[: typed.start()] + " " + " ".join(self.complete(typed.group(0)))
        if corrections is None:
            corrections = self.corrections(query, prefix_last)
        return " ".join([text, *corrections])

    def search(
        self, query: str, limit: int, where: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(ids, BM25 scores, headings), best first."""
        from lance.query import MultiMatchQuery

        if not query.strip() or limit <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), []
        ftq = MultiMatchQuery(
            query,
            ["kw_heading", "kw_context", "kw_questions", "text"],
            boosts=[HEADING_BOOST, CONTEXT_BOOST, QUESTIONS_BOOST, TEXT_BOOST],
        )
        try:
            table = self._dataset.to_table(
                columns=["id", "heading", "title", "_score"],
                full_text_query=ftq,
                limit=limit,
                filter=where,
                prefilter=where is not None,
            )
        except (ValueError, RuntimeError, OSError):
            # A query of nothing but stop words or punctuation has no terms to match.
            return np.zeros(0, np.int64), np.zeros(0, np.float32), []
        headings = [
            h or t
            for h, t in zip(
                table.column("heading").to_pylist(), table.column("title").to_pylist(), strict=True
            )
        ]
        scores = table.column("_score").to_numpy().astype(np.float32)
        return table.column("id").to_numpy(), scores, headings
