"""Snapshots of the main screens (pytest-textual-snapshot). Update with `pytest --snapshot-update`
after a deliberate change, and look at the SVGs in tests/__snapshots__ before committing.

They search a small fixed corpus (tests/data/snapshot-docs), not the manual, so that editing
the manual does not change the pictures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from docsearch.search.searcher import Searcher
from docsearch.tui.app import DocsearchApp
from tests.conftest import make_settings

SIZE = (100, 30)
SNAPSHOT_DOCS = Path(__file__).parent / "data" / "snapshot-docs"


@pytest.fixture(scope="module")
def snapshot_index(tmp_path_factory, embedder) -> Path:
    from docsearch.index.indexer import Indexer

    index = tmp_path_factory.mktemp("snapshot-index") / "idx"
    Indexer(make_settings(index), embedder=embedder).index(SNAPSHOT_DOCS, source="docs")
    return index


def fixed_status(app: DocsearchApp) -> None:
    # Timings and sizes differ from run to run; the snapshot is about the layout. So does the
    # query's blinking cursor, now that the query keeps the focus.
    app.query_one("#status").update("10 results · timings hidden in snapshots")
    app.query_one("#query").cursor_blink = False


async def settle(pilot, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.02)


def test_main_screen_with_results(snap_compare, snapshot_index, embedder, tmp_path):
    # A cache dir of its own: other tests' query history would add "History" to the footer.
    settings = make_settings(snapshot_index, cache_dir=tmp_path / "cache")
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: app.searcher is not None)
        await pilot.press(*"docsearch exit codes")
        await settle(
            pilot,
            lambda: app.result is not None and app.result.query == "docsearch exit codes" and app.paint_ms,
        )
        await settle(pilot, lambda: app.preview_ms)  # the preview mounts after the list
        await pilot.pause(0.3)
        fixed_status(app)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, snapshot_index, embedder, tmp_path):
    settings = make_settings(snapshot_index, cache_dir=tmp_path / "cache")
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: app.searcher is not None)
        # The start screen names the index's folder, a new temporary one on every run.
        app._index_line = "the snapshot corpus"
        app._start_screen()
        fixed_status(app)
        await pilot.pause(0.3)
        await pilot.press("f1")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_empty_index_screen(snap_compare, tmp_path):
    # A relative path that exists nowhere, so that the message is the same on every machine.
    app = DocsearchApp(make_settings(Path("no-index-here")))

    async def run_before(pilot) -> None:
        await settle(pilot, lambda: app.screen.query("#message"))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
