"""`docsearch` with no arguments: search as you type, in a Textual app.

The app is a thin shell over the same `Searcher` the CLI uses:
- the window paints first; the index, lancedb and the embedding model load in a thread
  worker, and whatever is typed meanwhile is searched as soon as they are ready;
- every keystroke starts an exclusive thread worker (a newer keystroke cancels the older
  one), and results carry a sequence number, so a slow old search never overwrites a newer
  one (searching.py);
- keyboard first, as fzf and a docs site's search modal: the query keeps the focus while ↑/↓
  move through the results and Enter opens one; keys typed elsewhere go to the query;
- the preview renders the selected fragment's whole section (render.py), the page in windows
  of sections in page mode (page.py); document text is sanitized first;
- after a `docsearch index` run commits, the next search reopens the index (keeping the model),
  so results are never older than the last commit; the old commit stays readable meanwhile,
  because this process holds a lease on it (store/leases.py).

This module holds the layout, the bindings and every `@on` message handler: Textual collects
those from the body of a message pump's own class (its metaclass), so on a plain mixin they
would never be called. The handlers are thin; what they start lives in the mixins:
loading.py (the index), searching.py (search workers, the results list), preview.py,
actions.py (what the keys do).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Input, Markdown, OptionList, Static

from docsearch.model import MAX_QUERY_CHARS
from docsearch.present import sanitize
from docsearch.tui import output
from docsearch.tui.actions import ActionsMixin
from docsearch.tui.history import FILE as HISTORY_FILE
from docsearch.tui.history import History
from docsearch.tui.loading import LoadingMixin
from docsearch.tui.page import Page, Window
from docsearch.tui.preview import PreviewMixin
from docsearch.tui.render import (
    highlight_terms,
    result_label,
    score_bar,
)
from docsearch.tui.screens import EmptyIndexScreen, HelpScreen, MessageScreen
from docsearch.tui.searching import SearchMixin

if TYPE_CHECKING:
    from collections.abc import Callable

    from docsearch.model import Hit, SearchResult, Timings
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

W = TypeVar("W", bound=Widget)


class ResultList(OptionList):
    """The results: labels are cut to the list's width, so a new width relabels them."""

    def on_resize(self, event: events.Resize) -> None:
        relabel = getattr(self.app, "relabel", None)
        if relabel is not None:
            self.call_after_refresh(relabel)


class PreviewPane(VerticalScroll):
    """The preview's scroller: Enter here (the second Enter) opens the editor."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "app.open_editor", "Edit", show=False)]


class DocsearchApp(LoadingMixin, SearchMixin, PreviewMixin, ActionsMixin, App[str | None]):
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
        self.warm = self._warm_searcher(searcher_factory)  # loaded by _load, on a worker
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
        self._rescore_timer: Any = None  # pending cross-encoder pass, with `rerank` on
        self._rescore_off = False  # the cross-encoder failed to load: not tried again
        self._rescored_seq = 0
        self.rescored = False
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
            yield ResultList(id="results")
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
        self._refresh_keys()

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

    @on(Markdown.LinkClicked, "#preview")
    def _link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.prevent_default()  # Textual would open it in a browser
        self._follow(event.href)

    # --- keys ----------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        if self.screen is not self._main:
            if isinstance(self.screen, MessageScreen) and event.key == "question_mark":
                self.call_later(self.action_help)  # the footer offers it there too
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

    @on(OptionList.OptionSelected, "#citations")
    def _citation_chosen(self, event: OptionList.OptionSelected) -> None:
        cited = self.citations[event.option_index]
        results = self._q("#results", OptionList)
        if self.result is not None and cited.n <= len(self.result.hits):
            row = self._rows.index(("hit", cited.n - 1))
            results.highlighted = row
            results.focus()
