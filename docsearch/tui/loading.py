"""Opening the index for the TUI: in a thread worker, while the window is already painted;
reopened when `docsearch index` commits (search/warm.py decides when); and the start screen
that teaches the index.

A mixin of DocsearchApp (app.py): it uses the app's widgets and state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Input, Markdown, OptionList

from docsearch.errors import DocsearchError, IndexDamagedError, IndexMissingError
from docsearch.present import plural, sanitize, sanitize_line
from docsearch.search.warm import WarmSearcher
from docsearch.tui.screens import EmptyIndexScreen

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester


def prepare(searcher: Searcher) -> Suggester:
    """A freshly opened searcher, warmed up for typing, and the suggester over its commit."""
    from docsearch.search.suggest import Suggester

    suggester = Suggester(searcher.reader)
    # Warm up while the user reads the screen: the first real keystroke then pays no
    # one-time costs (ONNX session start, the prefix vocabulary, the first FTS query,
    # the map of split sections the preview joins).
    result = searcher.search("docsearch", top_k=1, prefix_last=True)
    if result.hits:
        searcher.section_parts(result.hits[0].fragment)
    return suggester


class LoadingMixin:
    # --- loading -------------------------------------------------------------------------

    def _warm_searcher(self, factory: Callable[[], Searcher] | None) -> WarmSearcher[Suggester]:
        return WarmSearcher(
            self.settings,
            prepare,
            factory,
            on_reopened=self._reopened_in_worker,
            on_reopen_error=self._reopen_failed,
        )

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            searcher, suggester = self.warm.get()
        except IndexMissingError as exc:
            self.call_from_thread(self._no_index, exc)
            return
        except DocsearchError as exc:
            self.call_from_thread(self.notify, sanitize(exc.message), severity="error", timeout=30)
            self.call_from_thread(self._set_status, f"cannot search: {sanitize(exc.message)}")
            return
        self.call_from_thread(self._loaded, searcher, suggester)

    def _current(self) -> tuple[Searcher, Suggester]:
        """The searcher to use now (in a worker thread): the open one, or, once `docsearch
        index` has committed since it was opened, a new one over the new commit."""
        return self.warm.get()

    def _reopened_in_worker(self, searcher: Searcher, suggester: Suggester) -> None:
        self.call_from_thread(self._reopened, searcher, suggester)

    def _reopen_failed(self, message: str) -> None:
        # Searching goes on over the commit this process holds; said once, not per keystroke.
        self.call_from_thread(self.notify, sanitize(message), severity="warning", timeout=15)

    def _describe_index(self, searcher: Searcher) -> None:
        meta = searcher.reader.meta
        size = searcher.reader.size_on_disk() / 1e6
        fragments = plural(meta.count, "fragment", thousands=True)
        self._status_tail = f"{fragments} · {size:.1f} MB"
        self._index_line = (
            f"{sanitize_line(str(self.settings.index))} · {fragments} from "
            f"{plural(len(meta.sources), 'source')} "
            f"({', '.join(sanitize_line(s) for s in sorted(meta.sources))}) · {size:.1f} MB · "
            f"{sanitize_line(meta.document_model.name)}"
        )

    def _reopened(self, searcher: Searcher, suggester: Suggester) -> None:
        self.searcher, self.suggester = searcher, suggester
        self._describe_index(searcher)
        self._pages.clear()
        count = searcher.reader.meta.count
        self.notify(f"the index was updated: {plural(count, 'fragment', thousands=True)}")

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
        self._refresh_keys()

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
