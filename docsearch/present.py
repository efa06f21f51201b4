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
import logging
import re
import sys
from typing import Any

from docsearch.model import Hit

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
_JSON_UNSAFE_RE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_WORD_RE = re.compile(r"\w+")
# List markers, emphasis, and links inline (`[text](url)`) or by reference (`[text][]`,
# `[text][ref]`): the link text stays.
_LINK_RE = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
# `_` is emphasis only at a word's edge: `follow_symlinks` keeps its underscore.
_MARKUP_RE = re.compile(r"^\s{0,3}(?:[-*+>]|\d+[.)])\s+|[`*]{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)", re.MULTILINE)
_TAG_RE = re.compile(r"<[^>\n]*>")


def plural(count: int, noun: str, nouns: str = "", *, thousands: bool = False) -> str:
    """A count with its noun agreeing: `1 file`, `2 files`, `3 queries` (`nouns`, where the
    plural is not noun + s), `1,234 fragments` (`thousands`)."""
    shown = f"{count:,}" if thousands else str(count)
    return f"{shown} {noun if count == 1 else nouns or noun + 's'}"


def sanitize(text: str) -> str:
    # A lone surrogate (an undecodable byte of a file name or argument) cannot be printed at
    # all: writing it raised UnicodeEncodeError. It becomes U+FFFD.
    return _SURROGATE_RE.sub("\ufffd", _ESCAPE_RE.sub("", text))


def sanitize_line(text: str) -> str:
    """A name for one line of output: sanitized, with its line breaks and tabs shown escaped."""
    return sanitize(_SURROGATE_RE.sub(_byte_escape, text).translate(_LINE_BREAKS))


def _byte_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def json_text(value: Any) -> str:
    """One JSON document, UTF-8 kept readable, with DEL, C1 controls, bidi controls and line
    separators escaped (\\u009b): JSON already escapes C0, but a terminal also acts on these
    when a script prints the output."""
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def _plain(markdown: str) -> str:
    # Links first (their text may hold code spans), then list markers and emphasis.
    return _MARKUP_RE.sub("", _LINK_RE.sub(lambda m: m.group(1), markdown))


_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_LIST_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+")
_LINK_DEF_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s")


def blocks(text: str) -> list[str]:
    """The markdown blocks of `text`: paragraphs, lists and tables split at blank lines, a
    fenced code block kept whole (its blank lines do not split it)."""
    out: list[str] = []
    current: list[str] = []
    fence = ""
    for line in text.splitlines():
        opened = _FENCE_RE.match(line)
        if fence:
            current.append(line)
            if opened and opened.group(1) == fence:
                out.append("\n".join(current))
                current, fence = [], ""
            continue
        if opened:
            if current:
                out.append("\n".join(current))
            current, fence = [line], opened.group(1)
        elif line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def block_kind(block: str) -> str:
    """ "code", "table", "list", "refs" (link definitions), "html" (comments, tags) or "text"."""
    lines = block.splitlines()
    first = lines[0].lstrip()
    if _FENCE_RE.match(lines[0]) or all(line.startswith("    ") for line in lines):
        return "code"
    if first.startswith("<"):
        return "html"
    if all(_LINK_DEF_RE.match(line) for line in lines):
        return "refs"
    if first.startswith("|") and len(lines) > 1:
        return "table"
    if _LIST_RE.match(lines[0]):
        return "list"
    return "text"


def best_block(text: str, query: str) -> tuple[str, str]:
    """(kind, block) of the prose, list or table block of `text` that shares most words with
    the query, the first one on a tie; code, link definitions and HTML only when that is all
    there is (code, then HTML's text, then link definitions)."""
    terms = {w.lower() for w in _WORD_RE.findall(query) if len(w) > 2}
    found = [(block_kind(b), b) for b in blocks(text)]
    readable = [(k, b) for k, b in found if k in ("text", "list", "table")]
    code = [(k, b) for k, b in found if k == "code"]
    html = [(k, _TAG_RE.sub(" ", b)) for k, b in found if k == "html"]  # an HTML table's text
    candidates = readable or code or html or found or [("text", text.strip())]

    def overlap(item: tuple[str, str]) -> int:
        return len(terms & {w.lower() for w in _WORD_RE.findall(item[1])})

    return max(candidates, key=overlap) if terms else candidates[0]


def flat(block: str, width: int = 240) -> str:
    """A block as one line of plain text, cut to `width`."""
    line = " ".join(sanitize(_plain(block)).split())
    return line if len(line) <= width else line[: width - 1].rsplit(" ", 1)[0] + "…"


def snippet(text: str, query: str, width: int = 240) -> str:
    """The block of `text` that shares most words with the query, as one line cut to `width`."""
    return flat(best_block(text, query)[1], width)


def hit_heading(hit: Hit) -> str:
    return sanitize(" › ".join(hit.fragment.breadcrumb))


class _WarningLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"warning: {sanitize_line(record.getMessage())}", file=sys.stderr)
        except Exception:
            self.handleError(record)


def warnings_to_stderr() -> None:
    """The CLI's warnings (the `docsearch` logger: a cache that cannot be written) as one
    `warning: …` line each on stderr; the run goes on."""
    logger = logging.getLogger("docsearch")
    if not any(isinstance(h, _WarningLine) for h in logger.handlers):
        # Propagation stays on: with a handler here, Python's last-resort printer stays quiet,
        # and handlers an embedding program put on the root logger still see the warnings.
        logger.addHandler(_WarningLine(logging.WARNING))
