"""`docsearch` with no arguments: search as you type, in a Textual app.

The app is a thin shell over the same `Searcher` the CLI uses:
- the window paints first; the index, lancedb and the embedding model load in a thread
  worker, and whatever is typed meanwhile is searched as soon as they are ready;
- every keystroke starts an exclusive thread worker (a newer keystroke cancels the older
  one), and results carry a sequence number, so a slow old search never overwrites a newer
  one;
- the preview renders the selected fragment's markdown; document text is sanitized first;
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
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from docsearch.errors import DocsearchError, IndexDamagedError, IndexMissingError
from docsearch.model import MAX_QUERY_CHARS
from docsearch.present import sanitize, sanitize_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from docsearch.model import Hit, SearchResult, Timings
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester, Suggestion
    from docsearch.settings import Settings

SCORE_BAR = " ▁▂▃▄▅▆▇█"


def score_bar(score: float, top: float, width: int = 6) -> str:
    """A bar whose length is the score relative to the best result's."""
    if top <= 0:
        return ""
    eighths = max(0, min(width * 8, round(width * 8 * score / top)))
    full, rest = divmod(eighths, 8)
    return ("█" * full + (SCORE_BAR[rest] if rest else "")).ljust(width, " ")


def result_label(hit: Hit, top: float, width: int = 60) -> Text:
    """Two lines per result, each cut to `width` with an ellipsis: a list that wraps is hard to scan."""
    f = hit.fragment
    first = Text(sanitize(f.heading or f.title), style="bold")
    crumbs = " › ".join(f.breadcrumb[:-1]) if f.heading else ""
    if crumbs:
        first.append(f"  {sanitize(crumbs)}", style="dim")
    second = Text(f"{score_bar(hit.score, top)} ", style="green")
    second.append(sanitize_line(f.ref), style="cyan")
    second.append(f"  {sanitize_line(f.source)}", style="dim")
    for line in (first, second):
        line.truncate(max(width, 10), overflow="ellipsis")
    return Text("\n").join([first, second])


_STOP_WORDS = frozenset(
    {"the", "and", "for", "how", "what", "why", "when", "which", "with", "does"}
    | {"from", "into", "this", "that", "are", "can", "use"}
)
# Spans that must stay byte for byte: inline code, link targets, autolinks and HTML tags.
_PROTECTED_RE = re.compile(r"(`[^`]*`|\]\([^)]*\)|<[^>\n]+>)")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")


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
        if in_fence or _FENCE_RE.match(line):
            out.append(line)
            continue
        parts = _PROTECTED_RE.split(line)
        for i in range(0, len(parts), 2):  # even parts are ordinary text
            parts[i] = word_re.sub(lambda m: f"**{m.group(0)}**", parts[i])
        out.append("".join(parts))
    return "\n".join(out)


def fragment_markdown(hit: Hit, query: str = "") -> str:
    f = hit.fragment
    crumbs = " › ".join(f.breadcrumb)
    where = f"`{sanitize_line(f.ref)}` · line {f.line_start} · {sanitize_line(f.source)}"
    head = f"**{sanitize(crumbs)}**  \n{where}\n\n"
    return head + highlight_terms(sanitize(f.text), query)


