"""`docsearch` with no arguments: search as you type, in a Textual app.

The app is a thin shell over the same `Searcher` the CLI uses:
- the window paints first; the index, lancedb and the embedding model load in a thread
  worker, and whatever is typed meanwhile is searched as soon as they are ready;
- every keystroke starts an exclusive thread worker (a newer keystroke cancels the older
  one), and results carry a sequence number, so a slow old search never overwrites a newer
  one;
- keyboard first, as fzf and a docs site's search modal: the query keeps the focus while ↑/↓
  move through the results and Enter opens one; keys typed elsewhere go to the query;
- the preview renders the selected fragment's whole section (render.py), the page in windows
  of sections in page mode (page.py); document text is sanitized first;
- after a `docsearch index` run commits, the next search reopens the index (keeping the model),
  so results are never older than the last commit; the old commit stays readable meanwhile,
  because this process holds a lease on it (store/leases.py).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from docsearch.errors import DocsearchError, IndexDamagedError, IndexMissingError
from docsearch.links import definitions_block, resolve
from docsearch.model import MAX_QUERY_CHARS
from docsearch.present import sanitize, sanitize_line
from docsearch.tui import output
from docsearch.tui.history import FILE as HISTORY_FILE
from docsearch.tui.history import History
from docsearch.tui.page import Page, Window
from docsearch.tui.render import (
    ResultLabel,
    fragment_markdown,
    highlight_terms,
    result_label,
    score_bar,
    section_markdown,
)
from docsearch.tui.screens import EmptyIndexScreen, HelpScreen, MessageScreen, PickScreen

if TYPE_CHECKING:
    from collections.abc import Callable

    from docsearch.model import Fragment, Hit, SearchResult, Timings
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester, Suggestion
    from docsearch.settings import Settings

__all__ = [
    "DocsearchApp",
    "EmptyIndexScreen",
    "HelpScreen",
    "MessageScreen",
    "highlight_terms",
    "result_label",
    "score_bar",
]

# Suggestions shown on top of the results (a docs site's "suggestions" group): a few, and
# only those that add a fragment the results do not already lead with.
W = TypeVar("W", bound=Widget)
SUGGESTIONS = 3
PAGES_KEPT = 8  # pages read from disk for link definitions and page mode


def _names(heading: str, query: str) -> bool:
    """Whether `heading` holds every word of `query` (the last one as a prefix)."""
    words = re.findall(r"\w+", query.lower())
    head = heading.lower()
    return bool(words) and all(w in head for w in words)


class PreviewPane(VerticalScroll):
    """The preview's scroller: Enter here (the second Enter) opens the editor."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "app.open_editor", "Edit", show=False)]


