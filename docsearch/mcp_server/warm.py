"""The Searcher `docsearch mcp` answers from: built once, in the background, and kept warm.

The Searcher (index tables, packed bits, the embedding model) is built on a thread started
once the server can answer, so that the `initialize` handshake never waits for a model; the
first call that needs it waits instead. It is then kept for the life of the process, and
replaced by a new one (with the same loaded model) when `docsearch index` commits, as the TUI
does. A Searcher that could not be built (no index yet, a model that does not match it) is
tried again on the next call, so an agent that started before the index was made needs no
restart.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from docsearch.errors import DocsearchError
from docsearch.mcp_server.pages import PageMap
from docsearch.settings import Settings

if TYPE_CHECKING:
    from docsearch.search.searcher import Searcher


class WarmSearcher:
    def __init__(self, settings: Settings, factory: Callable[[], Searcher] | None = None) -> None:
        self.settings = settings
        self._factory = factory  # tests: a searcher over a given embedder, or a slow one
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._started = False
        self._searcher: Searcher | None = None
        self._retired: Searcher | None = None  # the one before, closed at the next reopen
        self._pages: PageMap | None = None
        self._reopen_error = ""

    def start(self) -> None:
        """Begin loading in the background; calls wait for it (see `get`)."""
        self._started = True
        threading.Thread(target=self._load, name="docsearch-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self._searcher = self._open()
        except DocsearchError:
            pass  # the first call tries again and reports it
        finally:
            self._ready.set()

    def _open(self, embedder: Any = None) -> Searcher:
        if self._factory is not None:
            searcher = self._factory()
        else:
            from docsearch.search.searcher import Searcher

            searcher = Searcher(self.settings, embedder=embedder)
        # Every call reranks: hold the float vectors in memory when they fit, and pay the
        # one-time costs (ONNX session start, the first full-text query) before the first call.
        searcher.rerank.preload(self.settings.float_memory_mb * 1_000_000)
        searcher.search("docsearch", top_k=1)
        return searcher

    def get(self) -> Searcher:
        """The searcher over the index as committed now."""
        if self._started:
            self._ready.wait()  # else the first call loads it
        retired = None
        with self._lock:
            current = self._searcher
            if current is None:
                self._searcher = self._open()  # raises what is wrong, one line
                self._pages = None
            elif current.changed():
                try:
                    fresh = self._open(embedder=current.embedder)
                except DocsearchError as exc:
                    # The new commit cannot be opened (being rebuilt, damaged): keep answering
                    # from the one held, and say so once on stderr.
                    if exc.message != self._reopen_error:
                        self._reopen_error = exc.message
                        print(
                            f"warning: the index changed but cannot be reopened: {exc.message}",
                            file=sys.stderr,
                        )
                    return current
                self._reopen_error = ""
                # A call still running on a worker thread may be reading `current`: it is
                # closed (its lease given back) only at the next reopen.
                retired, self._retired = self._retired, current
                self._searcher, self._pages = fresh, None
            searcher = self._searcher
        if retired is not None:
            retired.close()
        return searcher

    def pages(self) -> tuple[Searcher, PageMap]:
        """The searcher and the page map of the same commit (built on first use)."""
        searcher = self.get()
        with self._lock:
            if self._pages is None or self._pages.reader is not searcher.reader:
                self._pages = PageMap(searcher.reader)
            return searcher, self._pages

    def close(self) -> None:
        for searcher in (self._searcher, self._retired):
            if searcher is not None:
                searcher.close()
