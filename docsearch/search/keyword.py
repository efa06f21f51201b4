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
_WORD_RE = re.compile(r"[a-z0-9_]{2,}")

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
        self._dataset = reader.fragments
        self._vocabulary: list[str] | None = None  # sorted words, for prefix completion
        self._frequency: dict[str, int] = {}

    def _words(self) -> list[str]:
        """Every word of the indexed text, sorted, built on first use (search as you type)."""
        if self._vocabulary is None:
            counts: dict[str, int] = {}
            table = self._dataset.to_table(columns=["kw_heading", "kw_context", "kw_questions", "text"])
            for column in table.columns:
                for value in column.to_pylist():
                    for word in _WORD_RE.findall((value or "").lower()):
                        counts[word] = counts.get(word, 0) + 1
            self._frequency = counts
            self._vocabulary = sorted(counts)
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
