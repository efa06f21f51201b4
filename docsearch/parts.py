"""A long section's parts joined back into one text.

The chunker cuts a long section into parts and repeats the tail lines of one part's prose at
the head of the next, so that a sentence cut at the boundary is still found in context. Every
shell that shows a section whole (the terminal's preview, the MCP server's `read_fragment`)
joins the parts here, so each shows the repeated lines once and the same way.
"""

from __future__ import annotations

from collections.abc import Sequence


def join_part_lines(
    texts: Sequence[str], part_lines: Sequence[int], line_ends: Sequence[int]
) -> tuple[list[str], list[tuple[int, int]]]:
    """The lines of one section from its parts' `texts` (in part order), without the lines a
    part repeats from the one before, and per part the (start, end) lines (0-based, end
    exclusive) of the joined text that are its own. `part_lines[n]` is part n's first line in
    the file and `line_ends[n]` its last: the file's lines say whether two parts overlap."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for n, text in enumerate(texts):
        lines = text.split("\n")
        skip = 0
        if n and part_lines[n] <= line_ends[n - 1]:
            skip = _overlap(out, lines)
        elif n and out and lines and out[-1].strip() and lines[0].strip():
            out.append("")  # the blank line between two blocks, stripped from each part's ends
        start = len(out)
        out.extend(lines[skip:])
        spans.append((start, len(out)))
    return out, spans


def join_parts(
    texts: Sequence[str], part_lines: Sequence[int], line_ends: Sequence[int]
) -> tuple[str, list[int]]:
    """The joined section as text, and the line (0-based) where each part's own lines start."""
    lines, spans = join_part_lines(texts, part_lines, line_ends)
    return "\n".join(lines), [start for start, _ in spans]


def _overlap(previous: list[str], lines: list[str]) -> int:
    """The longest run of lines that ends `previous` and starts `lines`, if it holds text (a
    match of blank lines or code fences alone is not a repeat)."""
    for k in range(min(len(previous), len(lines)), 0, -1):
        if previous[-k:] == lines[:k] and any(_is_text(line) for line in lines[:k]):
            return k
    return 0


def _is_text(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("```", "~~~"))
