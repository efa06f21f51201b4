"""Every key of the terminal UI, once: the help screen shows this table and a test checks
that the manual's table (corpus/terminal.md) says the same, key for key."""

from __future__ import annotations

KEYS: list[tuple[str, str]] = [
    ("typing", "search as you type; keys typed in the results or the preview go to the query"),
    ("↑ ↓", "move through the results, from the query too (suggestions sit on top)"),
    ("PgUp PgDn Home End", "move by pages in the results; scroll the preview"),
    ("Tab", "the next pane: query, results, preview"),
    ("Enter", "open the highlighted result in the preview (on a suggestion: use it)"),
    ("Enter again, Ctrl+O", "open the result in $VISUAL or $EDITOR at its line"),
    ("Esc", "back to the query, cursor at the end; again: clear it; on an empty query: quit"),
    ("↑ on an empty query, Ctrl+R", "earlier queries (kept in the cache dir)"),
    ("Ctrl+G", "page mode: the whole page at the fragment; Esc or Ctrl+G returns"),
    ("Ctrl+L", "the links of the preview; Enter follows one inside docsearch"),
    ("Ctrl+B", "open the result's web page (sources indexed with --base-url URL)"),
    ("Ctrl+Y", "copy a path that opens: /abs/path.md:LINE, or the URL"),
    ("Ctrl+F", "filter the results by source (cycles; with more than one source)"),
    ("Ctrl+S", "stream a cited summary of the results (needs an LLM)"),
    ("Ctrl+T", "the status line's per-stage timings, on or off"),
    ("Ctrl+P", "the command palette; themes are there too"),
    ("? or F1", "this help (? types itself in the query)"),
    ("Ctrl+C or Ctrl+Q", "quit"),
]
