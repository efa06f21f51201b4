"""The Textual UI through Pilot, and once through the real binary in tmux."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Markdown, OptionList
from textual.widgets.input import Selection

from docsearch.search.searcher import Searcher
from docsearch.tui import actions as actions_module
from docsearch.tui.app import DocsearchApp, EmptyIndexScreen, HelpScreen, highlight_terms
from docsearch.tui.keys import KEYS
from docsearch.tui.render import middle, result_label
from docsearch.tui.screens import PickScreen
from tests.conftest import ROOT, make_settings

SIZE = (120, 34)
# Async tests run on anyio's pytest plugin (anyio comes with httpx): no extra dependency.
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def app_for(index, embedder, **kw) -> DocsearchApp:
    settings = kw.pop("settings", None) or make_settings(index)
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


def query_box(app: DocsearchApp) -> Input:
    return app._q("#query", Input)


# A small corpus for what the manual lacks: a section long enough to be split, reference-style
# links, a relative link to another page, and a page of hundreds of sections.
LONG = "\n\n".join(
    f"Paragraph {n} of the long section explains step {n} of the procedure in some detail, "
    "with enough words to take up room in a part." + (" The zanzibarite switch is here." if n == 30 else "")
    for n in range(1, 41)
)
GUIDE = f"""# Guide

