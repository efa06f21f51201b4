"""Readers never break: a commit keeps the versions readers opened, for `keep_replaced_minutes`
after the commit that replaced them and as long as a reader holds them, and no longer.

The retention window is shortened to a second or two here; every index starts with its last
commit older than the window (the case where deleting by a version's *age* broke readers)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import lance
import pytest

from docsearch.index.indexer import Indexer
from docsearch.search.searcher import Searcher
from docsearch.store.reader import IndexReader
from docsearch.tui.app import DocsearchApp

from .conftest import CORPUS, ROOT, make_settings

WINDOW_MINUTES = 1.5 / 60  # 1.5 s
PAST_WINDOW = 1.7  # seconds: longer than the window


@pytest.fixture
def small(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("cli.md", "storage.md"):
        shutil.copy(CORPUS / name, folder / name)
    return folder


def edit(docs: Path, n: int) -> None:
    """A new page each time: every run commits new versions of every keyed table."""
    (docs / f"page{n}.md").write_text(f"# Pelican page {n}\n\nPelicans number {n} nest on cliffs.\n")


def versions_on_disk(index: Path, table: str = "fragments") -> set[int]:
    return {v["version"] for v in lance.dataset(str(index / "db" / f"{table}.lance")).versions()}


def test_a_held_commit_survives_commits_and_goes_once_released(tmp_path, small, embedder):
    settings = make_settings(tmp_path / "idx", keep_replaced_minutes=WINDOW_MINUTES)
    index = Indexer(settings, embedder=embedder)
    index.index(small)
    time.sleep(PAST_WINDOW)  # the index is older than the window
    held = Searcher(settings, embedder=embedder)
    held_versions = held.reader.meta.versions
    assert held.search("atomic rename").hits[0].fragment.ref == "storage.md#crash-safety"

    edit(small, 1)
    index.index(small)  # replaces the held commit: kept for the window, and as long as held
    assert held.changed()
    middle = IndexReader(settings.index).meta.versions  # opened and let go at once
    for n in (2, 3):
        time.sleep(PAST_WINDOW)
        edit(small, n)
        index.index(small)
    # Both commits before the last are past the window: the middle one is gone, the held one not.

    on_disk = versions_on_disk(settings.index)
    assert held_versions["fragments"] in on_disk
    assert middle["fragments"] not in on_disk  # nobody holds it: deleted, disk use stays bounded
    # The held reader reads everything it opened, its lazily read text included.
    held.rows.clear()
    assert held.search("atomic rename").hits[0].fragment.ref == "storage.md#crash-safety"
    assert not any(h.fragment.path.startswith("page") for h in held.search("pelicans").hits)  # its commit

    held.close()
    time.sleep(PAST_WINDOW)
    edit(small, 4)
    index.index(small)
    assert held_versions["fragments"] not in versions_on_disk(settings.index)
    with pytest.raises(ValueError, match="not found"):
        lance.dataset(str(settings.index / "db" / "fragments.lance"), version=held_versions["fragments"])
    # What is left: the current commit, and the one just replaced (inside its window).
    assert len(IndexReader(settings.index).meta.replaced) == 1


def test_a_replaced_commit_is_kept_for_the_window_without_any_lease(tmp_path, small, embedder):
    """Where flock does not work (some network file systems), the window alone protects a
    reader that has just read meta.json."""
    settings = make_settings(tmp_path / "idx", keep_replaced_minutes=WINDOW_MINUTES)
    index = Indexer(settings, embedder=embedder)
    index.index(small)
    time.sleep(PAST_WINDOW)
    first = IndexReader(settings.index)
    first.close()  # as if no lease could be taken
    edit(small, 1)
    index.index(small)
    edit(small, 2)
    index.index(small)  # the first commit was replaced a moment ago: still there
    assert first.meta.versions["fragments"] in versions_on_disk(settings.index)
    assert len(first.fragments.to_table(columns=["text"])) == first.meta.count


ASKS = """
import os, subprocess, sys
index, stop = sys.argv[1], sys.argv[2]
ask = [sys.executable, "-m", "docsearch", "ask", "atomic rename", "--index", index, "--no-summary"]
while not os.path.exists(stop):
    p = subprocess.run(ask, capture_output=True, text=True)
    last = p.stderr.strip().splitlines()[-1:] if p.returncode else ""
    print(p.returncode, "crash-safety" in p.stdout, last, flush=True)
"""


def test_cli_asks_racing_reindexes_never_fail(tmp_path, small, embedder):
    settings = make_settings(tmp_path / "idx", keep_replaced_minutes=WINDOW_MINUTES)
    index = Indexer(settings, embedder=embedder)
    index.index(small)
    time.sleep(PAST_WINDOW)
    stop = tmp_path / "stop"
    loops = [
        subprocess.Popen(
            [sys.executable, "-c", ASKS, str(settings.index), str(stop)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        n = 0
        # Twelve re-indexes racing the two ask loops (bounded in time on a slow machine).
        deadline = time.monotonic() + 40
        while n < 12 and time.monotonic() < deadline:
            n += 1
            edit(small, n)
            index.index(small)
            time.sleep(0.3)
    finally:
        stop.touch()
        outputs = [p.communicate(timeout=120)[0] for p in loops]
    results = [line for out in outputs for line in out.splitlines()]
    assert len(results) >= 4 and n >= 8, (len(results), n)
    assert all(line.startswith("0 True") for line in results), "\n".join(results)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_tui_reopens_the_new_commit_on_its_next_search(tmp_path, small, embedder):
    from .test_tui import SIZE, until

    settings = make_settings(tmp_path / "idx", keep_replaced_minutes=WINDOW_MINUTES)
    index = Indexer(settings, embedder=embedder)
    index.index(small)
    time.sleep(PAST_WINDOW)
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        await pilot.press(*"pelican")
        await until(pilot, lambda: app.result is not None and app.result.query == "pelican")
        assert not any(h.fragment.path.startswith("page") for h in app.result.hits)
        first = app.searcher
        first_versions = first.reader.meta.versions

        # Two commits while the TUI is open, the first replaced longer ago than the window:
        # its versions stay (the TUI holds them) and reading them still works.
        for n in (1, 2):
            edit(small, n)
            await asyncio.to_thread(index.index, small)  # the app runs on
            await asyncio.sleep(PAST_WINDOW)
        assert first_versions["fragments"] in versions_on_disk(settings.index)

        await pilot.press("s")  # the first key after the re-index: reopen, never crash
        await until(pilot, lambda: app.result is not None and app.result.query == "pelicans")
        assert app.searcher is not first
        assert {"page1.md", "page2.md"} <= {h.fragment.path for h in app.result.hits}
        assert "fragments" in str(app.query_one("#status").render())

        # The replaced searcher is let go at the next reopen; then its commit can go.
        edit(small, 3)
        await asyncio.to_thread(index.index, small)  # the app runs on
        await pilot.press("backspace")
        await until(pilot, lambda: app.result is not None and app.result.query == "pelican")
        assert {"page3.md"} <= {h.fragment.path for h in app.result.hits}
        await asyncio.sleep(PAST_WINDOW)
        edit(small, 4)
        await asyncio.to_thread(index.index, small)  # the app runs on
        assert first_versions["fragments"] not in versions_on_disk(settings.index)
