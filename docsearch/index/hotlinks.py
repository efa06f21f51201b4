"""Index stage (part of chunking): the reserved names a fragment defines, for hot links.

Reference docs announce their API identifiers and config names in code spans: a heading like
`fs.readFile(path[, options], callback)` or "Class: `fs.Dir`", or the first cell of a
settings table (`num-threads-per-search`, `--index PATH`). Typing such a name should jump
straight to the fragment that defines it, as search.vespa.ai's hot links do.
"""

from __future__ import annotations

import re

_CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")
_TABLE_KEY_RE = re.compile(r"^\s*\|\s*`([^`\n|]+)`\s*\|", re.MULTILINE)
_NAME_RE = re.compile(r"^[\w$@][\w$@.:/#\-\[\]]*(?:\(\))?$|^--?[\w][\w\-]*$")


def normalize_name(span: str) -> str | None:
    """`fs.readFile(path[, options])` → `fs.readFile()`; `--index PATH` → `--index`; else None."""
    span = span.strip()
    if not span or span[0] in "'\"<{":
        return None  # event names ('close'), strings, markup: not names one looks up
    name = span.split("(", 1)[0].rstrip() + "()" if "(" in span else span.split()[0]
    name = name.removeprefix("new ").strip()
    if not 2 <= len(name) <= 80 or not _NAME_RE.match(name):
        return None
    return name


def hot_links(heading_markdown: str, body: str) -> tuple[str, ...]:
    """Names defined by a section: code spans in its heading, and code keys of its tables."""
    names: list[str] = []
    for span in _CODE_SPAN_RE.findall(heading_markdown):
        name = normalize_name(span)
        if name and name not in names:
            names.append(name)
    for span in _TABLE_KEY_RE.findall(body):
        name = normalize_name(span)
        if name and name not in names:
            names.append(name)
    return tuple(names)
