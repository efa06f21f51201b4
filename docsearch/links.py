"""Markdown links of a page: reference definitions and relative targets.

A fragment is a slice of a page, and a page keeps its link definitions (`[fs.ReadStream]:
#class-fsreadstream`) at its bottom, far from the sections that use them (`[fs.ReadStream][]`).
Rendered alone, a fragment's reference links would show as bracketed text; with its page's
definitions handed along they render as links. markdown-it-py (which the Markdown widget and
`ask` already use) parses the definitions, so their syntax rules are CommonMark's own.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from urllib.parse import unquote

# A reference link: [text][label], [text][] (collapsed) or [text] (shortcut, when defined).
_REFERENCE_RE = re.compile(r"(?<![\]\\!])\[((?:[^\[\]\\]|\\.)+)\](?:\[((?:[^\[\]\\]|\\.)*)\])?(?![(:])")
_SPACES_RE = re.compile(r"\s+")


def _normalize(label: str) -> str:
    """CommonMark's label matching: case-folded, runs of whitespace as one space."""
    return _SPACES_RE.sub(" ", label.strip()).casefold()


@lru_cache(maxsize=64)
def definitions(page: str) -> dict[str, str]:
    """The page's link reference definitions: normalized label → href."""
    if "]:" not in page:
        return {}
    from markdown_it import MarkdownIt

    env: dict[str, object] = {}
    MarkdownIt("commonmark").parse(page, env)
    found = env.get("references", {})
    assert isinstance(found, dict)
    return {_normalize(label): str(ref.get("href", "")) for label, ref in found.items()}


def definitions_block(page: str, text: str) -> str:
    """The definitions `text` uses, as markdown lines to append to it (markdown-it resolves a
    reference against definitions anywhere in the document; they do not render)."""
    defs = definitions(page)
    if not defs:
        return ""
    used = {_normalize(m.group(2) or m.group(1)) for m in _REFERENCE_RE.finditer(text)}
    # An href with ">" cannot be written in <…>; such a link stays text rather than break.
    lines = [f"[{u}]: <{defs[u]}>" for u in sorted(used) if u in defs and ">" not in defs[u]]
    return "\n".join(lines)


def inline_references(text: str, page: str) -> str:
    """`text` with its reference links written inline (`[fs.ReadStream](#class-fsreadstream)`),
    for output that renders one fragment without its page (`ask`)."""
    defs = definitions(page)
    if not defs:
        return text

    def replace(m: re.Match[str]) -> str:
        href = defs.get(_normalize(m.group(2) or m.group(1)))
        if href is None:
            return m.group(0)
        return f"[{m.group(1)}]({href})"

    return _REFERENCE_RE.sub(replace, text)


def resolve(page_path: str, href: str) -> tuple[str, str] | None:
    """A link in page `page_path` as (path, anchor) within the same source, or None when it
    leaves the source (a URL, mailto:, an absolute path, a `..` above the root)."""
    href = unquote(href.strip())
    if not href or re.match(r"^[a-zA-Z][\w+.-]*:", href) or href.startswith(("/", "//")):
        return None
    target, _, anchor = href.partition("#")
    if not target:
        return page_path, anchor
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_path), target))
    if joined.startswith("../") or joined == "..":
        return None
    if joined.endswith(".html"):  # a site's rendered name for the page's source
        joined = joined[: -len(".html")] + ".md"
    return joined, anchor