class MessageScreen(Screen[None]):
    """A full-screen explanation (no index yet) with the way out."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble((self._title + "\n\n", "bold"), self._body), id="message")
        yield Footer()


class EmptyIndexScreen(MessageScreen):
    pass


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    KEYS: ClassVar[list[tuple[str, str]]] = [
        ("typing", "search as you type; the last word matches as a prefix"),
        ("↓ / Tab", "from the query to the results"),
        ("↑ ↓ PgUp PgDn Home End", "move in the results (mouse works too)"),
        ("Enter", "in the results: focus the preview; in the suggestions: use it"),
        ("Esc", "back to the query"),
        ("Ctrl+G", "expand the preview to the whole page"),
        ("Ctrl+O", "open the fragment in $EDITOR at its line"),
        ("Ctrl+B", "open the fragment's URL (sources indexed with --base-url)"),
        ("Ctrl+Y", "copy path#anchor (or the URL) to the clipboard, OSC 52"),
        ("Ctrl+F", "filter results by source (cycles)"),
        ("Ctrl+S", "stream a cited summary of the results (needs an LLM)"),
        ("Ctrl+P", "command palette; themes are there too"),
        ("F1 / ?", "this help"),
        ("Ctrl+Q", "quit"),
    ]

    def compose(self) -> ComposeResult:
        text = Text("Keys\n\n", style="bold")
        for key, what in self.KEYS:
            text.append(f"{key:<24}", style="bold cyan")
            text.append(f"{what}\n")
        yield Static(text, id="message")


class DocsearchApp(App[None]):
    CSS_PATH = "docsearch.tcss"
    TITLE = "docsearch"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "focus_query", "Query", show=False),
        Binding("f1", "help", "Help"),
        Binding("ctrl+g", "expand", "Page"),
        Binding("ctrl+o", "open_editor", "Edit"),
        Binding("ctrl+b", "open_browser", "Browse", show=False),
        Binding("ctrl+y", "copy_ref", "Copy"),
        Binding("ctrl+f", "filter_source", "Source"),
        Binding("ctrl+s", "summary", "Summary"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        settings: Settings,
        searcher_factory: Callable[[], Searcher] | None = None,
        llm: Any = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._factory = searcher_factory
        self.llm = llm
        self.searcher: Searcher | None = None
        self.suggester: Suggester | None = None
        self.result: SearchResult | None = None
        self.suggestions: list[Suggestion] = []
        self.source_filter: str | None = None
        self._seq = 0  # bumped on every query change; only the newest search's results show
        self._status_tail = ""
        self._typed_at: dict[int, float] = {}  # query sequence number → when it was typed
        self.paint_ms: list[float] = []  # keystroke → results painted, per shown search
        self._timings: Timings | None = None
        self.citations: list[Any] = []  # the last summary's valid citations
        self._pause_timer: Any = None  # pending summary-after-a-pause, if configured
        self._reopen_lock = threading.Lock()  # one search worker reopens a changed index
        self._retired: Searcher | None = None  # the previous searcher, closed at the next reopen
        self._reopen_error = ""  # the last reopen failure shown, not repeated per keystroke

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search the docs…  (F1: help)", id="query", max_length=MAX_QUERY_CHARS)
        yield OptionList(id="suggestions")
        with Horizontal(id="main"):
            yield OptionList(id="results")
            with VerticalScroll(id="preview-pane"):
                yield Markdown("", id="preview")
        with VerticalScroll(id="summary"):
            yield Markdown("", id="summary-text")
            yield OptionList(id="citations")
        yield Static("loading the index and the model…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()
        self._load()

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Summary", "Stream a cited summary of the results", self.action_summary)
        yield SystemCommand("Copy reference", "Copy the selected result's path#anchor", self.action_copy_ref)
        yield SystemCommand("Open in editor", "Open the fragment in $EDITOR", self.action_open_editor)
        yield SystemCommand("Whole page", "Show the whole page around the fragment", self.action_expand)
        yield SystemCommand("Filter by source", "Cycle the source filter", self.action_filter_source)
        yield SystemCommand("Keys", "List every key", self.action_help)

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
        # one-time costs (ONNX session start, the prefix vocabulary, the first FTS query).
        searcher.search("docsearch", top_k=1, prefix_last=True)
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

    def _reopened(self, searcher: Searcher) -> None:
        meta = searcher.reader.meta
        size = searcher.reader.size_on_disk() / 1e6
        self._status_tail = f"{meta.count:,} fragments · {size:.1f} MB · {meta.document_model.name}"
        self.notify(f"the index was updated: {meta.count:,} fragments")

    def _no_index(self, exc: IndexMissingError) -> None:
        if isinstance(exc, IndexDamagedError):
            title, what = "The index is damaged", "Repair it: `docsearch index` sets it aside and rebuilds it"
        else:
            title, what = "No index to search yet", "Build one from a folder of markdown"
        body = (
            f"{sanitize(exc.message)}\n\n{what}, then start docsearch again:\n\n"
            "    docsearch index ./docs\n    docsearch\n\nPress q to quit."
        )
        self.push_screen(EmptyIndexScreen(title, body))

    def _loaded(self, searcher: Searcher, suggester: Suggester) -> None:
        self.searcher = searcher
        self.suggester = suggester
        meta = searcher.reader.meta
        size = searcher.reader.size_on_disk() / 1e6
        self._status_tail = f"{meta.count:,} fragments · {size:.1f} MB · {meta.document_model.name}"
        self._set_status("ready")
        query = self.query_one("#query", Input).value
        if query.strip():
            self._start_search(query)  # what was typed while loading

    def _set_status(self, text: str) -> None:
        source = f" · source: {sanitize(self.source_filter)}" if self.source_filter else ""
        tail = f"  │  {self._status_tail}{source}" if self._status_tail else ""
        self.query_one("#status", Static).update(text + tail)

    # --- searching -----------------------------------------------------------------------

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
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
        self.result = result
        results = self.query_one("#results", OptionList)
        results.clear_options()
        hits = result.hits if result else []
        top = hits[0].score if hits else 0.0
        width = results.content_size.width - 2 if results.content_size.width > 12 else 60
        results.add_options([Option(result_label(h, top, width), id=str(i)) for i, h in enumerate(hits)])
        if hits:
            results.highlighted = 0
            self._preview(hits[0])
        else:
            self.query_one("#preview", Markdown).update("" if result is None else "*No results.*")
        self._show_suggestions(suggestions)
        if result is None:
            self._set_status("ready")
            return
        self._timings = result.timings
        self.call_after_refresh(self._painted, seq, len(hits))

    def _painted(self, seq: int, count: int) -> None:
        """After the results reached the screen: measure keystroke → paint, show the timings."""
        typed = self._typed_at.pop(seq, None)
        for old in [s for s in self._typed_at if s < seq]:
            del self._typed_at[old]  # superseded keystrokes
        paint = ""
        if typed is not None:
            ms = (time.perf_counter() - typed) * 1000
            self.paint_ms.append(ms)
            paint = f" · on screen {ms:.0f} ms after the key"
        if self.llm is not None and self.settings.summary_pause > 0 and count:
            # Summaries cost tokens: only once the user has stopped typing for a while.
            self._pause_timer = self.set_timer(self.settings.summary_pause, lambda: self._auto_summary(seq))
        t = self._timings
        if t is None:
            return
        self._set_status(
            f"{count} results · embed {t.embed:.0f} · keyword {t.keyword:.0f} · binary {t.binary:.1f} "
            f"· rerank {t.rerank:.0f} · total {t.total:.0f} ms{paint}"
        )

    def _show_suggestions(self, suggestions: list[Suggestion]) -> None:
        box = self.query_one("#suggestions", OptionList)
        box.clear_options()
        query = self.query_one("#query", Input)
        useful = [s for s in suggestions if s.text.lower() != query.value.strip().lower()]
        self.suggestions = useful
        for s in useful:
            label = Text(sanitize(s.text), style="bold" if s.kind == "hotlink" else "")
            label.append(f"  {sanitize(s.ref)}", style="dim")
            box.add_option(Option(label))
        box.set_class(bool(useful) and query.has_focus, "visible")

    def _preview(self, hit: Hit) -> None:
        query = self.result.query if self.result else ""
        self.query_one("#preview", Markdown).update(fragment_markdown(hit, query))
        self.query_one("#preview-pane", VerticalScroll).scroll_home(animate=False)

    @property
    def selected(self) -> Hit | None:
        if self.result is None or not self.result.hits:
            return None
        index = self.query_one("#results", OptionList).highlighted
        return self.result.hits[index] if index is not None and index < len(self.result.hits) else None

    @on(OptionList.OptionHighlighted, "#results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        hit = self.selected
        if hit is not None:
            self._preview(hit)

    @on(OptionList.OptionSelected, "#results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#preview-pane").focus()

    @on(OptionList.OptionSelected, "#suggestions")
    def _suggestion_chosen(self, event: OptionList.OptionSelected) -> None:
        s = self.suggestions[event.option_index]
        box = self.query_one("#suggestions", OptionList)
        box.remove_class("visible")
        if s.kind == "hotlink" and self.searcher is not None:
            # A hot link goes straight to the fragment that defines the name.
            self._jump_to(s)
            return
        query = self.query_one("#query", Input)
        query.value = s.text
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
        self.query_one("#results", OptionList).focus()

    def on_key(self, event: Any) -> None:
        query = self.query_one("#query", Input)
        box = self.query_one("#suggestions", OptionList)
        if query.has_focus and event.key == "down":
            target = box if box.has_class("visible") else self.query_one("#results", OptionList)
            target.focus()
            if target is box and box.highlighted is None and box.option_count:
                box.highlighted = 0
            event.prevent_default()
            event.stop()
        elif event.key == "question_mark" and not query.has_focus:
            self.action_help()
            event.stop()

    def on_descendant_blur(self, event: Any) -> None:
        box = self.query_one("#suggestions", OptionList)
        if not (self.query_one("#query", Input).has_focus or box.has_focus):
            box.remove_class("visible")

    # --- actions -------------------------------------------------------------------------

    def action_focus_query(self) -> None:
        self.query_one("#suggestions", OptionList).remove_class("visible")
        self.query_one("#query", Input).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def _source_root(self, hit: Hit) -> Path | None:
        if self.searcher is None:
            return None
        root = self.searcher.reader.meta.sources.get(hit.fragment.source, {}).get("root")
        return Path(root) if root else None

    def _url(self, hit: Hit) -> str | None:
        if self.searcher is None:
            return None
        base = self.searcher.reader.meta.sources.get(hit.fragment.source, {}).get("base_url")
        if not base:
            return None
        page = hit.fragment.path.rsplit(".", 1)[0] + ".html"
        return f"{base.rstrip('/')}/{page}" + (f"#{hit.fragment.anchor}" if hit.fragment.anchor else "")

    def action_expand(self) -> None:
        hit = self.selected
        root = self._source_root(hit) if hit else None
        if hit is None or root is None:
            return
        try:
            page = (root / hit.fragment.path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self.notify(f"cannot read {sanitize(hit.fragment.path)}: {exc.strerror}", severity="error")
            return
        preview = self.query_one("#preview", Markdown)
        preview.update(sanitize(page))
        if hit.fragment.anchor:
            self.call_after_refresh(preview.goto_anchor, hit.fragment.anchor)

    def action_open_editor(self) -> None:
        hit = self.selected
        root = self._source_root(hit) if hit else None
        if hit is None or root is None:
            return
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        command = [*shlex.split(editor), f"+{hit.fragment.line_start}", str(root / hit.fragment.path)]
        try:
            with self.suspend():
                subprocess.run(command, check=False)
        except (OSError, Exception) as exc:  # no terminal to suspend to, or no such editor
            self.notify(f"cannot run {sanitize(editor)}: {exc}", severity="error")

    def action_open_browser(self) -> None:
        hit = self.selected
        url = self._url(hit) if hit else None
        if url is None:
            self.notify("no URL: index the source with --base-url URL", severity="warning")
            return
        self.open_url(url)

    def action_copy_ref(self) -> None:
        hit = self.selected
        if hit is None:
            return
        text = self._url(hit) or hit.fragment.ref
        self.copy_to_clipboard(text)  # OSC 52: works over SSH in terminals that allow it
        self.notify(f"copied {sanitize(text)}")

    def action_filter_source(self) -> None:
        if self.searcher is None:
            return
        sources = sorted(self.searcher.reader.meta.sources)
        cycle = [None, *sources]
        self.source_filter = cycle[(cycle.index(self.source_filter) + 1) % len(cycle)]
        self.notify(f"source: {self.source_filter or 'all'}")
        self._start_search(self.query_one("#query", Input).value)

    def _auto_summary(self, seq: int) -> None:
        self._pause_timer = None
        if seq == self._seq and not self.query_one("#summary").has_class("visible"):
            self.action_summary()

    def action_summary(self) -> None:
        panel = self.query_one("#summary", VerticalScroll)
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

        view = self.query_one("#summary-text", Markdown)
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
        lines = [text, ""]
        for c in summary.citations:
            where = f"`{c.path}#{c.anchor}`" if c.valid else "not among the results (flagged)"
            lines.append(f"- [{c.n}] {where}")
        await view.update("\n".join(lines))
        # The citations again, as a list one can select: Enter jumps to the cited result.
        self.citations = [c for c in summary.citations if c.valid]
        box = self.query_one("#citations", OptionList)
        box.clear_options()
        for c in self.citations:
            box.add_option(Option(Text(f"[{c.n}] {sanitize(f'{c.path}#{c.anchor}')}", style="cyan")))

    @on(OptionList.OptionSelected, "#citations")
    def _citation_chosen(self, event: OptionList.OptionSelected) -> None:
        cited = self.citations[event.option_index]
        results = self.query_one("#results", OptionList)
        if self.result is not None and cited.n <= len(self.result.hits):
            results.highlighted = cited.n - 1
            results.focus()
