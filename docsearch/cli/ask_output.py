"""`docsearch ask`'s text output: rich on a terminal, plain lines in a pipe.

On a terminal each result is a two-column grid (its number, then everything else), so a long
heading or paragraph wraps under itself, never back to column 0, and a markdown table or
parameter list is rendered by rich with its shape. In a pipe nothing is wrapped or padded:
one line per heading, address and paragraph, and a table or list as its own markdown lines,
so that `grep`, `head` and `cut` see what was written.

Addresses are `path:line` (relative to the current directory when the file is below it, else
absolute), which terminals and editors open, then `#anchor`; the page's URL follows when the
source was indexed with a base_url.
"""

from __future__ import annotations

from pathlib import Path

from docsearch.links import display_path
from docsearch.model import Hit, SearchResult
from docsearch.present import _WORD_RE, best_block, flat, hit_heading, sanitize, sanitize_line

# A table or list longer than this is cut (the whole text is in --json and the file itself).
MAX_BLOCK_LINES = 14


def address(hit: Hit, cwd: Path | None = None) -> str:
    """`path:line #anchor`: the file as a terminal can open it, then the fragment's anchor."""
    f = hit.fragment
    path = display_path(Path(hit.abs_path), cwd) if hit.abs_path else f.path
    where = f"{path}:{f.line_start}"
    return sanitize_line(f"{where} #{f.anchor}" if f.anchor else where)


def footer(result: SearchResult) -> str:
    t = result.timings
    n = len(result.hits)
    cross = f", cross-encoder {t.rescore:.1f}" if t.rescore else ""
    return (
        f"{n} result{'' if n == 1 else 's'} in {t.total:.1f} ms (embed {t.embed:.1f}, keyword "
        f"{t.keyword:.1f}, binary {t.binary:.1f}, rerank {t.rerank:.1f}{cross})"
    )


def _block_lines(block: str, kind: str, query: str) -> list[str]:
    """A table's or list's lines, at most MAX_BLOCK_LINES: a long table keeps its header and
    the rows that share words with the query (the row asked about, not the first few)."""
    lines = [sanitize(line).rstrip().replace("\t", "    ") for line in block.splitlines()]
    if len(lines) <= MAX_BLOCK_LINES:
        return lines
    if kind == "table":
        terms = {w.lower() for w in _WORD_RE.findall(query) if len(w) > 2}
        rows = lines[2:]
        matching = [r for r in rows if terms & {w.lower() for w in _WORD_RE.findall(r)}]
        kept = (matching or rows)[: MAX_BLOCK_LINES - 2]
        return [*lines[:2], *kept, "…"]
    return [*lines[:MAX_BLOCK_LINES], "…"]


def plain_lines(result: SearchResult, cwd: Path | None = None) -> list[str]:
    """The output for a pipe or a file: unwrapped, unpadded lines."""
    out: list[str] = []
    if result.corrections:
        out.append(f"also searched for: {sanitize(' '.join(result.corrections))}")
    if not result.hits:
        return [*out, "No results."]
    for n, hit in enumerate(result.hits, 1):
        out.append(f"{n:>2}. {hit_heading(hit)}  {hit.score:.3f}")
        line = f"    {address(hit, cwd)}  ({sanitize_line(hit.fragment.source)})"
        out.append(line + (f"  {sanitize_line(hit.url)}" if hit.url else ""))
        kind, block = best_block(hit.fragment.text, result.query)
        if kind in ("table", "list", "code", "refs"):
            out.extend(f"    {line}".rstrip() for line in _block_lines(block, kind, result.query))
        else:
            out.append(f"    {flat(block)}")
    out.append(footer(result))
    return out


class _Unpadded:
    """A renderable without the spaces rich pads each line with up to the column's width.

    A grid pads every cell to its column, so a copied result would carry a tail of blanks on
    each line; blanks that paint a background (a code block's) are kept, they are visible.
    """

    def __init__(self, renderable: object) -> None:
        self.renderable = renderable

    def __rich_console__(self, console, options):  # type: ignore[no-untyped-def]
        from rich.segment import Segment

        for line in console.render_lines(self.renderable, options, pad=False):
            while line and not line[-1].text.strip() and not (line[-1].style and line[-1].style.bgcolor):
                line.pop()
            if line and not (line[-1].style and line[-1].style.bgcolor):
                last = line[-1]
                line[-1] = Segment(last.text.rstrip(), last.style, last.control)
            yield from line
            yield Segment.line()


def terminal_renderables(result: SearchResult, color: bool, cwd: Path | None = None) -> list[object]:
    """Rich renderables for a terminal."""
    from rich.markdown import Markdown
    from rich.table import Table
    from rich.text import Text

    out: list[object] = []
    if result.corrections:
        out.append(Text(f"also searched for: {sanitize(' '.join(result.corrections))}", style="dim"))
    if not result.hits:
        out.append(Text("No results.", style="dim"))
        return out
    terms = sorted({w for w in _WORD_RE.findall(result.query) if len(w) > 2}, key=len, reverse=True)
    for n, hit in enumerate(result.hits, 1):
        grid = Table.grid(padding=0)
        grid.add_column(width=4, no_wrap=True)
        grid.add_column(ratio=1)
        head = Text(hit_heading(hit), style="bold")
        head.append(f"  {hit.score:.3f}", style="dim")
        where = Text(address(hit, cwd), style="cyan")
        where.append(f"  ({sanitize_line(hit.fragment.source)})", style="dim")
        if hit.url:
            where.append(f"  {sanitize_line(hit.url)}", style="dim")
        kind, block = best_block(hit.fragment.text, result.query)
        body: object
        if kind == "refs":
            body = Text("\n".join(_block_lines(block, kind, result.query)))
        elif kind in ("table", "list", "code"):
            # Rich draws the table (or the list's hanging indents, the code) to the terminal's width.
            body = Markdown("\n".join(_block_lines(block, kind, result.query)), hyperlinks=False)
        else:
            text = Text(flat(block))
            if color and terms:
                text.highlight_words(terms, style="bold yellow", case_sensitive=False)
            body = text
        grid.add_row(Text(f"{n:>2}. ", style="dim"), head)
        grid.add_row("", where)
        grid.add_row("", body)
        out.append(_Unpadded(grid))
    out.append(Text(footer(result), style="dim"))
    return out
