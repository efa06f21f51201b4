"""Token budgets for what the MCP server hands an agent: agents pay for every token of context.

Counts are estimates made without a tokenizer: words and punctuation marks, the same measure as
the index pipeline's `count_tokens` (index/chunk.py), which lands close to BPE and WordPiece
counts for prose and code alike. A cut never splits a line when a whole line fits, and never a
word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


@dataclass(frozen=True, slots=True)
class Cut:
    text: str
    truncated: bool
    lines: int  # whole lines of the original kept (a line cut short is not counted)


def cut_tokens(text: str, budget: int) -> Cut:
    """The longest start of `text` within `budget` tokens, ending at a line break when one is
    in reach, else at a word boundary."""
    if budget <= 0:
        return Cut("", bool(text), 0)
    end = None
    for n, match in enumerate(_TOKEN_RE.finditer(text)):
        if n == budget:
            end = match.start()
            break
    if end is None:
        return Cut(text, False, text.count("\n") + 1 if text else 0)
    head = text[:end]
    line_break = head.rfind("\n")
    if line_break > 0:
        head = head[:line_break]
        return Cut(head.rstrip(), True, head.count("\n") + 1)
    return Cut(head.rstrip(), True, 0)  # part of the first line, at a word boundary


def cut_lines(lines: list[str], budget: int) -> int:
    """How many of `lines`, from the first, fit in `budget` tokens (at least one, so that a window
    always moves forward; the caller cuts that one line with `cut_tokens` if it is too long)."""
    used = 0
    for n, line in enumerate(lines):
        used += estimate_tokens(line) + 1  # the line break
        if used > budget:
            return max(n, 1)
    return len(lines)
