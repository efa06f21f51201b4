"""WarmSearcher (search/warm.py): the one searcher a long-lived process holds, over fake
searchers so that each rule is seen on its own (the TUI's and the MCP server's tests drive it
over real indexes and re-indexes)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from docsearch.errors import DocsearchError, IndexMissingError
from docsearch.search.warm import REOPEN_FAILED, WarmSearcher

from .conftest import make_settings


class FakeRerank:
    def __init__(self) -> None:
        self.preloaded: list[int] = []

    def preload(self, budget: int) -> None:
        self.preloaded.append(budget)


class FakeSearcher:
    """What WarmSearcher uses of a Searcher: changed, search, rerank, embedder, close."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stale = False  # `docsearch index` committed since it opened
        self.closed = False
        self.queries: list[str] = []
        self.rerank = FakeRerank()
        self.embedder = object()

    def changed(self) -> bool:
        return self.stale

    def search(self, query: str, **_: Any) -> None:
        self.queries.append(query)

    def close(self) -> None:
        self.closed = True


def opens(*outcomes: FakeSearcher | DocsearchError) -> Callable[[], Any]:
    """A factory that opens each outcome in turn (raising the errors)."""
    queue = list(outcomes)

    def factory() -> Any:
        outcome = queue.pop(0)
        if isinstance(outcome, DocsearchError):
            raise outcome
        return outcome

    return factory


def prepare(searcher: Any) -> str:
    searcher.search("warm-up")
    return f"beside {searcher.name}"


@pytest.fixture
def settings(tmp_path):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path / "idx", float_memory_mb=3)


def test_the_first_get_loads_preloads_and_prepares(settings):
    a = FakeSearcher("a")
    warm = WarmSearcher(settings, prepare, opens(a))
    assert warm.held is None
    assert warm.get() == (a, "beside a")
    assert warm.get() == (a, "beside a")  # opened once, then kept
    assert a.rerank.preloaded == [3_000_000] and a.queries == ["warm-up"]
    assert warm.held == (a, "beside a")


def test_get_waits_for_the_background_load(settings):
    a, entered, release = FakeSearcher("a"), threading.Event(), threading.Event()

    def slow() -> FakeSearcher:
        entered.set()
        release.wait(30)
        return a

    warm = WarmSearcher(settings, prepare, slow)
    warm.start()
    assert entered.wait(30)
    got: list[Any] = []
    caller = threading.Thread(target=lambda: got.append(warm.get()))
    caller.start()
    caller.join(0.2)
    assert caller.is_alive() and not got  # still loading: the call waits
    release.set()
    caller.join(30)
    assert got == [(a, "beside a")]


def test_a_failed_load_is_raised_then_tried_again(settings):
    a = FakeSearcher("a")
    missing = IndexMissingError("no index at idx: run `docsearch index DIR` first")
    warm = WarmSearcher(settings, prepare, opens(missing, missing, a))
    warm.start()  # fails in the background, silently
    with pytest.raises(IndexMissingError, match="no index"):
        warm.get()  # tried again, and said
    assert warm.get() == (a, "beside a")  # the index exists now: no restart needed


def test_a_new_commit_is_reopened_with_the_loaded_model_and_the_old_one_closed_later(settings):
    a, b, c = FakeSearcher("a"), FakeSearcher("b"), FakeSearcher("c")
    reopened: list[tuple[Any, str]] = []
    warm = WarmSearcher(settings, prepare, opens(a, b, c), on_reopened=lambda s, x: reopened.append((s, x)))
    assert warm.get()[0] is a
    a.stale = True
    assert warm.get() == (b, "beside b")
    assert reopened == [(b, "beside b")]
    assert not a.closed  # a search on another thread may still be reading it
    b.stale = True
    assert warm.get()[0] is c
    assert a.closed and not b.closed  # closed at the next reopen
    warm.close()
    assert b.closed and c.closed


def test_without_a_factory_the_reopen_keeps_the_loaded_model(settings, monkeypatch):
    import docsearch.search.searcher as searcher_module

    a, b = FakeSearcher("a"), FakeSearcher("b")
    built: list[Any] = []

    def fake_searcher(settings_: Any, embedder: Any = None) -> FakeSearcher:
        built.append(embedder)
        return [a, b][len(built) - 1]

    monkeypatch.setattr(searcher_module, "Searcher", fake_searcher)
    warm = WarmSearcher(settings, prepare)
    warm.get()
    a.stale = True
    assert warm.get()[0] is b
    assert built == [None, a.embedder]  # the model is not loaded twice


def test_a_commit_that_cannot_be_opened_keeps_the_held_one_and_is_said_once(settings):
    a, b = FakeSearcher("a"), FakeSearcher("b")
    rebuilding = DocsearchError("the index is being rebuilt")
    said: list[str] = []
    warm = WarmSearcher(settings, prepare, opens(a, rebuilding, rebuilding, b), on_reopen_error=said.append)
    warm.get()
    a.stale = True
    assert warm.get()[0] is a
    assert warm.get()[0] is a  # every query tries again, and keeps searching
    assert said == [f"{REOPEN_FAILED}: the index is being rebuilt"]  # once, not per query
    assert warm.get()[0] is b


def test_threads_racing_a_reopen_open_it_once(settings):
    a, b = FakeSearcher("a"), FakeSearcher("b")
    entered, release = threading.Event(), threading.Event()
    opened: list[str] = []

    def factory() -> FakeSearcher:
        if not opened:
            opened.append("a")
            return a
        opened.append("b")
        entered.set()
        release.wait(30)
        return b

    reopened: list[Any] = []
    warm = WarmSearcher(settings, prepare, factory, on_reopened=lambda s, _: reopened.append(s))
    warm.get()
    a.stale = True
    got: list[Any] = []
    first = threading.Thread(target=lambda: got.append(warm.get()[0]))
    first.start()
    assert entered.wait(30)  # the first thread is reopening
    second = threading.Thread(target=lambda: got.append(warm.get()[0]))
    second.start()
    release.set()
    first.join(30)
    second.join(30)
    assert got == [b, b] and opened == ["a", "b"] and reopened == [b]
