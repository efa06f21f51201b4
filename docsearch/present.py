"""The last query stage: turning hits into what a terminal shows.

Document text is untrusted. Everything here that reaches a terminal goes through `sanitize`,
which drops control characters and escape sequences (ANSI CSI/OSC, C1 controls) and the
bidirectional overrides (U+202E makes `txt.exe` read `exe.txt`), so a document cannot move
the cursor, retitle the window, write to the clipboard or disguise text. Names shown on one
line (paths, sources, folders) go through `sanitize_line`, which also shows a newline in a
file name as `\n` instead of breaking the line. JSON output goes through `json_text`, which
escapes what `ensure_ascii=False` would let through raw.
"""

from __future__ import annotations

import json
import re
from typing import Any

from docsearch.model import Hit, SearchResult

# ESC-introduced sequences (CSI … final byte, OSC … BEL/ST, and two-byte escapes), then any
# remaining C0/C1 control character except newline and tab.
_ESCAPE_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]?"  # other escapes, or a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
    r"|[\u202a-\u202e\u2066-\u2069\u2028\u2029]"  # bidi embeddings, overrides, isolates; separators
)
# In JSON strings: what json.dumps(ensure_ascii=False) leaves raw but a terminal acts on.
_JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_LINE_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_WORD_RE = re.compile(r"\w+")
# List markers, emphasis, inline links and reference links ([fs.ReadStream][], [text][label]):
# the link text stays, in one line of plain text.
_MARKUP_RE = re.compile(
    r"^\s{0,3}(?:[-*+>]|\d+[.)])\s+|[`*_]{1,3}|!?\[([^\]]*)\]\([^)]*\)|!?\[([^\]]*)\]\[[^\]]*\]", re.MULTILINE
)


def sanitize(text: str) -> str:
    return _ESCAPE_RE.sub("", text)


def sanitize_line(text: str) -> str:
    """A name for one line of output: sanitized, with its line breaks and tabs shown escaped."""
    return sanitize(text.translate(_LINE_BREAKS))


def json_text(value: Any) -> str:
    """One JSON document, UTF-8 kept readable, with DEL, C1 controls, bidi controls and line
    separators escaped (\\u009b): JSON already escapes C0, but a terminal also acts on these
    when a script prints the output."""
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def _plain(markdown: str) -> str:
    return _MARKUP_RE.sub(lambda m: m.group(1) or m.group(2) or "", markdown)


def snippet(text: str, query: str, width: int = 240) -> str:
    """The paragraph of `text` that shares most words with the query, cut to `width`."""
    terms = {w.lower() for w in _WORD_RE.findall(query) if len(w) > 2}
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip() and not p.startswith("```")]
    if not paragraphs:
        paragraphs = [text.strip()]

    def overlap(p: str) -> int:
        return len(terms & {w.lower() for w in _WORD_RE.findall(p)})

    best = max(paragraphs, key=overlap) if terms else paragraphs[0]
    flat = " ".join(sanitize(_plain(best)).split())
    return flat if len(flat) <= width else flat[: width - 1].rsplit(" ", 1)[0] + "…"


def hit_heading(hit: Hit) -> str:
    return sanitize(" › ".join(hit.fragment.breadcrumb))


def render_text(result: SearchResult, color: bool) -> list[object]:
    """Rich renderables for `docsearch ask`'s human output."""
    from rich.padding import Padding
    from rich.text import Text

    out: list[object] = []
    if result.corrections:
        out.append(Text(f"also searched for: {sanitize(' '.join(result.corrections))}", style="dim"))
    if not result.hits:
        out.append(Text("No results.", style="dim"))
        return out
    terms = sorted({w for w in _WORD_RE.findall(result.query) if len(w) > 2}, key=len, reverse=True)
    for n, hit in enumerate(result.hits, 1):
        f = hit.fragment
        head = Text()
        head.append(f"{n:>2}. ", style="dim")
        head.append(hit_heading(hit), style="bold")
        head.append(f"  {hit.score:.3f}", style="dim")
        out.append(head)
        where = Text("    ")
        where.append(sanitize_line(f.ref), style="cyan")
        where.append(f":{f.line_start}", style="dim")
        where.append(f"  ({sanitize_line(f.source)})", style="dim")
        out.append(where)
        body = Text(snippet(f.text, result.query))
        if color and terms:
            body.highlight_words(terms, style="bold yellow", case_sensitive=False)
        out.append(Padding(body, (0, 0, 0, 4)))
    t = result.timings
    cross = f", cross-encoder {t.rescore:.1f}" if t.rescore else ""
    out.append(
        Text(
            f"{len(result.hits)} results in {t.total:.1f} ms (embed {t.embed:.1f}, keyword {t.keyword:.1f}, "
            f"binary {t.binary:.1f}, rerank {t.rerank:.1f}{cross})",
            style="dim",
        )
    )
    return out
