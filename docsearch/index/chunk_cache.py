"""Index stage helper: the fragments of a file, remembered by the file's exact content.

Parsing markdown is most of the cost of re-indexing a folder where nothing changed (about
0.3 ms per fragment with markdown-it). A file whose bytes, path and source name are the same
as last time, chunked with the same settings by the same docsearch, gives the same fragments,
so they are read back from `cache_dir/chunks.sqlite` instead. The cache only saves work: the
indexer still compares every fragment with the committed index, as if it had parsed it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from docsearch import __version__
from docsearch.cache import TextStore
from docsearch.model import Fragment

# Bump when chunk() would cut the same text differently (released versions differ anyway).
CHUNKER_VERSION = 3  # 3: link reference definitions are not text

_TUPLES = ("breadcrumb", "questions", "hot_links")


def chunk_key(
    source: str, path: str, text: str, chunk_tokens: int, overlap: int, slug_style: str = "github"
) -> str:
    """The cache key of one file's fragments: everything that decides how it is cut, and its
    anchors (the slug style follows an mkdocs.yml beside the folder, not the file)."""
    digest = hashlib.sha256()
    parts = (__version__, str(CHUNKER_VERSION), source, path, str(chunk_tokens), str(overlap), slug_style)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class ChunkCache:
    def __init__(self, path: Path) -> None:
        self._store = TextStore(path, "chunks", value_column="fragments")

    def get_many(self, keys: Sequence[str]) -> dict[str, list[Fragment]]:
        out: dict[str, list[Fragment]] = {}
        for key, value in self._store.get_many(keys).items():
            try:
                rows = json.loads(value)
                out[key] = [
                    Fragment(**{k: tuple(v) if k in _TUPLES else v for k, v in row.items()}) for row in rows
                ]
            except (ValueError, TypeError):
                continue  # written by an incompatible docsearch: parse the file again
        return out

    def put_many(self, items: Sequence[tuple[str, list[Fragment]]]) -> None:
        self._store.put_many(
            (key, json.dumps([dataclasses.asdict(f) for f in fragments], ensure_ascii=False))
            for key, fragments in items
        )
