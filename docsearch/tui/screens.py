"""The TUI's other screens: a full-screen message (no index), the keys, pick-from-a-list."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from docsearch.present import sanitize_line
from docsearch.tui.keys import KEYS


class MessageScreen(Screen[None]):
    """A full-screen explanation (no index yet) with the way out."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "app.quit", "Quit", show=False)]

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

    def compose(self) -> ComposeResult:
        text = Text("Keys\n\n", style="bold")
        width = max(len(k) for k, _ in KEYS) + 2
        for key, what in KEYS:
            text.append(f"{key:<{width}}", style="bold cyan")
            text.append(f"{what}\n")
        yield Static(text, id="message")


class PickScreen(ModalScreen[int | None]):
    """A list to choose one entry from (earlier queries, the preview's links); Enter picks,
    Esc closes. Returns the chosen entry's number."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, title: str, entries: list[str]) -> None:
        super().__init__()
        self._title = title
        self._entries = entries

    def compose(self) -> ComposeResult:
        box = OptionList(*[Option(Text(sanitize_line(e))) for e in self._entries], id="pick")
        box.border_title = self._title
        yield box

    def on_mount(self) -> None:
        box = self.query_one("#pick", OptionList)
        box.focus()
        if box.option_count:
            box.highlighted = 0

    @on(OptionList.OptionSelected, "#pick")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)
