"""The preview pane: a result's whole section, page mode (a window of the page's sections),
and the links in it, followed inside the app.

A mixin of DocsearchApp (app.py): it uses the app's widgets and state.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.containers import VerticalScroll
from textual.widgets import Markdown

from docsearch.links import definitions_block, resolve
from docsearch.present import sanitize_line
from docsearch.tui.page import WINDOW_LINES, Page, Window
from docsearch.tui.render import fragment_markdown, section_markdown
from docsearch.tui.screens import PickScreen

if TYPE_CHECKING:
    from docsearch.model import Fragment, Hit

PAGES_KEPT = 8  # pages read from disk for link definitions and page mode


def _names(heading: str, query: str) -> bool:
    """Whether `heading` holds every word of `query` (the last one as a prefix)."""
    words = re.findall(r"\w+", query.lower())
    head = heading.lower()
    return bool(words) and all(w in head for w in words)


class PreviewMixin:
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

    def _preview(self, hit: Hit, again: bool = False) -> None:
        """The hit's whole section, from its heading, with the matched part in view."""
        shown = self.previewed
        if not again and not self.page_mode and shown is not None and shown.fragment.id == hit.fragment.id:
            # The same part leads as the query grows ("fs.re" → "fs.readFile"): mounting the
            # same section again would cost a keystroke's budget for a few more bold letters.
            self.previewed = hit
            return
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
            markdown, match, tail = section.markdown, (section.match_start, section.match_end), section.tail
            # A heading that names what was typed (`fs.readFile`) is the match: the signature
            # and parameters come first, so the section shows from the top, its part marked.
            scroll = hit.fragment.part > 0 and not _names(hit.fragment.heading, query)
        else:
            markdown, match, scroll, tail = fragment_markdown(hit, query, defs), None, False, ""
        self._links = []
        self._preview_seq += 1
        started = time.perf_counter()
        done = preview.update(markdown)
        pane.scroll_home(animate=False)
        after = self._after_preview(done, self._preview_seq, match, scroll, tail, started)
        self.run_worker(after, group="preview")

    async def _after_preview(
        self, done: Any, seq: int, match: tuple[int, int] | None, scroll: bool, tail: str, started: float
    ) -> None:
        """Once the blocks are mounted: mark the matched part, scroll it into view, then add the
        rest of the section (the first screen costs only the parts up to the match)."""
        await done
        if seq != self._preview_seq or not self.is_running:
            return  # a newer preview, or the app is closing
        self.preview_ms.append((time.perf_counter() - started) * 1000)
        if match is None:
            return
        preview = self._q("#preview", Markdown)
        if tail:
            self.call_after_refresh(self._append_tail, seq, tail)
        first = None
        for block in preview.children:
            start, end = getattr(block, "source_range", (0, 0))
            inside = start < match[1] and end > match[0]
            block.set_class(inside, "-match")
            if inside and first is None:
                first = block
        if first is not None and scroll:
            self.call_after_refresh(self._q("#preview-pane").scroll_to_widget, first, top=True, animate=False)

    def _append_tail(self, seq: int, tail: str) -> None:
        if seq == self._preview_seq and not self.page_mode:
            self._q("#preview", Markdown).append(tail)

    # --- page mode -----------------------------------------------------------------------

    def action_expand(self) -> None:
        """Page mode on (at the fragment) or off (back to the section)."""
        if self.page_mode:
            self.page_mode = False
            hit = self.previewed or self.selected
            if hit is not None:
                self._preview(hit, again=True)
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
        if seq != self._preview_seq or not self.is_running:
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
        last = min(window.last, page.extend(first, 3 * WINDOW_LINES))
        moved = page.window(first, last, window.first)
        self._show_window(moved, moved.target_line)

    def watch_page_mode(self, on: bool) -> None:
        self._q("#preview-pane").set_class(on, "-page")
        if not on:
            self._window = None
        self._refresh_keys()

    # --- links ---------------------------------------------------------------------------

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

        self._preview(HitType(fragment=found, score=0.0, keyword=None, binary=None, float=0.0), again=True)
        self._q("#preview-pane").focus()
