"""Opening the index for the TUI: in a thread worker, while the window is already painted;
reopened when `docsearch index` commits; and the start screen that teaches the index.

A mixin of DocsearchApp (app.py): it uses the app's widgets and state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import Input, Markdown, OptionList

from docsearch.errors import DocsearchError, IndexDamagedError, IndexMissingError
from docsearch.present import sanitize, sanitize_line
from docsearch.tui.screens import EmptyIndexScreen

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester


class LoadingMixin:
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
