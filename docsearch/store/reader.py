"""The committed index, opened read-only with pylance at the versions meta.json names.

Opening takes a lease on the commit (store/leases.py), so the writer keeps its files while this
reader lives, then checks cheaply that every file the commit reads is there (store/verify.py).
Any error from reading a committed table later is turned into one IndexDamagedError line by
`guard`, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from docsearch.errors import DocsearchError, IndexDamagedError, IndexMissingError
from docsearch.model import Fragment
from docsearch.store.leases import Lease, take_lease
from docsearch.store.meta import META_FILE, IndexMeta, damaged, read_meta
from docsearch.store.schema import (
    FRAGMENT_COLUMNS,
    VOCABULARY,
    fixed_binary_to_numpy,
    rows_to_fragments,
    vectors_to_numpy,
)
from docsearch.store.verify import check_tables, is_read_error, open_tables, raise_first, short_error

if TYPE_CHECKING:
    import lance

# Rows per batch when the packed bits are read into memory.
BINARY_BATCH = 65_536

# Where `docsearch index` puts a damaged index it replaced (store/writer.py).
DAMAGED = "damaged"


def _stamp(index: Path) -> tuple[int, int, int] | None:
    """Changes whenever meta.json is replaced (the writer renames a new file over it)."""
    try:
        st = os.stat(index / META_FILE)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _open_leased(index: Path) -> tuple[IndexMeta, Lease | None]:
    """meta.json and a lease on its commit, taken so that the commit is still kept once held."""
    for _ in range(5):
        meta = read_meta(index)
        lease = take_lease(index, meta.commit)
        if lease is None:
            return meta, None  # no leases here: the retention time protects this reader
        # The writer may have moved on, and even deleted this commit, while the lease was being
        # taken: it is safe to read only if the commit is still current or still kept.
        if _kept(index, meta.commit):
            return meta, lease
        lease.release()
    raise IndexMissingError(f"the index at {index} changed five times while it was opened: try again")


def _kept(index: Path, commit: int) -> bool:
    """Whether meta.json still names `commit`, as the current commit or a kept one."""
    try:
        now = read_meta(index)
    except DocsearchError:
        return False
    return now.commit == commit or any(r.commit == commit for r in now.replaced)


def _gone(index: Path) -> IndexMissingError:
    return IndexMissingError(
        f"the index at {index} was updated while this search read it, and the version it read is "
        "gone (see keep_replaced_minutes): search again"
    )


class IndexReader:
    def __init__(self, index: Path) -> None:
        self.path = index
        try:
            import lance  # noqa: F401
        except ImportError as exc:  # pragma: no cover - a broken install
            raise DocsearchError(f"cannot import lance: {exc}") from None
        for _ in range(5):
            self._stamp = _stamp(index)
            self.meta, self._lease = _open_leased(index)
            tables, problems = open_tables(index, self.meta)
            if not problems:
                problems = check_tables(index, self.meta, tables, "quick")
            if not problems:
                break
            self.close()
            if _kept(index, self.meta.commit):
                raise_first(index, problems)  # the commit it names is damaged
            # Else it was retired between reading meta.json and opening it (no lease could be
            # had, and the retention time ran out): open the commit that replaced it.
        else:
            raise _gone(index)
        self.fragments: lance.LanceDataset = tables["fragments"]
        self.binary: lance.LanceDataset = tables["binary"]
        self.float: lance.LanceDataset = tables["float"]
        self.qbinary: lance.LanceDataset = tables["qbinary"]
        self.qfloat: lance.LanceDataset = tables["qfloat"]
        self.vocabulary: lance.LanceDataset = tables[VOCABULARY]

    def close(self) -> None:
        """Let go of the commit: the writer may delete it once it is old enough."""
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    def changed(self) -> bool:
        """Whether a newer commit has replaced the one this reader opened (one stat, no read)."""
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return False
        try:
            changed = read_meta(self.path).commit != self.meta.commit
        except DocsearchError:
            return True  # gone or damaged: reopening will say what is wrong
        if not changed:
            self._stamp = stamp  # rewritten with the same commit (a run that changed nothing)
        return changed

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Turn an error from reading a committed table into one line (exit code 4)."""
        try:
            yield
        except DocsearchError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if not is_read_error(exc):
                raise
            raise self._damaged(exc) from None

    def _damaged(self, exc: BaseException) -> IndexMissingError:
        """Name what is wrong. A failed read is rare, so this can afford the checksums of every
        file (a bit flip keeps a file's size); where they find nothing, lance's own words,
        without claiming to know more."""
        if not _kept(self.path, self.meta.commit):
            return _gone(self.path)
        tables, problems = open_tables(self.path, self.meta)
        if not problems:
            problems = check_tables(self.path, self.meta, tables, "deep")
        if problems:
            try:
                raise_first(self.path, problems)
            except IndexDamagedError as named:
                return named
        return IndexMissingError(
            f"reading the index at {self.path} failed ({short_error(exc)}): "
            "`docsearch status --check` verifies every file of it"
        )

    # -- reads -------------------------------------------------------------------------------

    def load_binary(self) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, packed bits), in row order."""
        table = self.binary.to_table(columns=["id", "bits"])
        ids = table.column("id").to_numpy()
        bits = fixed_binary_to_numpy(table.column("bits"), self.meta.document_model.dim // 8)
        return ids, bits

    def load_binary_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, bits stored column-major: one row per 64-bit word position, or per byte when
        the width is not a multiple of 8), read batch by batch straight into place, so that
        peak memory is the result plus one batch, not the whole table three times over."""
        width = self.meta.document_model.dim // 8
        unit = np.uint64 if width % 8 == 0 else np.uint8
        words = width // np.dtype(unit).itemsize
        n = self.binary.count_rows()
        ids = np.empty(n, np.int64)
        columns = np.empty((words, n), unit)
        at = 0
        for batch in self.binary.to_batches(columns=["id", "bits"], batch_size=BINARY_BATCH):
            rows = len(batch)
            if at + rows > n:
                break
            ids[at : at + rows] = batch.column(0).to_numpy()
            bits = fixed_binary_to_numpy(batch.column(1), width)
            columns[:, at : at + rows] = np.ascontiguousarray(bits).view(unit).T
            at += rows
        if at != n:
            raise damaged(self.path, f"the binary table reads {at} rows of the {n} it lists")
        return ids, columns

    def load_question_bits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All question rows: (fragment ids, question numbers, packed bits), in row order."""
        table = self.qbinary.to_table(columns=["id", "n", "bits"])
        bits = fixed_binary_to_numpy(table.column("bits"), self.meta.document_model.dim // 8)
        return table.column("id").to_numpy(), table.column("n").to_numpy(), bits

    def load_vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every indexed word, sorted, with its count."""
        table = self.vocabulary.to_table(columns=["word", "count"])
        return table.column("word").to_pylist(), table.column("count").to_numpy()

    def take_vectors(self, positions: np.ndarray, table_name: str = "float") -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 vectors) of the rows at `positions` of `float` (or `qfloat`), from disk."""
        if len(positions) == 0:
            return np.zeros(0, np.int64), np.zeros((0, self.meta.document_model.dim), np.float32)
        dataset = self.float if table_name == "float" else self.qfloat
        table = dataset.take(np.asarray(positions, dtype=np.int64), columns=["id", "vector"])
        ids = table.column("id").to_numpy()
        vectors = vectors_to_numpy(table.column("vector"), self.meta.document_model.dim)
        return ids, vectors.astype(np.float32)

    def all_vectors(self, dtype: type = np.float32) -> np.ndarray:
        """Every float vector, in row order (float32 unless `dtype` says otherwise)."""
        table = self.float.to_table(columns=["vector"])
        vectors = vectors_to_numpy(table.column("vector"), self.meta.document_model.dim)
        return vectors.astype(dtype, copy=False)

    def take_fragments(self, positions: Sequence[int]) -> list[Fragment]:
        if not positions:
            return []
        table = self.fragments.take(list(positions), columns=FRAGMENT_COLUMNS)
        return rows_to_fragments(table)

    def take_texts(self, positions: Sequence[int]) -> list[str]:
        """The body text of the rows at `positions` (ascending), in row order."""
        if not positions:
            return []
        return self.fragments.take(list(positions), columns=["text"]).column("text").to_pylist()

    def column(self, name: str) -> pa.ChunkedArray:
        return self.fragments.to_table(columns=[name]).column(name)

    def size_on_disk(self) -> int:
        """Bytes of the index folder, without a damaged index set aside in it."""
        total = 0
        for root, folders, files in os.walk(self.path):
            if Path(root) == self.path and DAMAGED in folders:
                folders.remove(DAMAGED)
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(root, name))
        return total
