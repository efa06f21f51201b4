"""The Textual UI through Pilot, and once through the real binary in tmux."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import pytest
from textual.widgets import Markdown, OptionList

from docsearch.search.searcher import Searcher
from docsearch.tui.app import DocsearchApp, EmptyIndexScreen, HelpScreen, highlight_terms
from tests.conftest import ROOT, make_settings

SIZE = (100, 30)
# Async tests run on anyio's pytest plugin (anyio comes with httpx): no extra dependency.
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def app_for(corpus_index, embedder, **kw) -> DocsearchApp:
    settings = make_settings(corpus_index)
    return DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder), **kw)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


async def type_query(pilot, app: DocsearchApp, text: str) -> None:
    await until(pilot, lambda: app.searcher is not None)
    await pilot.press(*text)
    await until(pilot, lambda: app.result is not None and app.result.query == " ".join(text.split()))
    await until(pilot, lambda: app.paint_ms)  # the results reached the screen


async def test_typing_finds_and_previews_the_fragment(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        assert app.result.hits[0].fragment.ref == "cli.md#exit-codes"
        assert app.query_one("#results", OptionList).option_count == len(app.result.hits)
        preview = app.query_one("#preview", Markdown)
        assert "cli.md#exit-codes" in preview.source and "| code | meaning |" in preview.source
        status = str(app.query_one("#status").render())
        assert "total" in status and "on screen" in status and "fragments" in status


async def test_keyboard_navigation(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "index")
        app.query_one("#suggestions").remove_class("visible")
        await pilot.press("escape", "down")  # query → results
        assert app.focused is app.query_one("#results")
        await pilot.press("down")
        second = app.result.hits[1]
        assert app.selected is second
        assert second.fragment.ref in app.query_one("#preview", Markdown).source
        await pilot.press("enter")
        assert app.focused is app.query_one("#preview-pane")
        await pilot.press("escape")
        assert app.focused is app.query_one("#query")


async def test_a_newer_query_wins_over_an_older_slow_one(corpus_index, embedder):
    settings = make_settings(corpus_index)

    class SlowFirst(Searcher):
        def search(self, query, *args, **kwargs):
            if query == "storage":
                time.sleep(1.0)  # the older search is still running when the newer one ends
            return super().search(query, *args, **kwargs)

    app = DocsearchApp(settings, searcher_factory=lambda: SlowFirst(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        query = app.query_one("#query")
        query.value = "storage"
        await pilot.pause(0.05)
        query.value = "docsearch exit codes"
        await until(pilot, lambda: app.result is not None and app.result.query == "docsearch exit codes")
        await pilot.pause(1.3)  # the slow search has finished by now
        assert app.result.query == "docsearch exit codes"
        assert app.result.hits[0].fragment.ref == "cli.md#exit-codes"


async def test_keys_typed_while_loading_are_searched(corpus_index, embedder):
    settings = make_settings(corpus_index)

    loaded = threading.Event()

    def slow_factory() -> Searcher:
        loaded.wait(30)  # like lancedb and the model loading, until the test has typed
        return Searcher(settings, embedder=embedder)

    app = DocsearchApp(settings, searcher_factory=slow_factory)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"docsearch exit codes")
        assert app.searcher is None  # typed before anything could search
        loaded.set()
        await until(pilot, lambda: app.result is not None)
        assert (
            app.result.query == "docsearch exit codes"
            and app.result.hits[0].fragment.ref == "cli.md#exit-codes"
        )


async def test_missing_index_explains_how_to_build_one(tmp_path):
    app = DocsearchApp(make_settings(tmp_path / "nothing-here"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EmptyIndexScreen) and app.screen.query("#message"))
        assert "docsearch index ./docs" in str(app.screen.query_one("#message").render())


async def test_help_and_hot_link_suggestion(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await type_query(pilot, app, "voyage_d")
        assert app.suggestions[0].text == "voyage_dimension"
        assert app.query_one("#suggestions").has_class("visible")
        await pilot.press("down", "enter")  # into the drop-down, take the hot link
        await until(pilot, lambda: app.result is not None and app.result.query == "voyage_dimension")
        assert app.result.hits[0].fragment.ref == "configuration.md#model-and-api-settings"


async def test_summary_streams_with_citations(corpus_index, embedder):
    from docsearch.llm.client import LLMClient, parse_llm
    from tests.fake_llm import FakeLLM

    fake = FakeLLM(respond=lambda s, u: "Exit code 4 means there is no index [1].", api_key="").start()
    try:
        llm = LLMClient(parse_llm("openai:local", fake.endpoint + "/v1"))
        app = app_for(corpus_index, embedder, llm=llm)
        async with app.run_test(size=SIZE) as pilot:
            await type_query(pilot, app, "docsearch exit codes")
            await pilot.press("ctrl+s")
            summary = app.query_one("#summary-text", Markdown)
            await until(pilot, lambda: "[1] `cli.md#exit-codes`" in summary.source)
            assert "Exit code 4 means there is no index [1]." in summary.source
            assert len(fake.ok()) == 1  # on demand, not per keystroke
            # Citations are selectable and jump to their result.
            await until(pilot, lambda: app.query_one("#citations", OptionList).option_count == 1)
            app.query_one("#results", OptionList).highlighted = 2
            app.query_one("#citations", OptionList).focus()
            await pilot.press("down", "enter")
            assert app.focused is app.query_one("#results") and app.selected is app.result.hits[0]
    finally:
        fake.stop()


async def test_document_escape_sequences_never_reach_the_screen(tmp_path, embedder):
    from docsearch.index.indexer import Indexer

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.md").write_text(
        "# Evil \x1b]0;pwned\x07title\n\nText with \x1b[31mred\x1b[0m and a bell\x07.\n"
    )
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs)
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "evil red")
        assert "\x1b" not in app.query_one("#preview", Markdown).source
        for option in range(app.query_one("#results", OptionList).option_count):
            prompt = app.query_one("#results", OptionList).get_option_at_index(option).prompt
            assert "\x1b" not in str(prompt) and "\x07" not in str(prompt)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_binary_in_tmux(corpus_index, tmp_path):
    """The real `docsearch` in a real terminal: type, see the result, open it in $EDITOR."""
    session = "docsearch"
    # A private tmux server (its own socket, no config): the user's tmux is left alone.
    tmux = ["tmux", "-L", f"docsearch-test-{time.monotonic_ns()}", "-f", "/dev/null"]
    opened = tmp_path / "editor-args"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {opened}\n')
    editor.chmod(0o755)
    command = f"cd {ROOT} && EDITOR={editor} DOCSEARCH_INDEX={corpus_index} {sys.executable} -m docsearch"
    subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command], check=True)

    def screen_until(*texts: str, deadline: float) -> str:
        """The pane once every one of `texts` is on it (or at the deadline)."""
        screen = ""
        while time.monotonic() < deadline and not all(t in screen for t in texts):
            time.sleep(0.2)
            screen = subprocess.run(
                [*tmux, "capture-pane", "-t", session, "-p"], capture_output=True, text=True
            ).stdout
        return screen

    try:
        deadline = time.monotonic() + 60
        screen_until("ready", deadline=deadline)
        subprocess.run([*tmux, "send-keys", "-t", session, "docsearch exit codes"], check=True)
        # The results are painted first and the status line ("… total N ms") after the paint,
        # so a capture can fall between the two: wait for both.
        screen = screen_until("cli.md#exit-codes", "total", deadline=deadline)
        size = subprocess.run(
            [*tmux, "display-message", "-p", "-t", session, "#{pane_width}x#{pane_height}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert "cli.md#exit-codes" in screen and "total" in screen, f"pane {size}:\n{screen}"
        subprocess.run([*tmux, "send-keys", "-t", session, "C-o"], check=True)
        while time.monotonic() < deadline and not opened.exists():
            time.sleep(0.2)
        line = next(h for h in screen.splitlines() if "cli.md#exit-codes" in h)
        assert opened.read_text().split()[1] == str(ROOT / "corpus" / "cli.md"), line
        assert opened.read_text().startswith("+")  # the +LINE convention
        assert "total" in screen_until("total", deadline=deadline)  # back in the app after the editor
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


async def test_copy_gives_the_published_url(tmp_path, docs, embedder):
    from docsearch.index.indexer import Indexer

    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs, base_url="https://example.org/manual/")
    Indexer(settings, embedder=embedder).index(docs)  # a later run keeps the base URL
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await pilot.press("ctrl+y")
        assert app.clipboard == "https://example.org/manual/cli.html#exit-codes"
        await pilot.press("ctrl+f")  # the only source, then all again
        await until(pilot, lambda: app.source_filter == "docs")


def test_query_terms_are_highlighted_outside_code_and_links():
    text = (
        "Read a file with `fs.readFile` and [files](files.md#file-x).\n"
        "```js\nconst file = 1\n```\nFiles are read."
    )
    assert highlight_terms(text, "how to read file") == (
        "**Read** a **file** with `fs.readFile` and [**files**](files.md#file-x).\n"
        "```js\nconst file = 1\n```\n**Files** are **read**."
    )
    assert highlight_terms(text, "the a") == text


async def test_summary_after_a_pause_and_small_terminal(corpus_index, embedder):
    from docsearch.llm.client import LLMClient, parse_llm
    from tests.fake_llm import FakeLLM

    fake = FakeLLM(respond=lambda s, u: "See the table [1].", api_key="").start()
    try:
        settings = make_settings(corpus_index, summary_pause=0.3)
        app = DocsearchApp(
            settings,
            searcher_factory=lambda: Searcher(settings, embedder=embedder),
            llm=LLMClient(parse_llm("openai:local", fake.endpoint + "/v1")),
        )
        async with app.run_test(size=(80, 24)) as pilot:  # the smallest terminal we support
            await type_query(pilot, app, "docsearch exit codes")
            summary = app.query_one("#summary-text", Markdown)
            await until(pilot, lambda: "See the table [1]." in summary.source)
            assert len(fake.ok()) == 1  # once, for the query typed last, not per keystroke
            await pilot.resize_terminal(120, 40)
            await pilot.pause(0.1)
            assert app.result.hits[0].fragment.ref == "cli.md#exit-codes"
    finally:
        fake.stop()


async def test_expand_shows_the_whole_page(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await pilot.press("escape", "ctrl+g")
        preview = app.query_one("#preview", Markdown)
        await until(pilot, lambda: preview.source.startswith("# Command line reference"))
        page = (ROOT / "corpus" / "cli.md").read_text()
        assert preview.source == page  # the whole file, from its first line
