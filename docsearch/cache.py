"""A small persistent key/value store on SQLite, shared by the caches that keep text.

SQLite is in the standard library, keeps one file, is safe with several processes, and makes
every write durable once its transaction commits. One connection is shared by a process's
threads behind a lock: writes are small and SQLite serializes them anyway.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

# SQLite's default limit on host parameters is 999; stay well under it.
_BATCH = 500


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection in WAL mode (readers never wait for the writer), usable from
    any thread of this process; callers serialize their own use of it with a lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    return db


class TextStore:
    """Text values by text key, in table `table` of the SQLite file at `path`."""

    def __init__(self, path: Path, table: str, value_column: str = "value") -> None:
        if not (table.isidentifier() and value_column.isidentifier()):
            raise ValueError("table and column names must be identifiers")
        self.path = path
        self._table = table
        self._value = value_column
        self._db = connect(path)
        self._lock = threading.Lock()
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, {value_column} TEXT NOT NULL)"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(keys), _BATCH):
                batch = list(keys[start : start + _BATCH])
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, {self._value} FROM {self._table} WHERE key IN ({marks})"
                found.update(self._db.execute(query, batch))
        return found

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        rows = list(items)
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    f"INSERT OR REPLACE INTO {self._table} (key, {self._value}) VALUES (?, ?)", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
