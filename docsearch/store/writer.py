"""Writing the index: one run's changes, committed atomically, old versions retired safely.

Atomicity: LanceDB writes every change as a new table version and never changes an old one.
Readers open each table at the version named in meta.json, and a writer replaces meta.json
(store/meta.py) only once all its writes are done. A run that dies half-way leaves newer,
uncommitted versions that no reader looks at; the next writer first restores each table to its
committed version and carries on from there.

Before it writes, the writer verifies the committed index (store/verify.py, sha256 of every
file). A damaged one is moved, whole, into `damaged/` inside the index folder, and the run
rebuilds from nothing; the embedding cache gives back every vector the damaged index held, so
no model work is repeated.

Retiring old versions (store/retire.py): a commit's versions are deleted only once the commit
was *replaced* more than `keep_replaced` seconds ago and no reader holds a lease on it
(store/leases.py). Every other version (the intermediate ones of a run, leftovers of an
interrupted one) goes at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from docsearch.disk import disk_problem
from docsearch.embed.base import ModelIdentity
from docsearch.errors import DocsearchError, IndexDamagedError, IndexFormatError
from docsearch.model import Fragment, KeywordFields
from docsearch.store.leases import LEASES, create_lease_file, leased_commits
from docsearch.store.meta import META_FILE, IndexMeta, Replaced, read_meta, write_meta
from docsearch.store.reader import DAMAGED
from docsearch.store.retire import expired, retire_versions
from docsearch.store.schema import (
    ALIGNED,
    FORMAT_VERSION,
    FTS_COLUMNS,
    KEYED,
    TABLES,
    VOCABULARY,
    bits_column,
    count_words,
    float_column,
    fragment_rows,
    question_binary_schema,
    question_float_schema,
    table_schemas,
    vectors_to_numpy,
)
from docsearch.store.verify import (
    check_tables,
    is_read_error,
    open_tables,
    record_files,
    short_error,
    table_path,
)

KEEP_REPLACED = 600.0  # seconds a replaced commit stays readable (settings keep_replaced_minutes)


@dataclass(slots=True)
class Repair:
    """A damaged index this run set aside and rebuilt."""

    problems: list[str]
    set_aside: Path
    # The damaged index's sources, where its meta.json could still be read: a rebuild run
    # indexes one folder, so the others must be indexed again.
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)


class IndexWriter:
    """Applies one indexing run's changes and commits them atomically.

    Use as a context manager: it takes the index lock, verifies the committed index (setting a
    damaged one aside), brings every table back to its last committed version, and lets go of
    the lock on exit whether or not `commit` was called.
    """

    def __init__(
        self,
        index: Path,
        document_model: ModelIdentity,
        fingerprint: str,
        keep_replaced: float = KEEP_REPLACED,
        center_bits: bool = False,
    ) -> None:
        """`center_bits`: the model asks for centred sign bits (its model file says
        binary_center); a new index then takes its centre from the first rows written."""
        self.path = index
        self.document_model = document_model
        self.center_bits = center_bits
        self.center: np.ndarray | None = None
        self.fingerprint = fingerprint
        self.keep_replaced = keep_replaced
        self._lock_file: Any = None
        self.meta: IndexMeta | None = None
        self.repaired: Repair | None = None
        self._db: Any = None
        self._tables: dict[str, Any] = {}
        self.dirty = False

    def __enter__(self) -> IndexWriter:
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.path / "lock", "w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise DocsearchError(f"another `docsearch index` is writing {self.path}; try again") from None
        try:
            self._open()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _open(self) -> None:
        import lancedb

        if (self.path / META_FILE).exists():
            meta, problems = self._verified()
            if problems:
                self._set_aside(meta, problems)
            else:
                self.meta = meta  # None: another format's index, rebuilt from nothing
                if meta is not None and meta.binary_center is not None:
                    # The committed bits were taken around this centre: new rows must be too.
                    self.center = np.asarray(meta.binary_center, dtype=np.float32)
        if self.meta is not None:
            self._db = lancedb.connect(str(self.path / "db"))
            try:
                for name in TABLES:
                    table = self._db.open_table(name)
                    committed = self.meta.versions[name]
                    if table.version != committed:
                        # Newer versions are the leftovers of an interrupted run: drop back.
                        table.restore(committed)
                    self._tables[name] = table
            except Exception as exc:
                if not is_read_error(exc) or disk_problem(exc, self.path):
                    raise  # a full or read-only disk is not damage: nothing is set aside
                self._tables = {}
                self._set_aside(self.meta, [f"the tables do not open for writing: {short_error(exc)}"])
        if self.meta is None:
            # No committed index: anything here is a first run that never finished.
            shutil.rmtree(self.path / "db", ignore_errors=True)
            self._db = lancedb.connect(str(self.path / "db"))
            self._tables = {
                name: self._db.create_table(name, schema=schema)
                for name, schema in table_schemas(self.document_model.dim).items()
            }

    def _verified(self) -> tuple[IndexMeta | None, list[str]]:
        """The committed meta and what is wrong with the index it names."""
        try:
            meta = read_meta(self.path)
        except IndexFormatError as exc:
            # Written by another docsearch version: this one can neither read nor update it,
            # so it is rebuilt; the old commit file is kept beside it. Not damage.
            os.replace(self.path / META_FILE, self.path / f"{META_FILE}.format-{exc.found}")
            return None, []
        except IndexDamagedError as exc:
            return None, [exc.problem]
        tables, problems = open_tables(self.path, meta)
        if not problems:
            problems = check_tables(self.path, meta, tables, "deep")
        return meta, [str(p) for p in problems]

    def _set_aside(self, meta: IndexMeta | None, problems: list[str]) -> None:
        """Move the damaged index into `damaged/` (replacing one set aside before), so that
        this run starts from nothing and the user can still look at what was there."""
        target = self.path / DAMAGED
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        for name in (META_FILE, "db", LEASES):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path / name, target / name)
        when = time.strftime("%Y-%m-%d %H:%M:%S")
        (target / "problems.txt").write_text(
            f"set aside by `docsearch index` on {when}:\n" + "".join(f"- {p}\n" for p in problems),
            encoding="utf-8",
        )
        self.meta = None
        self.center = None  # the rebuild takes its own
        self.repaired = Repair(problems, target, dict(meta.sources) if meta else {})

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """A read of the committed tables that fails even though they verified (lance itself
        wrote something it cannot read back): one line, and nothing committed."""
        try:
            yield
        except (DocsearchError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            if not is_read_error(exc) or disk_problem(exc, self.path):
                raise
            raise IndexDamagedError(
                f"the index at {self.path} could not be read while updating it ({short_error(exc)}); "
                "nothing was committed"
            ) from None

    # -- reading the committed state -----------------------------------------------------------

    def existing(self) -> pa.Table:
        """id, source, path, content_hash, questions, held_out_question of every committed
        fragment."""
        columns = ["id", "source", "path", "content_hash", "questions", "held_out_question"]
        with self.guard():
            return self._tables["fragments"].to_lance().to_table(columns=columns)

    def vectors_for(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Committed float vectors by id, so moved or unchanged text is never embedded twice."""
        if not ids:
            return {}
        out: dict[int, np.ndarray] = {}
        table = self._tables["float"]
        for batch in _batches(list(ids), 2000):
            with self.guard():
                rows = table.search().where(_in_clause(batch)).select(["id", "vector"]).to_arrow()
            vecs = vectors_to_numpy(rows.column("vector"), self.document_model.dim)
            for i, v in zip(rows.column("id").to_pylist(), vecs, strict=True):
                out[i] = v.astype(np.float32)
        return out

    def question_vectors_for(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Committed question vectors by fragment id ([questions, dim], in question order)."""
        if not ids:
            return {}
        rows_by_id: dict[int, list[tuple[int, np.ndarray]]] = {}
        for batch in _batches(list(ids), 2000):
            with self.guard():
                query = self._tables["qfloat"].search().where(_in_clause(batch))
                rows = query.select(["id", "n", "vector"]).to_arrow()
            vecs = vectors_to_numpy(rows.column("vector"), self.document_model.dim)
            for i, n, v in zip(
                rows.column("id").to_pylist(), rows.column("n").to_pylist(), vecs, strict=True
            ):
                rows_by_id.setdefault(i, []).append((n, v.astype(np.float32)))
        return {
            i: np.stack([v for _, v in sorted(rows, key=lambda r: r[0])]) for i, rows in rows_by_id.items()
        }

    def _centered(self, vectors: np.ndarray) -> np.ndarray:
        return vectors if self.center is None else vectors - self.center

    # -- changes ---------------------------------------------------------------------------------

    def delete(self, ids: Sequence[int]) -> None:
        for batch in _batches(list(ids), 1000):
            clause = _in_clause(batch)
            for name in KEYED:
                self._tables[name].delete(clause)
            self.dirty = True

    def add(
        self,
        fragments: Sequence[Fragment],
        fields: Sequence[KeywordFields],
        vectors: np.ndarray,
        question_vectors: Sequence[np.ndarray | None] | None = None,
    ) -> None:
        """Rows for `fragments` in every table; `fields[i]` holds fragment i's searchable
        fields (built by the index pipeline), `question_vectors[i]` one vector per question of
        fragment i (None or empty when it has none)."""
        if not fragments:
            return
        ids = pa.array([f.id for f in fragments], pa.int64())
        dim = self.document_model.dim
        schemas = table_schemas(dim)
        if self.center_bits and self.center is None and self._tables["binary"].count_rows() == 0:
            # The mean of the first rows stands for the corpus's: what centring removes is the
            # direction every vector shares, which any few hundred of them show. It is kept
            # for the life of the index, so the committed bits never need rewriting.
            self.center = vectors.mean(axis=0).astype(np.float32)
        bits = bits_column(self._centered(vectors), dim)
        binary = pa.table({"id": ids, "bits": bits}, schema=schemas["binary"])
        floats = pa.table({"id": ids, "vector": float_column(vectors, dim)}, schema=schemas["float"])
        self._tables["fragments"].add(fragment_rows(fragments, fields))
        self._tables["binary"].add(binary)
        self._tables["float"].add(floats)
        pairs = [
            (f.id, q)
            for f, q in zip(fragments, question_vectors or [None] * len(fragments), strict=True)
            if q is not None and len(q)
        ]
        if pairs:
            qids = pa.array([i for i, q in pairs for _ in range(len(q))], pa.int64())
            ns = pa.array([n for _, q in pairs for n in range(len(q))], pa.int32())
            qvectors = np.concatenate([q for _, q in pairs]).astype(np.float32)
            self._tables["qbinary"].add(
                pa.table(
                    {"id": qids, "n": ns, "bits": bits_column(self._centered(qvectors), dim)},
                    schema=question_binary_schema(dim),
                )
            )
            self._tables["qfloat"].add(
                pa.table(
                    {"id": qids, "n": ns, "vector": float_column(qvectors, dim)},
                    schema=question_float_schema(dim),
                )
            )
        self.dirty = True

    # -- committing ------------------------------------------------------------------------------

    def commit(self, sources: dict[str, dict[str, Any]], query_model: ModelIdentity) -> IndexMeta:
        """Rebuild the full-text indexes, check row alignment, record every file the new
        versions read, switch meta.json over, then retire what no reader can need any more."""
        fragments = self._tables["fragments"]
        count = fragments.count_rows()
        if self.dirty or self.meta is None:
            self._check_aligned()
            if count:
                with warnings.catch_warnings():
                    # Deprecated in favour of an async-only API; still the sync way to do this.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    for column in FTS_COLUMNS:
                        fragments.create_fts_index(
                            column, replace=True, use_tantivy=False, with_position=True
                        )
            self._tables[VOCABULARY].add(count_words(fragments.to_lance()), mode="overwrite")
        now = time.time()
        old = self.meta
        versions = {name: int(self._tables[name].version) for name in TABLES}
        known = old.files if old else {}
        files = {
            name: record_files(
                table_path(self.path, name), self._tables[name].to_lance(), known.get(name, {})
            )
            for name in TABLES
        }
        if old is None:
            # Past any lease file left in the folder (a deleted meta.json), never reusing one.
            commit = max([0, *leased_commits(self.path)]) + 1
            replaced: list[Replaced] = []
        elif versions != old.versions:
            commit = old.commit + 1
            replaced = [*old.replaced, Replaced(old.commit, old.versions, now)]
        else:
            commit, replaced = old.commit, list(old.replaced)
        kept, retired = expired(self.path, replaced, now, self.keep_replaced)
        create_lease_file(self.path, commit)  # before meta.json names the commit
        meta = IndexMeta(
            format=FORMAT_VERSION,
            document_model=self.document_model,
            query_model=query_model,
            fingerprint=self.fingerprint,
            versions=versions,
            count=count,
            sources=sources,
            created=old.created if old else now,
            updated=now if self.dirty or old is None else old.updated,
            commit=commit,
            replaced=kept,
            files=files,
            binary_center=None if self.center is None else [float(x) for x in self.center],
        )
        write_meta(self.path, meta)
        self.meta = meta
        retire_versions(self.path, self._tables, meta, retired)
        return meta

    def _check_aligned(self) -> None:
        ids = [self._tables[name].to_lance().to_table(columns=["id"]).column("id") for name in ALIGNED]
        if not (ids[0].equals(ids[1]) and ids[0].equals(ids[2])):
            raise DocsearchError("internal error: index tables are out of step; nothing was committed")


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _in_clause(ids: Sequence[int]) -> str:
    return "id IN (" + ", ".join(str(int(i)) for i in ids) + ")"
