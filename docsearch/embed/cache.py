"""A persistent embedding cache: a paid-for vector is never paid for twice.

Keyed by sha256 of (model, input type, dimension, text), so the same text embedded for another
model, dimension or side (document/query) is a different entry. Vectors are stored as float32
bytes in SQLite (stdlib, one file, safe with several processes, and every insert is durable
once its transaction commits) under the user cache dir.

API embedders write each finished request here as soon as it arrives. That is what makes an
interrupted `docsearch index` resumable: the next run finds those texts cached and only asks
the API for the rest.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from docsearch.cache import connect

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
