"""Links: where a fragment lives, and the markdown links inside it.

Addresses (`fragment_links`, `page_url`, `display_path`): a fragment's file on disk and its
published page when the source has one. Shared by every shell (`ask`, the TUI's `--print`, the
MCP server), so that a fragment has the same address everywhere. A source's `base_url` and
`url_ext` are stored in the index meta when it is indexed (`docsearch index DIR --base-url URL
--url-ext EXT`).

References (`definitions`, `definitions_block`, `inline_references`, `resolve`): a page keeps
its link definitions (`[fs.ReadStream]: #class-fsreadstream`) at its bottom, far from the
sections that use them (`[fs.ReadStream][]`), and the index does not keep them as fragment
text. Rendered alone, a fragment's reference links would show as bracketed text; with its
page's definitions handed along they render as links. markdown-it-py parses the definitions,
so their syntax rules are CommonMark's own.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

# Markdown pages are usually published as HTML: `fs.md` → `fs.html` (the Node.js docs,
# Sphinx, most static site generators). `url_ext = ""` drops the extension (`fs`, for sites
# with clean URLs); `url_ext = ".md"` keeps it (a repository browser).
DEFAULT_URL_EXT = ".html"
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


def source_file(root: str | None, path: str) -> Path | None:
    """The fragment's file: the source's folder joined with the path inside it."""
    if not root:
        return None
    return Path(root) / path


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the current directory when it is inside it, else absolute: what a
    terminal (and an editor's "open file:line") can open from where the command ran."""
    cwd = Path.cwd() if cwd is None else cwd
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def page_url(base_url: str | None, path: str, anchor: str = "", url_ext: str | None = None) -> str | None:
    """The published address of `path#anchor` under `base_url`, or None without a base_url."""
    if not base_url:
        return None
    ext = DEFAULT_URL_EXT if url_ext is None else url_ext
    page = path
    for suffix in MARKDOWN_SUFFIXES:
        if page.endswith(suffix):
            page = page[: -len(suffix)] + ext
            break
    base = base_url if base_url.endswith("/") else base_url + "/"
    url = base + quote(page)
    return f"{url}#{quote(anchor)}" if anchor else url


def fragment_links(
    sources: Mapping[str, Mapping[str, Any]], source: str, path: str, anchor: str
) -> tuple[str | None, str | None]:
    """(absolute file path, URL) of a fragment, from its source's entry in the index meta."""
    info = sources.get(source) or {}
    file = source_file(info.get("root"), path)
    url = page_url(info.get("base_url"), path, anchor, info.get("url_ext"))
    return (str(file) if file else None), url


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
