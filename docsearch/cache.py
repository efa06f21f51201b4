"""A small persistent key/value store on SQLite, shared by the caches that keep text.

SQLite is in the standard library, keeps one file, is safe with several processes, and makes
every write durable once its transaction commits. One connection is shared by a process's
threads behind a lock: writes are small and SQLite serializes them anyway.

A cache only saves work, so it never stops a run: a cache file that cannot be opened, read or
written (a full disk, a read-only cache dir) is reported once as a warning on the `docsearch`
logger and the run goes on without it (`CacheFile`). A search never fails for its cache.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from docsearch.disk import disk_problem

log = logging.getLogger("docsearch.cache")

# SQLite's default limit on host parameters is 999; stay well under it.
_BATCH = 500

_warned: set[tuple[str, str]] = set()


def connect(path: Path) -> sqlite3.Connection:
    """An autocommit connection in WAL mode (readers never wait for the writer), usable from
    any thread of this process; callers serialize their own use of it with a lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    except BaseException:
        db.close()
        raise
    return db


class CacheFile:
    """One SQLite cache file that degrades instead of failing.

    Opening fails → no cache (every read misses, writes are dropped). A read fails → that read
    misses. A write fails → it is rolled back where SQLite has not already done so (after a
    failed COMMIT it has, and a second ROLLBACK raised "cannot rollback - no transaction is
    active" over the real error), and no more writes are tried. Each is one warning.
    """

    def __init__(self, path: Path, setup: Sequence[str]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._writable = True
        try:
            db = connect(path)
        except (sqlite3.Error, OSError) as exc:
            self._warn(exc, "opened")
            return
        try:
            for statement in setup:
                db.execute(statement)
        except sqlite3.Error as exc:
            db.close()
            self._warn(exc, "opened")
            return
        self._db = db

    @property
    def usable(self) -> bool:
        return self._db is not None

    def select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None:
                return []
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                self._warn(exc, "read")
                return []

    def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> bool:
        """Insert `rows` in one transaction; False when they were not stored."""
        if not rows:
            return True
        with self._lock:
            if self._db is None or not self._writable:
                return False
            db = self._db
            try:
                db.execute("BEGIN")
                db.executemany(sql, rows)
                db.execute("COMMIT")
                return True
            except sqlite3.Error as exc:
                self._rollback(db)
                self._writable = False
                self._warn(exc, "written")
                return False
            except BaseException:
                self._rollback(db)
                raise

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")

    def _warn(self, exc: BaseException, verb: str) -> None:
        key = (str(self.path), verb)
        if key in _warned:
            return
        _warned.add(key)
        problem = disk_problem(exc, self.path.parent) or f"{type(exc).__name__}: {exc}"
        log.warning("the cache %s cannot be %s (%s); carrying on without it", self.path, verb, problem)


class TextStore:
    """Text values by text key, in table `table` of the SQLite file at `path`."""

    def __init__(self, path: Path, table: str, value_column: str = "value") -> None:
        if not (table.isidentifier() and value_column.isidentifier()):
            raise ValueError("table and column names must be identifiers")
        self.path = path
        self._table = table
        self._value = value_column
        schema = f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, {value_column} TEXT NOT NULL)"
        self._file = CacheFile(path, [schema])

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), _BATCH):
            batch = list(keys[start : start + _BATCH])
            marks = ",".join("?" * len(batch))
            query = f"SELECT key, {self._value} FROM {self._table} WHERE key IN ({marks})"
            found.update(self._file.select(query, batch))
        return found

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        sql = f"INSERT OR REPLACE INTO {self._table} (key, {self._value}) VALUES (?, ?)"
        self._file.write_many(sql, list(items))
