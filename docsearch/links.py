"""Where a fragment lives: its file on disk, and its published page when the source has one.

Shared by every shell (`ask`, the TUI's `--print`, the MCP server), so that a fragment has the
same address everywhere. A source's `base_url` and `url_ext` are stored in the index meta when
it is indexed (`docsearch index DIR --base-url URL --url-ext EXT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
