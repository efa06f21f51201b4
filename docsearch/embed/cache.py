"""A persistent embedding cache: a paid-for vector is never paid for twice.

Keyed by sha256 of (model, input type, dimension, text), so the same text embedded for another
model, dimension or side (document/query) is a different entry. Vectors are stored as float32
bytes in SQLite (stdlib, one file, safe with several processes, and every insert is durable
once its transaction commits) under the user cache dir.

API embedders write each finished request here as soon as it arrives. That is what makes an
interrupted `docsearch index` resumable: the next run finds those texts cached and only asks
the API for the rest. Local models go through `CachedEmbedder`, so that rebuilding an index
(a damaged one that `docsearch index` set aside) repeats no model work either.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from docsearch.cache import connect
from docsearch.embed.base import Embedder, EmbedProgress, ModelIdentity, ProgressFn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    key BLOB PRIMARY KEY,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL
) WITHOUT ROWID
"""


def cache_key(model: str, input_type: str, dim: int, text: str) -> bytes:
    digest = hashlib.sha256()
    for part in (model, input_type, str(dim)):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection shared by the embedder's threads, guarded by a lock: writes are
        # small and SQLite serializes them anyway.
        self._db = connect(path)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get_many(self, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE dim = ? AND key IN ({marks})", [dim, *chunk]
                )
                for key, blob in rows:
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def fill(self, keys: Sequence[bytes], out: np.ndarray) -> list[int]:
        """Copy the cached vectors of `keys` into the rows of `out`; the rows still missing.

        `out` has one row per key and the vector size as its width; a stored vector of another
        size (a model re-exported at a new dimension under the same key) counts as missing.
        """
        dim = out.shape[1]
        found = self.get_many(keys, dim)
        missing: list[int] = []
        for row, key in enumerate(keys):
            vector = found.get(key)
            if vector is not None and len(vector) == dim:
                out[row] = vector
            else:
                missing.append(row)
        return missing

    def put_many(self, model: str, dim: int, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, model, dim, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (key, model, dim, vector) VALUES (?, ?, ?, ?)", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEmbedder:
    """A local model's document vectors through the embedding cache.

    Local models cost no money, but a rebuild (a damaged index set aside, a new index folder)
    would otherwise embed every fragment again: minutes of CPU on a large corpus. `recipe`
    names everything the vector depends on besides the text (weights, prefix, pooling, length,
    dimension), so a change to any of them misses the cache instead of returning stale vectors.
    Queries are not cached here (the embedder keeps its own small in-memory cache).
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache, recipe: str) -> None:
        self.inner = inner
        self.cache = cache
        self._recipe = recipe

    @property
    def identity(self) -> ModelIdentity:
        return self.inner.identity

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def centers_binary(self) -> bool:
        return bool(getattr(self.inner, "centers_binary", False))

    def embed_documents(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        dim = self.identity.dim
        keys = [cache_key(self._recipe, "document", dim, t) for t in texts]
        out = np.empty((len(texts), dim), dtype=np.float32)
        todo = self.cache.fill(keys, out)
        if progress and len(texts) > len(todo):
            hits = len(texts) - len(todo)
            progress(EmbedProgress(texts=hits, cached=hits))
        if todo:
            vectors = self.inner.embed_documents([texts[r] for r in todo], progress=progress)
            out[todo] = vectors
            self.cache.put_many(
                self.identity.name, dim, [(keys[r], v) for r, v in zip(todo, vectors, strict=True)]
            )
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)
