"""What the TUI's keys do with a result: the editor, the browser, the clipboard, the source
filter, the history list, the summary; and which of them the footer offers now.

A mixin of DocsearchApp (app.py): it uses the app's widgets and state.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import SystemCommand
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Markdown, OptionList
from textual.widgets.option_list import Option

from docsearch.errors import DocsearchError
from docsearch.present import plural, sanitize, sanitize_line
from docsearch.tui import output
from docsearch.tui.screens import HelpScreen, MessageScreen, PickScreen

if TYPE_CHECKING:
    from docsearch.model import Hit, SearchResult


class ActionsMixin:
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

    # Actions whose availability changes with the state (a result, an LLM, page mode).
    _STATEFUL = (
        "open_editor",
        "expand",
        "links",
        "copy_ref",
        "open_browser",
        "summary",
        "filter_source",
        "history",
    )

    def _refresh_keys(self) -> None:
        """Redraw the footer only when what it offers changed: a footer rebuilt on every
        keystroke or ↓ costs more than the search."""
        now = tuple(bool(self.check_action(a, ())) for a in self._STATEFUL)
        if now != getattr(self, "_offered", None):
            self._offered = now
            self.refresh_bindings()

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
                Option(
                    Text(f"{plural(flagged, 'citation')} not among the results", style="red"), disabled=True
                )
            )
