"""What the TUI hands to other tools: `--print`'s line, the clipboard's path.

Both must open something: an absolute `path:line` (vim, VS Code's `code -g`, most editors and
terminals understand it), or the published URL when the source has a base URL.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from docsearch.errors import InputError
from docsearch.model import Fragment

DEFAULT_FORMAT = "{path}:{line}"
FIELDS = ("path", "line", "anchor", "url", "ref", "source")


def check_format(fmt: str) -> str:
    """`--print-format`, checked before the UI starts: a typo is a one-line error, not a crash."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError as exc:
        raise InputError(f"--print-format: {exc}") from None
    unknown = [n for n in names if n not in FIELDS]
    if unknown or any(not n for n in names):
        raise InputError(
            f"--print-format: unknown field {{{(unknown or [''])[0]}}}; use "
            + " ".join(f"{{{f}}}" for f in FIELDS)
        )
    return fmt


def page_url(source_meta: dict[str, Any], fragment: Fragment) -> str:
    base = source_meta.get("base_url")
    if not base:
        return ""
    page = fragment.path.rsplit(".", 1)[0] + ".html"
    return f"{base.rstrip('/')}/{page}" + (f"#{fragment.anchor}" if fragment.anchor else "")


def absolute_path(source_meta: dict[str, Any], fragment: Fragment) -> str:
    root = source_meta.get("root")
    return str(Path(root) / fragment.path) if root else fragment.path


def fields(source_meta: dict[str, Any], fragment: Fragment) -> dict[str, str]:
    return {
        "path": absolute_path(source_meta, fragment),
        "line": str(fragment.line_start),
        "anchor": fragment.anchor,
        "url": page_url(source_meta, fragment),
        "ref": fragment.ref,
        "source": fragment.source,
    }


def print_line(fmt: str, source_meta: dict[str, Any], fragment: Fragment) -> str:
    return fmt.format(**fields(source_meta, fragment))


def openable(source_meta: dict[str, Any], fragment: Fragment) -> str:
    """For the clipboard: the URL when the source is published, else the absolute path:line."""
    return page_url(source_meta, fragment) or print_line(DEFAULT_FORMAT, source_meta, fragment)
