"""docsearch: find the exact paragraph of documentation you need, while you type.

The two pipelines are usable from Python without the CLI:

    from docsearch import Indexer, Searcher, Settings
    settings = Settings.resolve()
    Indexer(settings).index("docs")
    result = Searcher(settings).search("how do I read a file")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Indexer", "Searcher", "Settings", "__version__"]

if TYPE_CHECKING:
    from docsearch.index.indexer import Indexer
    from docsearch.search.searcher import Searcher
    from docsearch.settings import Settings


def __getattr__(name: str) -> object:
    # Lazy so that `import docsearch` stays cheap: a one-shot `ask` pays only for what it uses.
    if name == "Indexer":
        from docsearch.index.indexer import Indexer

        return Indexer
    if name == "Searcher":
        from docsearch.search.searcher import Searcher

        return Searcher
    if name == "Settings":
        from docsearch.settings import Settings

        return Settings
    raise AttributeError(name)
