"""Index stage 5a: the searchable fields of a fragment row, written beside its text.

Documentation readers type titles, identifiers and config names as often as concepts, so a
fragment has one field indexed for BM25 and one stored beside it:
    kw_all        page title, heading, generated questions (when there are any) and text
                  together: the retrieval field. One field, as a docs site's own search does,
                  because separate heading and body fields let a short common heading
                  ("Metrics") outscore a body holding the rare word the query names (single-
                  field BM25 beat the boosted multi-field match on both dev corpora,
                  BENCHMARKS.md)
    kw_heading    the section heading (the page title for a page's top), not full-text
                  indexed: the ranker's heading features compare its words with the query's
Both carry identifier parts too: `readFileSync` also as `read file sync`, so both
spellings match. The full-text index removes English stop words and stems.

`deprecated` marks a section that says it is deprecated or legacy near its top (a heading,
a stability note, Node's DEP0… codes), so that the ranker can put the current API first.
"""

from __future__ import annotations

import re

from docsearch.model import Fragment, KeywordFields

# Words inside identifiers: fooBar, FooBar, HTTPServer, foo2Bar.
_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
_DEPRECATED_RE = re.compile(r"\bdeprecat|\blegacy\b|\bDEP0\d{3}\b", re.IGNORECASE)
# How much of the body is read for a deprecation notice: the note comes first, and a later
# mention ("unlike the deprecated X, …") does not make the section itself deprecated.
DEPRECATION_WINDOW = 200


def identifier_parts(text: str) -> list[str]:
    """The camelCase words of identifiers in `text` that the tokenizer would keep whole."""
    parts: list[str] = []
    for ident in _IDENT_RE.findall(text):
        words = _CAMEL_RE.findall(ident)
        if len(words) > 1:
            parts.extend(words)
    return parts


def _with_parts(text: str) -> str:
    return " ".join([text, *identifier_parts(text)])


def keyword_fields(fragment: Fragment) -> KeywordFields:
    heading = fragment.heading or fragment.title
    return KeywordFields(
        kw_all=" ".join(
            [
                _with_parts(f"{fragment.title} - {fragment.heading}"),
                *(_with_parts(q) for q in fragment.questions),
                fragment.text,
            ]
        ),
        kw_heading=_with_parts(heading),
        deprecated=is_deprecated(fragment),
    )


def is_deprecated(fragment: Fragment) -> bool:
    return bool(_DEPRECATED_RE.search(fragment.heading + "\n" + fragment.text[:DEPRECATION_WINDOW]))
