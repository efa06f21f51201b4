"""One Searcher for a long-lived process (the TUI, `docsearch mcp`): loaded once, kept warm,
and reopened over the new commit when `docsearch index` has committed since.

The shells differ only in what they build beside each searcher (the TUI its suggester) and in
how they tell the user something (a notification, a line on stderr), so those are arguments;
when to reopen, which searcher is handed out and when the replaced one is closed live here.

- `start()` loads on a background thread, so that a server can answer its handshake before the
  model is in; `get()` waits for that load, or loads on its own thread when nothing started one.
- A load that failed (no index yet, a model that does not match it) raises from `get()` and is
  tried again on the next call, so a process started before the index was made needs no restart.
- A new commit that cannot be opened (being rebuilt, damaged) keeps the searcher held in use;
  `on_reopen_error` hears of it once per distinct message, not once per keystroke.
- A search still running on another thread may be reading the replaced searcher: it is closed
  (its lease on the old commit given back) only at the next reopen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from docsearch.errors import DocsearchError
from docsearch.settings import Settings

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher

T = TypeVar("T")

REOPEN_FAILED = "the index changed but cannot be reopened"


def warm_up(searcher: Searcher) -> None:
    """Pay the one-time costs (ONNX session start, the first full-text query) before the
    first real query; nothing is built beside the searcher."""
    searcher.search("docsearch", top_k=1)


class WarmSearcher(Generic[T]):
    def __init__(
        self,
        settings: Settings,
        prepare: Callable[[Searcher], T],
        factory: Callable[[], Searcher] | None = None,
        *,
        on_reopened: Callable[[Searcher, T], None] | None = None,
        on_reopen_error: Callable[[str], None] | None = None,
    ) -> None:
        """`prepare` warms a freshly opened searcher up and returns what the shell keeps beside
        it (handed out with it by `get`); `factory` (tests) builds the searcher instead of
        `Searcher(settings)`; `on_reopened` is called once per reopen, on the thread that
        reopened; `on_reopen_error` gets a one-line message."""
        self.settings = settings
        self._prepare = prepare
        self._factory = factory
        self._on_reopened = on_reopened
        self._on_reopen_error = on_reopen_error
        self._lock = threading.Lock()  # one thread opens or reopens at a time
        self._ready = threading.Event()
        self._started = False
        self._held: tuple[Searcher, T] | None = None
        self._retired: Searcher | None = None  # the one before, closed at the next reopen
        self._reopen_error = ""  # the last reopen failure reported

    def start(self) -> None:
        """Begin loading in the background; `get` waits for it."""
        self._started = True
        threading.Thread(target=self._load, name="docsearch-load", daemon=True).start()

    def _load(self) -> None:
        try:
            with self._lock:
                if self._held is None:
                    self._held = self._open()
        except DocsearchError:
            pass  # the first `get` tries again and raises it
        finally:
            self._ready.set()

    def _open(self, embedder: Any = None) -> tuple[Searcher, T]:
        if self._factory is not None:
            searcher = self._factory()
        else:
            from docsearch.search.searcher import Searcher

            searcher = Searcher(self.settings, embedder=embedder)  # the loaded model, when reopening
        # Every query reranks: hold the float vectors in memory when they fit.
        searcher.rerank.preload(self.settings.float_memory_mb * 1_000_000)
        return searcher, self._prepare(searcher)

    @property
    def held(self) -> tuple[Searcher, T] | None:
        """The searcher held now, without waiting, loading or reopening (None before a load)."""
        return self._held

    def get(self) -> tuple[Searcher, T]:
        """The searcher over the index as committed now, and what `prepare` built beside it;
        raises the one-line DocsearchError when no searcher can be opened at all."""
        if self._started:
            self._ready.wait()  # else this call loads it
        held = self._held
        if held is not None and not held[0].changed():
            return held  # the common case takes no lock
        with self._lock:
            current = self._held
            if current is None:
                self._held = self._open()  # raises what is wrong, one line
                return self._held
            if not current[0].changed():
                return current  # another thread reopened meanwhile
            try:
                fresh = self._open(embedder=current[0].embedder)
            except DocsearchError as exc:
                if exc.message != self._reopen_error:
                    self._reopen_error = exc.message
                    if self._on_reopen_error is not None:
                        self._on_reopen_error(f"{REOPEN_FAILED}: {exc.message}")
                return current
            self._reopen_error = ""
            self._held = fresh
            retired, self._retired = self._retired, current[0]
        if retired is not None:
            retired.close()
        if self._on_reopened is not None:
            self._on_reopened(*fresh)
        return fresh

    def close(self) -> None:
        for searcher in (self._held[0] if self._held else None, self._retired):
            if searcher is not None:
                searcher.close()
