"""Searching as you type: each query change starts an exclusive thread worker over the warm
Searcher (a newer keystroke cancels the older one), results carry a sequence number so that a
slow old search never overwrites a newer one, and the results list and the status line show
the newest; a pause in typing starts the optional cross-encoder pass and the summary.

A mixin of DocsearchApp (app.py): it uses the app's widgets and state. The `@on` handlers
that call it stay on the app class, where Textual collects them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Markdown, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from docsearch.errors import DocsearchError
from docsearch.present import plural, sanitize
from docsearch.tui.render import result_label, suggestion_label

if TYPE_CHECKING:
    from docsearch.model import SearchResult
    from docsearch.search.suggest import Suggestion

# Suggestions shown on top of the results (a docs site's "suggestions" group): a few, and
# only those that add a fragment the results do not already lead with.
SUGGESTIONS = 3
# Seconds without a key before the optional cross-encoder reorders the results.
RESCORE_PAUSE = 0.4


class SearchMixin:
    def _start_search(self, query: str) -> None:
        for timer in (self._pause_timer, self._rescore_timer):
            if timer is not None:
                timer.stop()  # still typing: no summary, no cross-encoder yet
        self._pause_timer = self._rescore_timer = None
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

    @work(thread=True, exclusive=True, group="rescore")
    def _rescore(self, query: str, seq: int, source: str | None) -> None:
        """Typing paused: the same search again, its top sections reordered by the optional
        cross-encoder (`rerank`); too slow for every key, worth it once the user stops."""
        try:
            searcher, _ = self._current()
            result = searcher.search(
                query,
                top_k=self.settings.top_k,
                source=source,
                prefix_last=not query.endswith(" "),
                rescore=True,
            )
        except DocsearchError as exc:
            # Not installed, no key, the API down: off for this session, said once.
            self._rescore_off = True
            message = f"rerank is off for this session: {sanitize(exc.message)}"
            self.call_from_thread(self.notify, message, severity="warning", timeout=10)
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._rescored, seq, result)

    def _rescored(self, seq: int, result: SearchResult) -> None:
        if seq != self._seq:
            return
        self.rescored = True
        self._show(seq, result, self.suggestions, rescored=True)

    def _show(
        self, seq: int, result: SearchResult | None, suggestions: list[Suggestion], rescored: bool = False
    ) -> None:
        if seq != self._seq:
            return  # a newer keystroke is on its way: never paint stale results
        self.page_mode = False
        # The reordered list keeps the highlight on the result the user was looking at.
        keep = self.selected.fragment.ref if rescored and self.selected is not None else None
        self.result = result
        self._rescored_seq = seq if rescored else 0
        if result is None:
            self.suggestions = []
            self._set_status("ready")
            self._start_screen()
            self._refresh_keys()
            return
        hits = result.hits
        self._q("#main").remove_class("-start")
        leading = {h.fragment.ref for h in hits[:3]}
        query = result.query.lower()
        self.suggestions = [s for s in suggestions if s.text.lower() != query and s.ref not in leading][
            :SUGGESTIONS
        ]
        results = self._q("#results", OptionList)
        width = self._label_width()
        options: list[Option] = []
        rows: list[tuple[str, int]] = []
        if self.suggestions:
            options.append(Option(Text("suggestions", style="dim italic"), disabled=True))
            rows.append(("head", 0))
            for n, s in enumerate(self.suggestions):
                options.append(Option(suggestion_label(s, width)))
                rows.append(("suggestion", n))
        top = hits[0].score if hits else 0.0
        for n, h in enumerate(hits):
            options.append(Option(result_label(h, top, width)))
            rows.append(("hit", n))
        self._rows = rows
        with self.batch_update():
            results.clear_options()
            results.add_options(options)
            if hits:
                at = next((n for n, h in enumerate(hits) if h.fragment.ref == keep), 0)
                results.highlighted = len(rows) - len(hits) + at
        if hits:
            # After the list is drawn: the results reach the screen before the preview mounts.
            self.call_after_refresh(self._preview, self.selected or hits[0])
        else:
            self._q("#preview", Markdown).update("*No results.*")
            self.previewed = None
        self._timings = result.timings
        self._count = len(hits)
        self._refresh_keys()
        if rescored:
            self._status_from_timings()
            return
        self.call_after_refresh(self._painted, seq, len(hits))

    def _label_width(self) -> int:
        width = self._q("#results", OptionList).scrollable_content_region.width
        if width <= 12:  # not laid out yet (hidden behind the start screen): the share it gets
            width = self.size.width if self.screen.has_class("-narrow") else int(self.size.width * 0.45)
            width -= 4
        return max(width - 1, 20)

    def relabel(self) -> None:
        """The list changed width (a resize, the layout stacking): fit the labels to it now,
        not at the next keystroke."""
        if self.result is None or not self._rows:
            return
        results, hits = self._q("#results", OptionList), self.result.hits
        top, width = (hits[0].score if hits else 0.0), self._label_width()
        for index, (kind, n) in enumerate(self._rows):
            if index >= results.option_count:
                break
            if kind == "hit":
                results.replace_option_prompt_at_index(index, result_label(hits[n], top, width))
            elif kind == "suggestion":
                results.replace_option_prompt_at_index(index, suggestion_label(self.suggestions[n], width))

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
        if count and self.settings.rerank != "off" and not self._rescore_off:
            query, source = self.result.query if self.result else "", self.source_filter
            self._rescore_timer = self.set_timer(RESCORE_PAUSE, lambda: self._rescore(query, seq, source))
        self._status_from_timings()

    def _status_from_timings(self) -> None:
        t = self._timings
        if t is None:
            return
        text = f"{plural(self._count, 'result')} · {t.total:.0f} ms"
        if self._rescored_seq == self._seq:
            text += " · reranked"
        if self.show_stages:
            paint = f" · on screen {self.paint_ms[-1]:.0f}" if self.paint_ms else ""
            text += (
                f"  (embed {t.embed:.0f} · keyword {t.keyword:.0f} · binary {t.binary:.1f} "
                f"· rerank {t.rerank:.0f} · fuse {t.fuse:.0f}{paint} ms)"
            )
        self._set_status(text)

    def watch_show_stages(self, value: bool) -> None:
        self._status_from_timings()

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
