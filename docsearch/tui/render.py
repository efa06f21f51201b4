"""What the TUI draws from hits: result and suggestion labels, the preview's markdown, whole sections.

Pure functions of fragments and text (no widgets), so the tests can check them directly.
Document text is untrusted: everything here goes through `sanitize` before it is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from docsearch.parts import join_part_lines
from docsearch.present import sanitize, sanitize_line

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from docsearch.model import Fragment, Hit
    from docsearch.search.suggest import Suggestion

SCORE_BAR = " ▁▂▃▄▅▆▇█"


def score_bar(score: float, top: float, width: int = 6) -> str:
    """A bar whose length is the score relative to the best result's."""
    if top <= 0:
        return ""
    eighths = max(0, min(width * 8, round(width * 8 * score / top)))
    full, rest = divmod(eighths, 8)
    return ("█" * full + (SCORE_BAR[rest] if rest else "")).ljust(width, " ")


def middle(text: str, width: int) -> str:
    """`text` cut to `width` in the middle: an anchor's start (the page) and end (the name's
    last words) say the most, `fs.md#fspromises…options-callback`."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1 + 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


@dataclass(frozen=True, slots=True)
class ResultLabel:
    """Two lines per result, fitted to the width the list has when it draws (so a resize
    reflows at once): the heading and breadcrumb cut at the end, the address in the middle."""

    hit: Hit
    top: float

    def lines(self, width: int) -> Text:
        f = self.hit.fragment
        width = max(width, 10)
        first = Text(sanitize(f.heading or f.title), style="bold")
        crumbs = " › ".join(f.breadcrumb[:-1]) if f.heading else ""
        if crumbs:
            first.append(f"  {sanitize(crumbs)}", style="dim")
        first.truncate(width, overflow="ellipsis")
        bar = f"{score_bar(self.hit.score, self.top)} "
        source = f"  {sanitize_line(f.source)}"
        room = width - len(bar)
        ref = sanitize_line(f.ref)
        if len(ref) + len(source) > room:
            source = source if room - len(source) >= 16 else ""
            ref = middle(ref, room - len(source))
        second = Text(bar, style="green")
        second.append(ref, style="cyan")
        second.append(source, style="dim")
        return Text("\n").join([first, second])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.lines(options.max_width)


def result_label(hit: Hit, top: float, width: int = 60) -> Text:
    return ResultLabel(hit, top).lines(width)


def suggestion_label(s: Suggestion, width: int) -> Text:
    label = Text("↳ ", style="dim")
    label.append(sanitize_line(s.text), style="bold" if s.kind == "hotlink" else "")
    label.append(f"  {sanitize_line(s.ref)}", style="dim")
    label.truncate(width, overflow="ellipsis")
    return label


_STOP_WORDS = frozenset(
    {"the", "and", "for", "how", "what", "why", "when", "which", "with", "does"}
    | {"from", "into", "this", "that", "are", "can", "use"}
)
# Spans that must stay byte for byte: inline code, link targets, autolinks and HTML tags.
_PROTECTED_RE = re.compile(r"(`[^`]*`|\]\([^)]*\)|\]\[[^\]]*\]|<[^>\n]+>)")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_DEFINITION_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s")


def highlight_terms(markdown: str, query: str) -> str:
    """Bold the words of `query` in `markdown`, outside code and link targets."""
    words = re.findall(r"\w+", query.lower())
    terms = sorted({w for w in words if len(w) >= 3 and w not in _STOP_WORDS})
    if not terms:
        return markdown
    word_re = re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")\w*", re.IGNORECASE)
    out: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        if in_fence or _FENCE_RE.match(line) or _DEFINITION_RE.match(line):
            out.append(line)
            continue
        parts = _PROTECTED_RE.split(line)
        for i in range(0, len(parts), 2):  # even parts are ordinary text
            parts[i] = word_re.sub(lambda m: f"**{m.group(0)}**", parts[i])
        out.append("".join(parts))
    return "\n".join(out)


def preview_header(f: Fragment, page_mode: bool = False) -> str:
    crumbs = " › ".join(f.breadcrumb)
    where = f"`{sanitize_line(f.ref)}` · line {f.line_start} · {sanitize_line(f.source)}"
    return f"**{sanitize(crumbs)}**  \n{where}\n\n"


def fragment_markdown(hit: Hit, query: str = "", definitions: str = "") -> str:
    """One fragment as the preview shows it (the first part of a split section when alone)."""
    body = highlight_terms(sanitize(hit.fragment.text), query)
    return preview_header(hit.fragment) + body + (f"\n\n{sanitize(definitions)}\n" if definitions else "")


@dataclass(frozen=True, slots=True)
class Section:
    """A whole section, joined from its parts, with where the matched part lies in it."""

    markdown: str  # from the heading to the end of the matched part: what to show first
    match_start: int  # 0-based line of `markdown` where the matched part's own text begins
    match_end: int  # exclusive
    tail: str = ""  # the parts after the matched one, appended once the first piece shows


def section_markdown(hit: Hit, parts: list[Fragment], query: str = "", definitions: str = "") -> Section:
    """The section `hit` belongs to, from its heading: every part once, in order."""
    parts = sorted(parts, key=lambda p: p.part) or [hit.fragment]
    head = preview_header(parts[0])
    base = head.count("\n")
    lines, spans = join_part_lines(
        [sanitize(p.text) for p in parts], [p.line_start for p in parts], [p.line_end for p in parts]
    )
    matched = next((n for n, p in enumerate(parts) if p.part == hit.fragment.part), 0)
    start, end = (base + line for line in spans[matched])
    defs = f"\n\n{sanitize(definitions)}\n" if definitions else ""
    cut = end - base
    first = highlight_terms("\n".join(lines[:cut]), query)
    rest = highlight_terms("\n".join(lines[cut:]), query) if cut < len(lines) else ""
    return Section(head + first + defs, start, end, "\n\n" + rest + defs if rest.strip() else "")