class DocsearchApp(App[str | None]):
    CSS_PATH = "docsearch.tcss"
    TITLE = "docsearch"
    # Narrow terminals stack the results over the preview (docsearch.tcss).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (100, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", priority=True),
        Binding("escape", "escape", "Back", show=False),
        Binding("f1", "help", "Help", key_display="?"),
        Binding("ctrl+o", "open_editor", "Edit"),
        Binding("ctrl+g", "expand", "Page"),
        Binding("ctrl+l", "links", "Links"),
        Binding("ctrl+y", "copy_ref", "Copy"),
        Binding("ctrl+b", "open_browser", "Browse"),
        Binding("ctrl+f", "filter_source", "Source"),
        Binding("ctrl+s", "summary", "Summary"),
        Binding("ctrl+r", "history", "History"),
        Binding("ctrl+t", "timings", "Timings", show=False),
    ]

    page_mode: reactive[bool] = reactive(False)
    show_stages: reactive[bool] = reactive(False)

    def __init__(
        self,
        settings: Settings,
        searcher_factory: Callable[[], Searcher] | None = None,
        llm: Any = None,
        print_format: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._factory = searcher_factory
        self.llm = llm
        self.print_format = print_format  # --print: Enter exits with this line
        self.searcher: Searcher | None = None
        self.suggester: Suggester | None = None
        self.result: SearchResult | None = None
        self.suggestions: list[Suggestion] = []
        self.source_filter: str | None = None
        self.history = History(settings.cache_dir / HISTORY_FILE)
        self._recalled: str | None = None  # the query history last put in the box
        self._rows: list[tuple[str, int]] = []  # per results-list option: ("hit"|"suggestion"|"head", n)
        self._seq = 0  # bumped on every query change; only the newest search's results show
        self._status_tail = ""
        self._status_text = ""
        self._typed_at: dict[int, float] = {}  # query sequence number → when it was typed
        self.paint_ms: list[float] = []  # keystroke → results painted, per shown search
        self.preview_ms: list[float] = []  # highlight → preview mounted
        self._timings: Timings | None = None
        self._count = 0
        self.citations: list[Any] = []  # the last summary's valid citations
        self._pause_timer: Any = None  # pending summary-after-a-pause, if configured
        self._reopen_lock = threading.Lock()  # one search worker reopens a changed index
        self._retired: Searcher | None = None  # the previous searcher, closed at the next reopen
        self._reopen_error = ""  # the last reopen failure shown, not repeated per keystroke
        self._pages: OrderedDict[tuple[str, str], Page | None] = OrderedDict()
        self._preview_seq = 0
        self.previewed: Hit | None = None  # the hit the preview shows (a followed link's too)
        self._page: Page | None = None
        self._window: Window | None = None
        self._links: list[str] = []
        self._index_line = ""

    # --- layout --------------------------------------------------------------------------

    def _q(self, selector: str, expect: type[W] = Widget) -> W:  # type: ignore[assignment]
        """A widget of the search screen, whichever screen is on top (help, a list)."""
        return self._main.query_one(selector, expect)

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Search the docs…  (? or F1: keys)",
            id="query",
            max_length=MAX_QUERY_CHARS,
            select_on_focus=False,  # Esc back to the query must not arm it for replacement
        )
        with Horizontal(id="main"):
            yield OptionList(id="results")
            with PreviewPane(id="preview-pane"):
                yield Markdown("", id="preview")
        with VerticalScroll(id="summary"):
            yield Markdown("", id="summary-text")
            yield OptionList(id="citations")
        yield Static("loading the index and the model…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._main = self.screen
        self._q("#query", Input).focus()
        self._q("#results", OptionList).border_title = "results"
        self.watch(self._q("#preview-pane"), "scroll_y", self._preview_scrolled, init=False)
        self._load()

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # docsearch's own "Keys" below lists every key
                yield command
        ours = [
            ("Summary", "Stream a cited summary of the results", "summary"),
            ("Copy path", "Copy the result's path:line (or URL)", "copy_ref"),
            ("Open in editor", "Open the result in $EDITOR at its line", "open_editor"),
            ("Page mode", "The whole page around the result", "expand"),
            ("Links", "Follow a link of the preview", "links"),
            ("Filter by source", "Cycle the source filter", "filter_source"),
            ("History", "Earlier queries", "history"),
            ("Stage timings", "Per-stage timings on the status line", "timings"),
        ]
        for title, help_text, action in ours:
            if self.check_action(action, ()):
                yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))
        yield SystemCommand("Keys", "List every key", self.action_help)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do nothing now are not offered: the footer shows only what works."""
        if isinstance(self.screen, MessageScreen) or not hasattr(self, "_main"):
            return action in ("quit", "help")
        hit = self.selected
        if action in ("open_editor", "expand", "links"):
            return hit is not None and self._source_meta(hit).get("root") is not None
        if action == "copy_ref":
            return hit is not None
        if action == "open_browser":
            return hit is not None and bool(self._source_meta(hit).get("base_url"))
        if action == "summary":
            return self.llm is not None and self.result is not None and bool(self.result.hits)
        if action == "filter_source":
            return self.searcher is not None and len(self.searcher.reader.meta.sources) > 1
        if action == "history":
            return bool(self.history.entries)
        return True

    # --- loading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            searcher, suggester = self._open()
        except IndexMissingError as exc:
            self.call_from_thread(self._no_index, exc)
            return
        except DocsearchError as exc:
            self.call_from_thread(self.notify, sanitize(exc.message), severity="error", timeout=30)
            self.call_from_thread(self._set_status, f"cannot search: {sanitize(exc.message)}")
            return
        self.call_from_thread(self._loaded, searcher, suggester)

    def _open(self, embedder: Any = None) -> tuple[Searcher, Suggester]:
        """A searcher and suggester over the index as committed now, warmed up."""
        from docsearch.search.searcher import Searcher
        from docsearch.search.suggest import Suggester

        if self._factory is not None:
            searcher = self._factory()
        else:
            searcher = Searcher(self.settings, embedder=embedder)  # the loaded model, when reopening
        suggester = Suggester(searcher.reader)
        # Every keystroke reranks: hold the float vectors in memory when they fit.
        searcher.rerank.preload(self.settings.float_memory_mb * 1_000_000)
        # Warm up while the user reads the screen: the first real keystroke then pays no
        # one-time costs (ONNX session start, the prefix vocabulary, the first FTS query,
        # the map of split sections the preview joins).
        result = searcher.search("docsearch", top_k=1, prefix_last=True)
        if result.hits:
            searcher.section_parts(result.hits[0].fragment)
        return searcher, suggester

    def _current(self) -> tuple[Searcher, Suggester]:
        """The searcher to use now (in a worker thread): the open one, or, once `docsearch
        index` has committed since it was opened, a new one over the new commit."""
        searcher, suggester = self.searcher, self.suggester
        assert searcher is not None and suggester is not None
        if not searcher.changed():
            return searcher, suggester
        with self._reopen_lock:
            if self.searcher is not searcher:  # another worker reopened meanwhile
                assert self.searcher is not None and self.suggester is not None
                return self.searcher, self.suggester
            try:
                fresh, fresh_suggester = self._open(embedder=searcher.embedder)
            except DocsearchError as exc:
                # The new commit cannot be opened (being rebuilt, damaged): keep searching the
                # one this process holds, and say so once.
                if exc.message != self._reopen_error:
                    self._reopen_error = exc.message
                    message = f"the index changed but cannot be reopened: {sanitize(exc.message)}"
                    self.call_from_thread(self.notify, message, severity="warning", timeout=15)
                return searcher, suggester
            self._reopen_error = ""
            self.searcher, self.suggester = fresh, fresh_suggester
            # A cancelled worker may still be reading the previous searcher: it is closed (its
            # lease given back) only at the next reopen.
            retired, self._retired = self._retired, searcher
        if retired is not None:
            retired.close()
        self.call_from_thread(self._reopened, fresh)
        return fresh, fresh_suggester

    def _describe_index(self, searcher: Searcher) -> None:
        meta = searcher.reader.meta
        size = searcher.reader.size_on_disk() / 1e6
        self._status_tail = f"{meta.count:,} fragments · {size:.1f} MB"
        self._index_line = (
            f"{sanitize_line(str(self.settings.index))} · {meta.count:,} fragments from "
            f"{len(meta.sources)} source{'s' if len(meta.sources) != 1 else ''} "
            f"({', '.join(sanitize_line(s) for s in sorted(meta.sources))}) · {size:.1f} MB · "
            f"{sanitize_line(meta.document_model.name)}"
        )

    def _reopened(self, searcher: Searcher) -> None:
        self._describe_index(searcher)
        self._pages.clear()
        self.notify(f"the index was updated: {searcher.reader.meta.count:,} fragments")

    def _no_index(self, exc: IndexMissingError) -> None:
        if isinstance(exc, IndexDamagedError):
            title, what = "The index is damaged", "Repair it: `docsearch index` sets it aside and rebuilds it"
        else:
            title, what = "No index to search yet", "Build one from a folder of markdown"
        body = (
            f"{sanitize(exc.message)}\n\n{what}, then start docsearch again:\n\n"
            "    docsearch index ./docs\n    docsearch\n\nPress q or Esc to quit."
        )
        self.push_screen(EmptyIndexScreen(title, body))

    def _loaded(self, searcher: Searcher, suggester: Suggester) -> None:
        self.searcher = searcher
        self.suggester = suggester
        self._describe_index(searcher)
        self._set_status("ready")
        query = self._q("#query", Input).value
        if query.strip():
            self._start_search(query)  # what was typed while loading
        else:
            self._start_screen()
        self.refresh_bindings()

    def _start_screen(self) -> None:
        """The empty query's screen teaches: which index, what to type, which keys."""
        from docsearch.tui.keys import KEYS

        examples = self._examples()
        lines = ["## Search the docs", "", f"*{self._index_line}*", ""]
        if examples:
            lines += ["Try one of these (headings and names from this index):", ""]
            lines += [f"- `{sanitize_line(e)}`" for e in examples]
            lines.append("")
        lines += ["| key | |", "|---|---|"]
        for key, what in KEYS[:9]:
            lines.append(f"| {key} | {what} |")
        lines += ["", "`?` lists every key."]
        self._q("#preview", Markdown).update("\n".join(lines))
        self._q("#results", OptionList).clear_options()
        self._rows = []
        self.previewed = None
        pane = self._q("#preview-pane")
        pane.border_title, pane.border_subtitle = "docsearch", ""
        self._q("#main").add_class("-start")  # the whole width for the start screen

    def _examples(self, count: int = 4) -> list[str]:
        """A few queries from the index itself: reserved names it defines and its headings,
        spread over the index (every n-th), so they look like what a user would ask."""
        if self.suggester is None or self.searcher is None:
            return []
        try:
            names = self.suggester.examples(count)
        except (DocsearchError, AttributeError):
            names = []
        return names[:count]

    def _set_status(self, text: str) -> None:
        self._status_text = text
        source = f" · source: {sanitize(self.source_filter)}" if self.source_filter else ""
        tail = f"  │  {self._status_tail}{source}" if self._status_tail else ""
        self._q("#status", Static).update(text + tail)

    # --- searching -----------------------------------------------------------------------

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
        if event.value != self._recalled:
            self.history.reset()  # typing ends a walk through the history
            self._recalled = None
        self._start_search(event.value)

    def _start_search(self, query: str) -> None:
        if self._pause_timer is not None:
            self._pause_timer.stop()  # still typing: no summary yet
            self._pause_timer = None
        self._seq += 1
        self._typed_at[self._seq] = time.perf_counter()
        if self.searcher is None:
            return  # _loaded() searches for what is typed by then
        if not query.strip():
            self._show(self._seq, None, [])
            return
        self._search(query, self._seq, self.source_filter)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: str, seq: int, source: str | None) -> None:
        try:
            searcher, suggester = self._current()
            # Unless the query ends in a space, its last word is still being typed.
            result = searcher.search(
                query, top_k=self.settings.top_k, source=source, prefix_last=not query.endswith(" ")
            )
            suggestions = suggester.suggest(query, limit=6)
        except DocsearchError as exc:
            self.call_from_thread(self.notify, sanitize(exc.message), severity="error")
            return
        if get_current_worker().is_cancelled:
            return
        self.call_from_thread(self._show, seq, result, suggestions)

    def _show(self, seq: int, result: SearchResult | None, suggestions: list[Suggestion]) -> None:
        if seq != self._seq:
            return  # a newer keystroke is on its way: never paint stale results
        self.page_mode = False
        self.result = result
        if result is None:
            self.suggestions = []
            self._set_status("ready")
            self._start_screen()
            self.refresh_bindings()
            return
        hits = result.hits
        self._q("#main").remove_class("-start")
        leading = {h.fragment.ref for h in hits[:3]}
        query = result.query.lower()
        self.suggestions = [s for s in suggestions if s.text.lower() != query and s.ref not in leading][
            :SUGGESTIONS
        ]
        results = self._q("#results", OptionList)
        options: list[Option] = []
        rows: list[tuple[str, int]] = []
        if self.suggestions:
            options.append(Option(Text("suggestions", style="dim italic"), disabled=True))
            rows.append(("head", 0))
            for n, s in enumerate(self.suggestions):
                label = Text("↳ ", style="dim")
                label.append(sanitize_line(s.text), style="bold" if s.kind == "hotlink" else "")
                label.append(f"  {sanitize_line(s.ref)}", style="dim")
                label.truncate(max(results.content_size.width, 20), overflow="ellipsis")
                options.append(Option(label))
                rows.append(("suggestion", n))
        top = hits[0].score if hits else 0.0
        for n, h in enumerate(hits):
            options.append(Option(ResultLabel(h, top)))
            rows.append(("hit", n))
        self._rows = rows
        with self.batch_update():
            results.clear_options()
            results.add_options(options)
            if hits:
                results.highlighted = len(rows) - len(hits)
        if hits:
            self._preview(hits[0])
        else:
            self._q("#preview", Markdown).update("*No results.*")
            self.previewed = None
        self._timings = result.timings
        self._count = len(hits)
        self.refresh_bindings()
        self.call_after_refresh(self._painted, seq, len(hits))

    def _painted(self, seq: int, count: int) -> None:
        """After the results reached the screen: measure keystroke → paint, show the timings."""
        typed = self._typed_at.pop(seq, None)
        for old in [s for s in self._typed_at if s < seq]:
            del self._typed_at[old]  # superseded keystrokes
        if typed is not None:
            self.paint_ms.append((time.perf_counter() - typed) * 1000)
        if self.llm is not None and self.settings.summary_pause > 0 and count:
            # Summaries cost tokens: only once the user has stopped typing for a while.
            self._pause_timer = self.set_timer(self.settings.summary_pause, lambda: self._auto_summary(seq))
        self._status_from_timings()

    def _status_from_timings(self) -> None:
        t = self._timings
        if t is None:
            return
        text = f"{self._count} results · {t.total:.0f} ms"
        if self.show_stages:
            paint = f" · on screen {self.paint_ms[-1]:.0f}" if self.paint_ms else ""
            text += (
                f"  (embed {t.embed:.0f} · keyword {t.keyword:.0f} · binary {t.binary:.1f} "
                f"· rerank {t.rerank:.0f} · fuse {t.fuse:.0f}{paint} ms)"
            )
        self._set_status(text)

    def watch_show_stages(self, value: bool) -> None:
        self._status_from_timings()

    # --- the preview ---------------------------------------------------------------------

    def _source_meta(self, hit: Hit) -> dict[str, Any]:
        if self.searcher is None:
            return {}
        found = self.searcher.reader.meta.sources.get(hit.fragment.source, {})
        return found if isinstance(found, dict) else {}

    def _page_of(self, fragment: Fragment) -> Page | None:
        """The fragment's page as it is on disk, cached; None when it cannot be read."""
        key = (fragment.source, fragment.path)
        if key in self._pages:
            self._pages.move_to_end(key)
            return self._pages[key]
        root = self._source_root_of(fragment.source)
        page = None
        if root is not None:
            try:
                text = (root / fragment.path).read_text(encoding="utf-8", errors="replace")
                page = Page(fragment.path, text)
            except OSError:
                page = None
        self._pages[key] = page
        while len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)
        return page

    def _source_root_of(self, source: str) -> Path | None:
        if self.searcher is None:
            return None
        root = self.searcher.reader.meta.sources.get(source, {}).get("root")
        return Path(root) if root else None

    def _preview(self, hit: Hit) -> None:
        """The hit's whole section, from its heading, with the matched part in view."""
        self.page_mode = False
        self.previewed = hit
        query = self.result.query if self.result else ""
        parts = self.searcher.section_parts(hit.fragment) if self.searcher is not None else [hit.fragment]
        page = self._page_of(hit.fragment)
        joined_text = "\n".join(p.text for p in parts)
        defs = definitions_block(page.text, joined_text) if page is not None else ""
        preview = self._q("#preview", Markdown)
        pane = self._q("#preview-pane", VerticalScroll)
        pane.border_title = sanitize_line(hit.fragment.ref)
        pane.border_subtitle = f"part {hit.fragment.part + 1} of {len(parts)}" if len(parts) > 1 else ""
        if len(parts) > 1:
            section = section_markdown(hit, parts, query, defs)
            markdown, match = section.markdown, (section.match_start, section.match_end)
            # A heading that names what was typed (`fs.readFile`) is the match: the signature
            # and parameters come first, so the section shows from the top, its part marked.
            scroll = hit.fragment.part > 0 and not _names(hit.fragment.heading, query)
        else:
            markdown, match, scroll = fragment_markdown(hit, query, defs), None, False
        self._links = []
        self._preview_seq += 1
        started = time.perf_counter()
        done = preview.update(markdown)
        pane.scroll_home(animate=False)
        self.run_worker(self._after_preview(done, self._preview_seq, match, scroll, started), group="preview")

    async def _after_preview(
        self, done: Any, seq: int, match: tuple[int, int] | None, scroll: bool, started: float
    ) -> None:
        """Once the blocks are mounted: mark the matched part and scroll it into view."""
        await done
        if seq != self._preview_seq:
            return
        self.preview_ms.append((time.perf_counter() - started) * 1000)
        if match is None:
            return
        preview = self._q("#preview", Markdown)
        first = None
        for block in preview.children:
            start, end = getattr(block, "source_range", (0, 0))
            inside = start < match[1] and end > match[0]
            block.set_class(inside, "-match")
            if inside and first is None:
                first = block
        if first is not None and scroll:
            self.call_after_refresh(self._q("#preview-pane").scroll_to_widget, first, top=True, animate=False)

    @property
    def selected(self) -> Hit | None:
        """The highlighted result (None on a suggestion)."""
        if self.result is None or not self.result.hits:
            return None
        index = self._q("#results", OptionList).highlighted
        if index is None or index >= len(self._rows):
            return None
        kind, n = self._rows[index]
        return self.result.hits[n] if kind == "hit" and n < len(self.result.hits) else None

    @property
    def _target(self) -> Hit | None:
        """What the actions act on: the previewed fragment (a followed link), else the highlight."""
        return self.previewed or self.selected

    @on(OptionList.OptionHighlighted, "#results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        hit = self.selected
        if hit is not None and hit is not self.previewed:
            self._preview(hit)
        self.refresh_bindings()

    @on(OptionList.OptionSelected, "#results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open_row(event.option_index)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        index = self._q("#results", OptionList).highlighted
        if index is not None:
            self._open_row(index)

    def _open_row(self, index: int) -> None:
        """Enter on a row: a suggestion is used, a result opens in the preview (with --print,
        the app exits with it)."""
        if index >= len(self._rows):
            return
        kind, n = self._rows[index]
        if kind == "suggestion":
            self._use_suggestion(self.suggestions[n])
            return
        hit = self.selected
        if hit is None:
            return
        self.history.add(self._q("#query", Input).value)
        if self.print_format is not None:
            self.exit(output.print_line(self.print_format, self._source_meta(hit), hit.fragment))
            return
        if hit is not self.previewed:
            self._preview(hit)
        self._q("#preview-pane").focus()

    def _use_suggestion(self, s: Suggestion) -> None:
        if s.kind == "hotlink" and self.searcher is not None:
            # A hot link goes straight to the fragment that defines the name.
            self._jump_to(s)
            return
        query = self._q("#query", Input)
        query.value = s.text
        query.cursor_position = len(s.text)
        query.focus()

    @work(thread=True, exclusive=True, group="search")
    def _jump_to(self, s: Suggestion) -> None:
        try:
            searcher, _ = self._current()
            result = searcher.search(s.text, top_k=self.settings.top_k)
        except DocsearchError as exc:
            self.call_from_thread(self.notify, sanitize(exc.message), severity="error")
            return
        hits = sorted(result.hits, key=lambda h: h.fragment.ref != s.ref)  # the target first
        result.hits = hits
        self.call_from_thread(self._jumped, result)

    def _jumped(self, result: SearchResult) -> None:
        self._seq += 1
        self._show(self._seq, result, [])
        self._q("#results", OptionList).focus()

    # --- keys ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        if self.screen is not self._main:
            return  # the help, a list: their own keys
        query = self._q("#query", Input)
        results = self._q("#results", OptionList)
        pane = self._q("#preview-pane", VerticalScroll)
        if query.has_focus and event.key in ("up", "down"):
            event.prevent_default()
            event.stop()
            if event.key == "up" and (not query.value or self.history.walking):
                self._recall(self.history.older())
            elif event.key == "down" and self.history.walking:
                self._recall(self.history.newer())
            elif event.key == "up":
                results.action_cursor_up()
            else:
                results.action_cursor_down()
            return
        if self.page_mode and pane.has_focus and event.key in ("up", "pageup", "home") and pane.scroll_y <= 0:
            self._page_back()
            return
        if event.key == "question_mark" and not query.has_focus:
            event.stop()
            event.prevent_default()  # or the help screen's own "?" would close it at once
            self.call_later(self.action_help)
            return
        if (results.has_focus or pane.has_focus) and event.is_printable and event.character:
            # fzf, a docs site's modal: typing anywhere types the query.
            event.stop()
            event.prevent_default()
            query.focus()
            query.cursor_position = len(query.value)
            query.insert_text_at_cursor(event.character)

    def _recall(self, text: str | None) -> None:
        if text is None:
            return
        query = self._q("#query", Input)
        self._recalled = text
        query.value = text
        query.cursor_position = len(text)

    def action_escape(self) -> None:
        query = self._q("#query", Input)
        if self.page_mode:
            self.action_expand()
            return
        if not query.has_focus:
            query.focus()
            query.cursor_position = len(query.value)
        elif query.value:
            query.value = ""
        else:
            self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_timings(self) -> None:
        self.show_stages = not self.show_stages

    def action_history(self) -> None:
        entries = list(reversed(self.history.entries))
        if not entries:
            self.notify("no earlier queries yet")
            return

        def chosen(n: int | None) -> None:
            if n is not None:
                self._recall(entries[n])
                self._q("#query", Input).focus()

        self.push_screen(PickScreen("earlier queries", entries), chosen)

    # --- page mode -----------------------------------------------------------------------

    def action_expand(self) -> None:
        """Page mode on (at the fragment) or off (back to the section)."""
        if self.page_mode:
            self.page_mode = False
            hit = self.previewed or self.selected
            if hit is not None:
                self._preview(hit)
            return
        hit = self._target
        if hit is None:
            return
        page = self._page_of(hit.fragment)
        if page is None:
            self.notify(f"cannot read {sanitize_line(hit.fragment.path)} from its folder", severity="error")
            return
        self._page = page
        window = page.around(hit.fragment.line_start)
        self.page_mode = True
        self._show_window(window, window.target_line)

    def _show_window(self, window: Window, scroll_to_line: int) -> None:
        self._window = window
        assert self._page is not None
        pane = self._q("#preview-pane", VerticalScroll)
        pane.border_title = f"page mode · {sanitize_line(self._page.path)} · Esc or Ctrl+G returns"
        pane.border_subtitle = self._page.describe(window)
        self._preview_seq += 1
        done = self._q("#preview", Markdown).update(window.markdown)
        self.run_worker(self._scroll_to_line(done, self._preview_seq, scroll_to_line), group="preview")

    async def _scroll_to_line(self, done: Any, seq: int, line: int) -> None:
        await done
        if seq != self._preview_seq:
            return
        pane = self._q("#preview-pane", VerticalScroll)
        for block in self._q("#preview", Markdown).children:
            if getattr(block, "source_range", (0, 0))[0] >= line:
                self.call_after_refresh(pane.scroll_to_widget, block, top=True, animate=False)
                return
        pane.scroll_home(animate=False)

    def _preview_scrolled(self, scroll_y: float) -> None:
        """Page mode: the reader reached the window's bottom, so mount the next sections."""
        window, page = self._window, self._page
        if not self.page_mode or window is None or page is None or window.last + 1 >= len(page):
            return
        pane = self._q("#preview-pane", VerticalScroll)
        if scroll_y < pane.max_scroll_y - pane.size.height:
            return
        nxt = page.window(window.last + 1, page.extend(window.last + 1))
        self._window = Window(window.first, nxt.last, window.markdown, window.target_line)
        pane.border_subtitle = page.describe(self._window)
        self._q("#preview", Markdown).append("\n\n" + nxt.markdown)

    def _page_back(self) -> None:
        """Page mode: the reader is at the window's top; move it back to earlier sections."""
        window, page = self._window, self._page
        if window is None or page is None or window.first == 0:
            return
        first = page.back(window.first)
        last = min(window.last, page.extend(first, 3 * 240))
        moved = page.window(first, last, window.first)
        self._show_window(moved, moved.target_line)

    def watch_page_mode(self, on: bool) -> None:
        self._q("#preview-pane").set_class(on, "-page")
        if not on:
            self._window = None
        self.refresh_bindings()

    # --- links ---------------------------------------------------------------------------

    @on(Markdown.LinkClicked, "#preview")
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.prevent_default()  # Textual would open it in a browser
        self._follow(event.href)

    def _preview_links(self) -> list[str]:
        from markdown_it import MarkdownIt

        source = self._q("#preview", Markdown).source
        env: dict[str, Any] = {}
        hrefs: list[str] = []
        for token in MarkdownIt("commonmark").parse(source, env):
            for child in token.children or []:
                if child.type == "link_open":
                    href = str(child.attrGet("href") or "")
                    if href and href not in hrefs:
                        hrefs.append(href)
        return hrefs

    def action_links(self) -> None:
        hrefs = self._preview_links()
        if not hrefs:
            self.notify("no links in the preview")
            return

        def chosen(n: int | None) -> None:
            if n is not None:
                self._follow(hrefs[n])

        self.push_screen(PickScreen("links: Enter follows", hrefs), chosen)

    def _follow(self, href: str) -> None:
        """A link of the previewed page: inside the source, preview its target; else a browser."""
        hit = self._target
        if hit is None or self.searcher is None:
            return
        target = resolve(hit.fragment.path, href)
        if target is None:
            self.open_url(href)
            return
        found = self.searcher.fragment_at(hit.fragment.source, *target)
        if found is None:
            self.notify(f"{sanitize_line(href)} is not in the index", severity="warning")
            return
        from docsearch.model import Hit as HitType

        self._preview(HitType(fragment=found, score=0.0, keyword=None, binary=None, float=0.0))
        self._q("#preview-pane").focus()

    # --- actions -------------------------------------------------------------------------

    def _url(self, hit: Hit) -> str | None:
        return output.page_url(self._source_meta(hit), hit.fragment) or None

    def action_open_editor(self) -> None:
        hit = self._target
        root = self._source_root_of(hit.fragment.source) if hit else None
        if hit is None or root is None:
            return
        if self.print_format is not None:
            self.exit(output.print_line(self.print_format, self._source_meta(hit), hit.fragment))
            return
        self.history.add(self._q("#query", Input).value)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        command = [*shlex.split(editor), f"+{hit.fragment.line_start}", str(root / hit.fragment.path)]
        try:
            with self.suspend():
                subprocess.run(command, check=False)
        except (OSError, Exception) as exc:  # no terminal to suspend to, or no such editor
            self.notify(f"cannot run {sanitize(editor)}: {exc}", severity="error")

    def action_open_browser(self) -> None:
        hit = self._target
        url = self._url(hit) if hit else None
        if url is None:
            self.notify("no URL: index the source with --base-url URL", severity="warning")
            return
        self.open_url(url)

    def action_copy_ref(self) -> None:
        hit = self._target
        if hit is None:
            return
        text = output.openable(self._source_meta(hit), hit.fragment)
        self.history.add(self._q("#query", Input).value)
        self.copy_to_clipboard(text)  # OSC 52: works over SSH in terminals that allow it
        self.notify(f"copied {sanitize_line(text)}")

    def action_filter_source(self) -> None:
        if self.searcher is None:
            return
        sources = sorted(self.searcher.reader.meta.sources)
        cycle = [None, *sources]
        self.source_filter = cycle[(cycle.index(self.source_filter) + 1) % len(cycle)]
        self.notify(f"source: {self.source_filter or 'all'}")
        self._start_search(self._q("#query", Input).value)

    def _auto_summary(self, seq: int) -> None:
        self._pause_timer = None
        if seq == self._seq and not self._q("#summary").has_class("visible"):
            self.action_summary()

    def action_summary(self) -> None:
        panel = self._q("#summary", VerticalScroll)
        if panel.has_class("visible"):
            panel.remove_class("visible")
            return
        if self.llm is None:
            self.notify(
                "set DOCSEARCH_LLM (e.g. openai:MODEL with DOCSEARCH_LLM_BASE_URL) to get summaries",
                severity="warning",
            )
            return
        if self.result is None or not self.result.hits:
            return
        panel.add_class("visible")
        self._summarize(self.result)

    @work(exclusive=True, group="summary")
    async def _summarize(self, result: SearchResult) -> None:
        from docsearch.llm.summary import Summary, stream_summary

        view = self._q("#summary-text", Markdown)
        hits = result.hits[: self.settings.summary_fragments]
        summary = Summary(text="", citations=[], model=self.llm.spec.model)
        text = ""
        await view.update(f"*Summary of “{sanitize(result.query)}” ({sanitize(self.llm.name)})…*")
        try:
            async for chunk in stream_summary(self.llm, result.query, hits, summary):
                text += sanitize(chunk)
                await view.update(text)
        except DocsearchError as exc:
            self.notify(sanitize(exc.message), severity="error")
            return
        await view.update(text)
        # The citations once each, as a list one can select: Enter jumps to the cited result.
        seen: set[int] = set()
        self.citations = []
        flagged = 0
        for c in summary.citations:
            if not c.valid:
                flagged += 1
            elif c.n not in seen:
                seen.add(c.n)
                self.citations.append(c)
        box = self._q("#citations", OptionList)
        box.clear_options()
        for c in self.citations:
            box.add_option(Option(Text(f"[{c.n}] {sanitize_line(f'{c.path}#{c.anchor}')}", style="cyan")))
        if flagged:
            box.add_option(
                Option(Text(f"{flagged} citation(s) not among the results", style="red"), disabled=True)
            )

    @on(OptionList.OptionSelected, "#citations")
    def _citation_chosen(self, event: OptionList.OptionSelected) -> None:
        cited = self.citations[event.option_index]
        results = self._q("#results", OptionList)
        if self.result is not None and cited.n <= len(self.result.hits):
            row = self._rows.index(("hit", cited.n - 1))
            results.highlighted = row
            results.focus()