The guide links to [the API][api] and to [`Thing`][] by reference,
and [see the other page](other.md#second-heading).

## Long section

{LONG}

## Short section

A short one.

[api]: other.md#first-heading
[`Thing`]: #short-section
"""
OTHER = """# Other

## First heading

The first heading's text.

## Second heading

The second heading's text about otterlings.
"""
BIG = "# Big page\n\n" + "\n\n".join(
    f"## Section {n}\n\n"
    + ("The quokkaflux lives here.\n\n" if n == 120 else "")
    + "\n\n".join(f"Line {k} of section {n}." for k in range(12))
    for n in range(1, 201)
)


@pytest.fixture(scope="module")
def reader_index(tmp_path_factory, embedder) -> Path:
    from docsearch.index.indexer import Indexer

    base = tmp_path_factory.mktemp("reader")
    docs = base / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    (docs / "other.md").write_text(OTHER)
    (docs / "big.md").write_text(BIG)
    index = base / "idx"
    Indexer(make_settings(index), embedder=embedder).index(docs, source="docs")
    return index


# --- typing and keys -------------------------------------------------------------------


async def test_typing_finds_and_previews_the_fragment(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        assert app.result.hits[0].fragment.ref == "cli.md#exit-codes"
        assert app.selected is app.result.hits[0]
        preview = app._q("#preview", Markdown)
        assert "cli.md#exit-codes" in preview.source and "| code | meaning |" in preview.source
        status = str(app._q("#status").render())
        # Count and total for users; the stages only on Ctrl+T.
        assert re.match(r"\d+ results · \d+ ms", status) and "fragments" in status and "embed" not in status
        await pilot.press("ctrl+t")
        assert "embed" in str(app._q("#status").render())


async def test_esc_keeps_the_query_then_clears_it_then_quits(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "exit codes")
        await pilot.press("tab")  # into the results
        assert app.focused is app._q("#results")
        await pilot.press("escape")
        query = query_box(app)
        assert app.focused is query and query.selection == Selection.cursor(len("exit codes"))
        await pilot.press("s")  # appends: Esc did not arm the query for replacement
        assert query.value == "exit codess"
        await pilot.press("escape")
        assert query.value == ""
        assert app.return_code is None
        await pilot.press("escape")
        assert app.return_code == 0  # Esc on an empty query quits


async def test_keys_typed_in_results_or_preview_go_to_the_query(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "exit")
        await pilot.press("tab")
        await pilot.press(*" co")
        assert query_box(app).value == "exit co" and app.focused is query_box(app)
        await pilot.press("tab", "tab")  # results, then the preview
        assert app.focused is app._q("#preview-pane")
        await pilot.press("d")
        assert query_box(app).value == "exit cod"


async def test_enter_opens_the_result_and_a_second_enter_the_editor(corpus_index, embedder, monkeypatch):
    ran: list[list[str]] = []
    monkeypatch.setattr(actions_module.subprocess, "run", lambda cmd, check: ran.append(cmd))
    monkeypatch.setenv("EDITOR", "myeditor --wait")
    monkeypatch.delenv("VISUAL", raising=False)
    app = app_for(corpus_index, embedder)
    app.suspend = contextlib.nullcontext  # no real terminal under Pilot
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await pilot.press("down", "down", "up")  # from the query, which keeps the focus
        assert app.focused is query_box(app) and app.selected is app.result.hits[1]
        assert app.result.hits[1].fragment.ref in app._q("#preview", Markdown).source
        await pilot.press("enter")
        assert app.focused is app._q("#preview-pane") and app.previewed is app.result.hits[1]
        await pilot.press("enter")
        f = app.result.hits[1].fragment
        assert ran == [["myeditor", "--wait", f"+{f.line_start}", str(ROOT / "corpus" / f.path)]]
        await pilot.press("ctrl+o")
        assert len(ran) == 2


async def test_question_mark_helps_except_in_the_query_and_ctrl_c_quits(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "exit?")
        assert query_box(app).value == "exit?" and not isinstance(app.screen, HelpScreen)
        await pilot.press("tab", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+c")
        assert app.return_code == 0


async def test_query_history_in_the_cache_dir(corpus_index, embedder, tmp_path):
    settings = make_settings(corpus_index, cache_dir=tmp_path / "cache")
    app = app_for(corpus_index, embedder, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "exit codes")
        await pilot.press("enter")  # acted on: remembered
        await pilot.press("escape", "escape")  # back to the query, then clear it
        await type_query(pilot, app, "storage")
        await pilot.press("enter", "escape", "escape")
    assert (tmp_path / "cache" / "tui-history").read_text().split("\n")[:2] == ["exit codes", "storage"]
    app = app_for(corpus_index, embedder, settings=settings)  # a later run
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        await pilot.press("up")
        assert query_box(app).value == "storage"
        await pilot.press("up")
        assert query_box(app).value == "exit codes"
        await pilot.press("down")
        assert query_box(app).value == "storage"
        await pilot.press("escape", "ctrl+r")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("down", "enter")  # newest first: the second is the older one
        assert query_box(app).value == "exit codes"


def test_the_exact_word_typed_is_not_completed(corpus_index, embedder):
    """While typing, a complete indexed word is searched as itself ("readline", the module),
    and only an unfinished one is completed ("readl" → readline, readlinePromises…)."""
    searcher = Searcher(make_settings(corpus_index), embedder=embedder)
    keyword = searcher.keyword
    assert keyword.is_word("index") and not keyword.is_word("inde")
    assert keyword.expand("docsearch index", prefix_last=True) == "docsearch index"
    completed = keyword.expand("docsearch inde", prefix_last=True).split()
    assert "index" in completed and len(completed) > 2
    assert keyword.expand("docsearch index", prefix_last=False) == "docsearch index"
    # A word the index holds only rarely beside a far commoner completion is unfinished: the
    # manual quotes "crash saf" once, "safety" is everywhere.
    assert not keyword.is_word("saf") and "safety" in keyword.expand("crash saf", prefix_last=True).split()


# --- the preview -------------------------------------------------------------------------


async def test_a_split_section_previews_whole_with_the_match_in_view(reader_index, embedder):
    app = app_for(reader_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "zanzibarite switch")
        hit = app.selected
        assert hit.fragment.anchor == "long-section" and hit.fragment.part > 0
        preview = app._q("#preview", Markdown)
        await until(pilot, lambda: "Paragraph 40 " in preview.source)  # the parts after the match follow
        source = preview.source
        assert source.index("Long section") < source.index("Paragraph 1 of the long section")
        assert source.count("Paragraph 12 of") == 1  # the parts' overlap once
        pane = app._q("#preview-pane")
        await until(pilot, lambda: preview.query(".-match") and pane.scroll_y > 0)
        matched = " ".join(str(b.source) for b in preview.query(".-match"))
        assert "zanzibarite" in matched and "Paragraph 1 of" not in matched
        assert "part" in str(pane.border_subtitle)


async def test_reference_links_render_as_links(reader_index, embedder):
    from markdown_it import MarkdownIt

    app = app_for(reader_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "guide links by reference")
        assert app.selected.fragment.path == "guide.md"
        source = app._q("#preview", Markdown).source
        hrefs = [
            c.attrGet("href")
            for t in MarkdownIt("commonmark").parse(source)
            for c in t.children or []
            if c.type == "link_open"
        ]
        assert "other.md#first-heading" in hrefs and "#short-section" in hrefs


def test_ask_text_shows_reference_links_as_text():
    from docsearch.present import snippet

    text = "Use [fs.ReadStream][] and [the API][api] here."
    assert snippet(text, "use") == "Use fs.ReadStream and the API here."


async def test_relative_links_are_followed_inside_the_app(reader_index, embedder):
    app = app_for(reader_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "guide links by reference")
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, PickScreen)
        entries = [str(o.prompt) for o in app.screen.query_one("#pick", OptionList).options]
        await pilot.press(*["down"] * entries.index("other.md#second-heading"), "enter")
        await until(pilot, lambda: app.previewed is not None and app.previewed.fragment.path == "other.md")
        assert app.previewed.fragment.anchor == "second-heading"
        assert "otterlings" in app._q("#preview", Markdown).source


async def test_page_mode_opens_a_window_at_the_fragment_and_returns(reader_index, embedder):
    app = app_for(reader_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "quokkaflux")
        assert app.selected.fragment.anchor == "section-120"
        await pilot.press("ctrl+g")
        preview, pane = app._q("#preview", Markdown), app._q("#preview-pane")
        assert app.page_mode and "page mode" in str(pane.border_title)
        source = preview.source
        assert "## Section 120" in source
        assert "## Section 1\n" not in source and "## Section 200" not in source  # a window

        def first_shown() -> str:
            return str(next(b for b in preview.children if b.region.y >= pane.region.y + 1).source)

        # Landed on the fragment, not the window's top (waited for: under load the scroll can
        # land a frame after the window is mounted).
        await until(pilot, lambda: pane.scroll_y > 0)
        await until(pilot, lambda: "Section 120" in first_shown() or "quokkaflux" in first_shown(), 5)
        pane.focus()
        for _ in range(12):
            await pilot.press("pagedown")
        await until(pilot, lambda: "## Section 140" in preview.source)  # more sections mounted
        await pilot.press("escape")
        assert not app.page_mode and "page mode" not in str(pane.border_title)
        assert "## Section 140" not in preview.source


# --- layout ------------------------------------------------------------------------------


async def test_suggestions_sit_on_top_of_the_results_not_over_them(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "voyage_d")
        assert not app.query("#suggestions")  # no drop-down over the results
        results = app._q("#results", OptionList)
        assert app.suggestions and app.suggestions[0].text == "voyage_dimension"
        assert app.selected is app.result.hits[0]  # Enter still takes the first result
        for _ in range(len(app.suggestions)):
            await pilot.press("up")
        assert app.selected is None and app.focused is query_box(app)
        await pilot.press("enter")  # the hot link jumps to the fragment that defines it
        await until(pilot, lambda: app.result is not None and app.result.query == "voyage_dimension")
        assert app.result.hits[0].fragment.ref == "configuration.md#model-and-api-settings"
        assert results.option_count >= len(app.result.hits)


async def test_resize_reflows_and_80x24_stacks(corpus_index, embedder):
    def cut_lines(results) -> int:
        return sum("…" in results.render_line(y).text for y in range(results.size.height))

    app = app_for(corpus_index, embedder)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_query(pilot, app, "how do I exclude a folder from the index")
        results, pane = app._q("#results"), app._q("#preview-pane")
        assert app.screen.has_class("-narrow")
        assert results.region.y < pane.region.y and results.region.width >= 70  # stacked
        await pilot.resize_terminal(50, 24)
        await pilot.pause(0.2)
        narrow = cut_lines(results)
        await pilot.resize_terminal(220, 40)
        await pilot.pause(0.2)
        assert not app.screen.has_class("-narrow") and results.region.y == pane.region.y
        assert narrow > 0 and cut_lines(results) < narrow  # labels fitted to the new width at once


def test_labels_cut_anchors_in_the_middle():
    assert middle("fs.md#fspromisesreadfilepath-options-callback", 21) == "fs.md#fspr…s-callback"
    assert middle("short.md#a", 20) == "short.md#a"

    class F:
        heading, title, breadcrumb = "A heading", "Page", ("Page", "A heading")
        ref, source = "fs.md#fspromisesreadfilepath-options-callback-and-more", "api"

    class H:
        fragment, score = F(), 1.0

    second = result_label(H(), 1.0, width=40).plain.split("\n")[1]
    assert len(second) <= 40 and "…" in second and "back-and-more  api" in second


async def test_start_screen_teaches(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        await until(pilot, lambda: "fragments" in app._q("#preview", Markdown).source)
        source = app._q("#preview", Markdown).source
        assert str(corpus_index) in source and "Try one of these" in source
        examples = re.findall(r"^- `(.+)`$", source, re.MULTILINE)
        assert len(examples) >= 2
        assert "Esc" in source and "?" in source  # the keys


def footer_keys(app: DocsearchApp) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [k.description for k in app.screen.query(FooterKey)]


async def test_footer_and_palette_offer_what_works(corpus_index, embedder, tmp_path):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=(160, 34)) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        await pilot.pause(0.1)
        keys = footer_keys(app)
        assert "Summary" not in keys and "Edit" not in keys and keys.count("Quit") == 1  # nothing selected
        await type_query(pilot, app, "exit codes")
        await pilot.pause(0.1)
        keys = footer_keys(app)
        assert "Edit" in keys and "Page" in keys and "Summary" not in keys  # no LLM
        assert "Browse" not in keys and "Source" not in keys  # no base URL, one source
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles)) and "Keys" in titles and "Summary" not in titles
    app = DocsearchApp(make_settings(tmp_path / "nothing-here"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EmptyIndexScreen) and app.screen.query("#message"))
        await pilot.pause(0.1)
        keys = footer_keys(app)
        assert keys.count("Quit") == 1 and "Page" not in keys and "Edit" not in keys
        assert "docsearch index ./docs" in str(app.screen.query_one("#message").render())


async def test_summary_streams_and_lists_each_citation_once(corpus_index, embedder):
    from docsearch.llm.client import LLMClient, parse_llm
    from tests.fake_llm import FakeLLM

    fake = FakeLLM(respond=lambda s, u: "Exit code 4 means there is no index [1]; see [1] again.", api_key="")
    fake.start()
    try:
        llm = LLMClient(parse_llm("openai:local", fake.endpoint + "/v1"))
        app = app_for(corpus_index, embedder, llm=llm)
        async with app.run_test(size=(160, 34)) as pilot:
            await type_query(pilot, app, "docsearch exit codes")
            assert "Summary" in footer_keys(app)
            await pilot.press("ctrl+s")
            summary = app._q("#summary-text", Markdown)
            citations = app._q("#citations", OptionList)
            await until(pilot, lambda: citations.option_count >= 1)
            assert "Exit code 4 means there is no index [1]" in summary.source
            assert citations.option_count == 1 and "cli.md#exit-codes" not in summary.source
            assert len(fake.ok()) == 1  # on demand, not per keystroke
            app._q("#results", OptionList).highlighted = app._rows.index(("hit", 2))
            citations.focus()
            await pilot.press("down", "enter")
            assert app.focused is app._q("#results") and app.selected is app.result.hits[0]
    finally:
        fake.stop()


# --- output for other tools ----------------------------------------------------------------


async def test_print_mode_exits_with_path_and_line(corpus_index, embedder):
    app = app_for(corpus_index, embedder, print_format="{path}:{line} {anchor} [{url}]")
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await pilot.press("enter")
    f = app.result.hits[0].fragment
    assert app.return_value == f"{ROOT / 'corpus' / 'cli.md'}:{f.line_start} exit-codes []"


def test_print_format_is_checked():
    from docsearch.errors import InputError
    from docsearch.tui.output import check_format

    assert check_format("{path}:{line}") == "{path}:{line}"
    with pytest.raises(InputError, match="unknown field"):
        check_format("{nope}")
    with pytest.raises(InputError, match="print-format"):
        check_format("{path")


async def test_copy_gives_an_openable_path(corpus_index, embedder):
    app = app_for(corpus_index, embedder)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await pilot.press("ctrl+y")
        line = app.result.hits[0].fragment.line_start
        assert app.clipboard == f"{ROOT / 'corpus' / 'cli.md'}:{line}"


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


# --- the manual ----------------------------------------------------------------------------


def test_the_manual_lists_the_apps_keys():
    text = (ROOT / "corpus" / "terminal.md").read_text()
    table = text[text.index("| key | action |") :].split("\n\n")[0].splitlines()[2:]
    rows = [tuple(c.strip() for c in row.strip("|").split("|")) for row in table]
    assert [r[0] for r in rows] == [k for k, _ in KEYS]


# --- kept from before ----------------------------------------------------------------------


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
        query = query_box(app)
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


async def test_document_escape_sequences_never_reach_the_screen(tmp_path, embedder):
    from docsearch.index.indexer import Indexer

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.md").write_text(
        "# Evil \x1b]0;pwned\x07title\n\nText with \x1b[31mred\x1b[0m and a bell\x07 [x][e].\n\n"
        "[e]: <http://x\x1b[31m>\n"
    )
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs)
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "evil red")
        assert "\x1b" not in app._q("#preview", Markdown).source
        results = app._q("#results", OptionList)
        for option in range(results.option_count):
            lines = results.render_line(option).text
            assert "\x1b" not in lines and "\x07" not in lines
        await pilot.press("ctrl+g")
        assert "\x1b" not in app._q("#preview", Markdown).source


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
            summary = app._q("#summary-text", Markdown)
            await until(pilot, lambda: "See the table [1]." in summary.source)
            assert len(fake.ok()) == 1  # once, for the query typed last, not per keystroke
            await pilot.resize_terminal(120, 40)
            await pilot.pause(0.1)
            assert app.result.hits[0].fragment.ref == "cli.md#exit-codes"
    finally:
        fake.stop()


# --- the real binary -------------------------------------------------------------------------


class Tmux:
    """A private tmux server (its own socket, no config): the user's tmux is left alone."""

    def __init__(self, command: str, size: tuple[int, int] = (100, 30)) -> None:
        self.cmd = ["tmux", "-L", f"docsearch-test-{time.monotonic_ns()}", "-f", "/dev/null"]
        subprocess.run(
            [*self.cmd, "new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), command],
            check=True,
        )

    def send(self, *keys: str) -> None:
        subprocess.run([*self.cmd, "send-keys", "-t", "t", *keys], check=True)

    def screen(self) -> str:
        capture = [*self.cmd, "capture-pane", "-t", "t", "-p"]
        return subprocess.run(capture, capture_output=True, text=True).stdout

    def until(self, *texts: str, deadline: float) -> str:
        """The pane once every one of `texts` is on it (or at the deadline)."""
        screen = ""
        while time.monotonic() < deadline and not all(t in screen for t in texts):
            time.sleep(0.2)
            screen = self.screen()
        return screen

    def close(self) -> None:
        subprocess.run([*self.cmd, "kill-server"], check=False)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_binary_in_tmux(corpus_index, tmp_path):
    """The real `docsearch` in a real terminal: type, see the result, open it in $EDITOR."""
    opened = tmp_path / "editor-args"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {opened}\n')
    editor.chmod(0o755)
    command = f"cd {ROOT} && EDITOR={editor} DOCSEARCH_INDEX={corpus_index} {sys.executable} -m docsearch"
    tmux = Tmux(command)
    try:
        deadline = time.monotonic() + 60
        assert "Try one of these" in tmux.until("ready", "Try one of these", deadline=deadline)
        tmux.send("docsearch exit codes")
        # The results are painted first and the status line ("N results · T ms") after the
        # paint, so a capture can fall between the two: wait for both.
        screen = tmux.until("cli.md#exit-codes", " ms ", deadline=deadline)
        assert "cli.md#exit-codes" in screen and "results ·" in screen, screen
        tmux.send("Enter")  # the preview
        time.sleep(0.5)
        tmux.send("Enter")  # the editor
        while time.monotonic() < deadline and not opened.exists():
            time.sleep(0.2)
        assert opened.read_text().split()[1] == str(ROOT / "corpus" / "cli.md")
        assert opened.read_text().startswith("+")  # the +LINE convention
        assert "results ·" in tmux.until("results ·", deadline=deadline)  # back in the app
        tmux.send("C-c")
        time.sleep(0.5)
        assert "results ·" not in tmux.until("no server", deadline=time.monotonic() + 3)
    finally:
        tmux.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_print_in_tmux_like_fzf(corpus_index, tmp_path):
    """`vim $(docsearch --print)`: the UI draws on the terminal, the choice goes to stdout."""
    out = tmp_path / "chosen"
    run = f"DOCSEARCH_INDEX={corpus_index} {sys.executable} -m docsearch --print"
    command = f"cd {ROOT} && {run} > {out}; sleep 30"
    tmux = Tmux(command)
    try:
        deadline = time.monotonic() + 60
        tmux.until("ready", deadline=deadline)
        tmux.send("docsearch exit codes")
        tmux.until("cli.md#exit-codes", " ms ", deadline=deadline)
        tmux.send("Enter")
        while time.monotonic() < deadline and not (out.exists() and out.read_text()):
            time.sleep(0.2)
        path, line = out.read_text().strip().rsplit(":", 1)
        assert path == str(ROOT / "corpus" / "cli.md") and int(line) > 1
    finally:
        tmux.close()


async def test_the_cross_encoder_reorders_once_typing_pauses(corpus_index, embedder):
    settings = make_settings(corpus_index, rerank="local")
    asked: list[str] = []

    class Reverse:
        """A stand-in cross-encoder: it ranks the fused order backwards, so its pass shows."""

        name = "reverse"

        def score(self, query: str, passages: list[str]) -> list[float]:
            asked.append(query)
            return [float(i) for i in range(len(passages))]

    def factory() -> Searcher:
        searcher = Searcher(settings, embedder=embedder)
        searcher._rescorer = Reverse()
        return searcher

    app = DocsearchApp(settings, searcher_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        query = "docsearch exit codes"
        depth = settings.rerank_depth  # the cross-encoder reorders this many, then the top k show
        fused = [h.fragment.ref for h in app.searcher.search(query, top_k=depth, prefix_last=True).hits]
        query_box(app).value = query  # one change (keys typed under load could pause)
        await until(pilot, lambda: app.result is not None and app.result.query == query)
        await until(pilot, lambda: app.rescored)
        assert asked == [query]  # once, after the pause
        assert [h.fragment.ref for h in app.result.hits] == fused[::-1][: settings.top_k]
        assert "reranked" in str(app._q("#status").render())


async def test_rerank_not_installed_is_off_not_an_error(corpus_index, embedder):
    settings = make_settings(corpus_index, rerank="local")  # no cross-encoder in the cache dir
    app = app_for(corpus_index, embedder, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await type_query(pilot, app, "docsearch exit codes")
        await until(pilot, lambda: app._rescore_off)
        await pilot.press(*" again")
        await until(pilot, lambda: app.result.query == "docsearch exit codes again")
        assert app.result.hits and not app.rescored
