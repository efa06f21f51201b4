"""The on-disk index: three LanceDB tables and the `meta.json` that commits them.

Layout of an index folder:
    db/fragments.lance   one row per fragment, with full-text indexes (see search/keyword.py)
    db/binary.lance      id + packed sign bits of the document vector, uint8[dim/8]
    db/float.lance       id + the document vector, float16[dim]
    meta.json            format, models, and the table *versions* that make up the index
    lock                 held by a writer

Atomicity: LanceDB writes every change as a new table version and never changes an old one.
Readers open each table at the version named in meta.json, and a writer replaces meta.json
(write to a temp file, fsync, rename) only once all its writes are done. A run that dies
half-way leaves newer, uncommitted versions that no reader looks at; the next writer first
restores each table to its committed version and carries on from there.

The three tables are kept row-aligned (same ids in the same order): every write deletes the
same ids from each and appends rows in the same order, so row i of `binary` and row i of
`float` belong to the same fragment and the rerank can fetch vectors by position.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from docsearch.embed.base import ModelIdentity, pack_sign_bits
from docsearch.errors import (
    DocsearchError,
    IndexDamagedError,
    IndexFormatError,
    IndexMissingError,
)
from docsearch.model import Fragment, KeywordFields

if TYPE_CHECKING:
    import lance

FORMAT_VERSION = 4  # 2: questions, hot links, question vectors; 3: the vocabulary table;
# 4: one main keyword field (kw_all) beside kw_heading, the deprecated flag
# fragments, binary and float are row-aligned (one row per fragment, same order); the
# question tables hold one row per generated question, keyed by (fragment id, n).
KEYED = ("fragments", "binary", "float", "qbinary", "qfloat")
ALIGNED = ("fragments", "binary", "float")
# Every indexed word with its count, rewritten whole at each commit: prefix completion and
# typo correction read this instead of scanning every fragment's text at query time.
VOCABULARY = "vocabulary"
TABLES = (*KEYED, VOCABULARY)
META_FILE = "meta.json"

# Rows per batch when the packed bits are read into memory.
BINARY_BATCH = 65_536

# Text fields that get a full-text index (index/fields.py says what each holds); the ranker
# decides how they are weighed.
FTS_COLUMNS = ("kw_all",)


def fragment_schema() -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.int64()),
            ("source", pa.string()),
            ("path", pa.string()),
            ("anchor", pa.string()),
            ("part", pa.int32()),
            ("title", pa.string()),
            ("heading", pa.string()),
            ("breadcrumb", pa.list_(pa.string())),
            ("level", pa.int32()),
            ("line_start", pa.int32()),
            ("line_end", pa.int32()),
            ("text", pa.string()),
            ("token_count", pa.int32()),
            ("content_hash", pa.string()),
            ("questions", pa.list_(pa.string())),
            ("hot_links", pa.list_(pa.string())),
            ("kw_all", pa.string()),
            ("kw_heading", pa.string()),
            ("deprecated", pa.bool_()),
            ("held_out_question", pa.string()),
        ]
    )


def binary_schema(dim: int) -> pa.Schema:
    return pa.schema([("id", pa.int64()), ("bits", pa.binary(dim // 8))])


def float_schema(dim: int) -> pa.Schema:
    return pa.schema([("id", pa.int64()), ("vector", pa.list_(pa.float16(), dim))])


def question_binary_schema(dim: int) -> pa.Schema:
    return pa.schema([("id", pa.int64()), ("n", pa.int32()), ("bits", pa.binary(dim // 8))])


def question_float_schema(dim: int) -> pa.Schema:
    return pa.schema([("id", pa.int64()), ("n", pa.int32()), ("vector", pa.list_(pa.float16(), dim))])


def vocabulary_schema() -> pa.Schema:
    return pa.schema([("word", pa.string()), ("count", pa.int64())])


# What a word is, for the vocabulary: the complement of this pattern, lowercased, 2+ chars.
_NON_WORD = r"[^a-z0-9_]+"


def count_words(dataset: lance.LanceDataset) -> pa.Table:
    """(word, count) over the keyword fields of every fragment, computed by Arrow in batches
    so that a million fragments never sit in memory as Python strings."""
    import pyarrow.compute as pc

    parts: list[pa.Array] = []
    for batch in dataset.to_batches(columns=list(FTS_COLUMNS), batch_size=8192):
        for column in batch.columns:
            words = pc.list_flatten(pc.split_pattern_regex(pc.utf8_lower(column), _NON_WORD))
            parts.append(pc.filter(words, pc.greater_equal(pc.utf8_length(words), 2)))
    if not parts:
        return vocabulary_schema().empty_table()
    counted = pc.value_counts(pa.chunked_array(parts, pa.string()))
    table = pa.table(
        {"word": counted.field("values"), "count": counted.field("counts").cast(pa.int64())},
        schema=vocabulary_schema(),
    )
    return table.sort_by("word")


def _bits_column(vectors: np.ndarray, dim: int) -> pa.Array:
    return pa.array([b.tobytes() for b in pack_sign_bits(vectors)], pa.binary(dim // 8))


def _float_column(vectors: np.ndarray, dim: int) -> pa.Array:
    flat = pa.array(vectors.astype(np.float16).reshape(-1), pa.float16())
    return pa.FixedSizeListArray.from_arrays(flat, dim)


@dataclass(slots=True)
class IndexMeta:
    format: int
    document_model: ModelIdentity
    query_model: ModelIdentity
    fingerprint: str  # of the document model
    versions: dict[str, int]
    count: int
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: float = 0.0
    updated: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "document_model": self.document_model.as_dict(),
            "query_model": self.query_model.as_dict(),
            "fingerprint": self.fingerprint,
            "versions": self.versions,
            "count": self.count,
            "sources": self.sources,
            "created": self.created,
            "updated": self.updated,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexMeta:
        return cls(
            format=int(data["format"]),
            document_model=ModelIdentity(**data["document_model"]),
            query_model=ModelIdentity(**data["query_model"]),
            fingerprint=str(data["fingerprint"]),
            versions={k: int(v) for k, v in data["versions"].items()},
            count=int(data["count"]),
            sources=dict(data.get("sources", {})),
            created=float(data.get("created", 0)),
            updated=float(data.get("updated", 0)),
        )


def read_meta(index: Path) -> IndexMeta:
    path = index / META_FILE
    if not path.is_file():
        raise IndexMissingError(f"no index at {index}: run `docsearch index DIR` first")
    try:
        meta = IndexMeta.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        raise IndexDamagedError(
            f"the index at {index} is unreadable: rebuild it with `docsearch index DIR`"
        ) from None
    if meta.format != FORMAT_VERSION:
        raise IndexFormatError(
            f"the index at {index} has format {meta.format}, this docsearch reads format "
            f"{FORMAT_VERSION}: rebuild it with `docsearch index DIR`",
            found=meta.format,
        )
    return meta


def _write_meta(index: Path, meta: IndexMeta) -> None:
    tmp = index / (META_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta.to_json(), f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index / META_FILE)
    with contextlib.suppress(OSError):  # make the rename itself durable
        fd = os.open(index, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fragment_rows(fragments: Sequence[Fragment], fields: Sequence[KeywordFields]) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [] for name in fragment_schema().names}
    for f, kw in zip(fragments, fields, strict=True):
        cols["id"].append(f.id)
        cols["source"].append(f.source)
        cols["path"].append(f.path)
        cols["anchor"].append(f.anchor)
        cols["part"].append(f.part)
        cols["title"].append(f.title)
        cols["heading"].append(f.heading)
        cols["breadcrumb"].append(list(f.breadcrumb))
        cols["level"].append(f.level)
        cols["line_start"].append(f.line_start)
        cols["line_end"].append(f.line_end)
        cols["text"].append(f.text)
        cols["token_count"].append(f.token_count)
        cols["content_hash"].append(f.content_hash)
        cols["questions"].append(list(f.questions))
        cols["held_out_question"].append(f.held_out_question)
        cols["hot_links"].append(list(f.hot_links))
        cols["kw_all"].append(kw.kw_all)
        cols["kw_heading"].append(kw.kw_heading)
        cols["deprecated"].append(kw.deprecated)
    return pa.table(cols, schema=fragment_schema())


_FRAGMENT_COLUMNS = [
    "id", "source", "path", "anchor", "part", "title", "heading", "breadcrumb", "level",
    "line_start", "line_end", "text", "token_count", "content_hash", "questions", "hot_links",
    "held_out_question",
]  # fmt: skip


def rows_to_fragments(table: pa.Table) -> list[Fragment]:
    data = table.select(_FRAGMENT_COLUMNS).to_pylist()
    for row in data:
        row["breadcrumb"] = tuple(row["breadcrumb"])
        row["questions"] = tuple(row["questions"] or ())
        row["hot_links"] = tuple(row["hot_links"] or ())
    return [Fragment(**row) for row in data]


def _fixed_binary_to_numpy(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(arr) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    buf = arr.buffers()[1]
    data = np.frombuffer(buf, dtype=np.uint8, count=(arr.offset + len(arr)) * width)
    return data[arr.offset * width :].reshape(len(arr), width)


def _vectors_to_numpy(column: pa.ChunkedArray | pa.Array, dim: int) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    values = arr.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(arr), dim)


class IndexReader:
    """The committed index, opened read-only with pylance at the versions meta.json names."""

    def __init__(self, index: Path) -> None:
        self.path = index
        self.meta = read_meta(index)
        try:
            import lance
        except ImportError as exc:  # pragma: no cover - a broken install
            raise DocsearchError(f"cannot import lance: {exc}") from None
        try:
            self.fragments: lance.LanceDataset = lance.dataset(
                str(index / "db" / "fragments.lance"), version=self.meta.versions["fragments"]
            )
            self.binary: lance.LanceDataset = lance.dataset(
                str(index / "db" / "binary.lance"), version=self.meta.versions["binary"]
            )
            self.float: lance.LanceDataset = lance.dataset(
                str(index / "db" / "float.lance"), version=self.meta.versions["float"]
            )
            self.qbinary: lance.LanceDataset = lance.dataset(
                str(index / "db" / "qbinary.lance"), version=self.meta.versions["qbinary"]
            )
            self.qfloat: lance.LanceDataset = lance.dataset(
                str(index / "db" / "qfloat.lance"), version=self.meta.versions["qfloat"]
            )
            self.vocabulary: lance.LanceDataset = lance.dataset(
                str(index / "db" / f"{VOCABULARY}.lance"), version=self.meta.versions[VOCABULARY]
            )
        except (OSError, ValueError, RuntimeError, KeyError):
            raise IndexMissingError(
                f"the index at {index} is damaged: rebuild it with `docsearch index DIR`"
            ) from None

    def load_binary(self) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, packed bits), in row order."""
        table = self.binary.to_table(columns=["id", "bits"])
        ids = table.column("id").to_numpy()
        bits = _fixed_binary_to_numpy(table.column("bits"), self.meta.document_model.dim // 8)
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
            ids[at : at + rows] = batch.column(0).to_numpy()
            bits = _fixed_binary_to_numpy(batch.column(1), width)
            columns[:, at : at + rows] = np.ascontiguousarray(bits).view(unit).T
            at += rows
        if at != n:
            raise IndexDamagedError(f"the binary table at {self.path} changed while it was read")
        return ids, columns

    def load_question_bits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All question rows: (fragment ids, question numbers, packed bits), in row order."""
        table = self.qbinary.to_table(columns=["id", "n", "bits"])
        bits = _fixed_binary_to_numpy(table.column("bits"), self.meta.document_model.dim // 8)
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
        vectors = _vectors_to_numpy(table.column("vector"), self.meta.document_model.dim)
        return ids, vectors.astype(np.float32)

    def all_vectors(self, dtype: type = np.float32) -> np.ndarray:
        """Every float vector, in row order (float32 unless `dtype` says otherwise)."""
        table = self.float.to_table(columns=["vector"])
        vectors = _vectors_to_numpy(table.column("vector"), self.meta.document_model.dim)
        return vectors.astype(dtype, copy=False)

    def take_fragments(self, positions: Sequence[int]) -> list[Fragment]:
        if not positions:
            return []
        table = self.fragments.take(list(positions), columns=_FRAGMENT_COLUMNS)
        return rows_to_fragments(table)

    def take_texts(self, positions: Sequence[int]) -> list[str]:
        """The body text of the rows at `positions` (ascending), in row order."""
        if not positions:
            return []
        return self.fragments.take(list(positions), columns=["text"]).column("text").to_pylist()

    def column(self, name: str) -> pa.ChunkedArray:
        return self.fragments.to_table(columns=[name]).column(name)

    def size_on_disk(self) -> int:
        total = 0
        for root, _, files in os.walk(self.path):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(root, name))
        return total


class IndexWriter:
    """Applies one indexing run's changes and commits them atomically.

    Use as a context manager: it takes the index lock, brings every table back to its last
    committed version, and lets go of the lock on exit whether or not `commit` was called.
    """

    def __init__(self, index: Path, document_model: ModelIdentity, fingerprint: str) -> None:
        self.path = index
        self.document_model = document_model
        self.fingerprint = fingerprint
        self._lock_file: Any = None
        self.meta: IndexMeta | None = None
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
        import lancedb

        self._db = lancedb.connect(str(self.path / "db"))
        meta_path = self.path / META_FILE
        if meta_path.is_file():
            try:
                self.meta = read_meta(self.path)
            except IndexFormatError as exc:
                # Written by another docsearch version: this one can neither read nor update
                # it, so it is rebuilt; the old commit file is kept beside it.
                os.replace(meta_path, self.path / f"{META_FILE}.format-{exc.found}")
            except IndexDamagedError:
                # A damaged commit file cannot say which versions are good: keep it for
                # inspection and rebuild, which is what the error on the read side advises.
                os.replace(meta_path, self.path / (META_FILE + ".damaged"))
        if self.meta is not None:
            for name in TABLES:
                table = self._db.open_table(name)
                committed = self.meta.versions[name]
                if table.version != committed:
                    # Newer versions are the leftovers of an interrupted run: drop back.
                    table.restore(committed)
                self._tables[name] = table
        else:
            # No committed index: anything here is a first run that never finished.
            shutil.rmtree(self.path / "db", ignore_errors=True)
            self._db = lancedb.connect(str(self.path / "db"))
            dim = self.document_model.dim
            self._tables = {
                "fragments": self._db.create_table("fragments", schema=fragment_schema()),
                "binary": self._db.create_table("binary", schema=binary_schema(dim)),
                "float": self._db.create_table("float", schema=float_schema(dim)),
                "qbinary": self._db.create_table("qbinary", schema=question_binary_schema(dim)),
                "qfloat": self._db.create_table("qfloat", schema=question_float_schema(dim)),
                VOCABULARY: self._db.create_table(VOCABULARY, schema=vocabulary_schema()),
            }
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    # -- reading the committed state -----------------------------------------------------------

    def existing(self) -> pa.Table:
        """id, source, path, content_hash, questions, held_out_question of every committed
        fragment."""
        return (
            self._tables["fragments"]
            .to_lance()
            .to_table(columns=["id", "source", "path", "content_hash", "questions", "held_out_question"])
        )

    def vectors_for(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Committed float vectors by id, so moved or unchanged text is never embedded twice."""
        if not ids:
            return {}
        out: dict[int, np.ndarray] = {}
        table = self._tables["float"]
        for batch in _batches(list(ids), 2000):
            rows = table.search().where(_in_clause(batch)).select(["id", "vector"]).to_arrow()
            vecs = _vectors_to_numpy(rows.column("vector"), self.document_model.dim)
            for i, v in zip(rows.column("id").to_pylist(), vecs, strict=True):
                out[i] = v.astype(np.float32)
        return out

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
        binary = pa.table({"id": ids, "bits": _bits_column(vectors, dim)}, schema=binary_schema(dim))
        floats = pa.table({"id": ids, "vector": _float_column(vectors, dim)}, schema=float_schema(dim))
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
                    {"id": qids, "n": ns, "bits": _bits_column(qvectors, dim)},
                    schema=question_binary_schema(dim),
                )
            )
            self._tables["qfloat"].add(
                pa.table(
                    {"id": qids, "n": ns, "vector": _float_column(qvectors, dim)},
                    schema=question_float_schema(dim),
                )
            )
        self.dirty = True

    def question_vectors_for(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Committed question vectors by fragment id ([questions, dim], in question order)."""
        if not ids:
            return {}
        rows_by_id: dict[int, list[tuple[int, np.ndarray]]] = {}
        for batch in _batches(list(ids), 2000):
            rows = (
                self._tables["qfloat"]
                .search()
                .where(_in_clause(batch))
                .select(["id", "n", "vector"])
                .to_arrow()
            )
            vecs = _vectors_to_numpy(rows.column("vector"), self.document_model.dim)
            for i, n, v in zip(
                rows.column("id").to_pylist(), rows.column("n").to_pylist(), vecs, strict=True
            ):
                rows_by_id.setdefault(i, []).append((n, v.astype(np.float32)))
        return {
            i: np.stack([v for _, v in sorted(rows, key=lambda r: r[0])]) for i, rows in rows_by_id.items()
        }

    def commit(self, sources: dict[str, dict[str, Any]], query_model: ModelIdentity) -> IndexMeta:
        """Rebuild the full-text indexes, check row alignment, then switch meta.json over."""
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
        meta = IndexMeta(
            format=FORMAT_VERSION,
            document_model=self.document_model,
            query_model=query_model,
            fingerprint=self.fingerprint,
            versions={name: int(self._tables[name].version) for name in TABLES},
            count=count,
            sources=sources,
            created=self.meta.created if self.meta else now,
            updated=now if self.dirty or self.meta is None else self.meta.updated,
        )
        _write_meta(self.path, meta)
        self.meta = meta
        if self.dirty:
            # Old versions stay readable for a while for processes that opened them (a TUI).
            for name in TABLES:
                with contextlib.suppress(Exception):
                    self._tables[name].to_lance().cleanup_old_versions(older_than=timedelta(minutes=10))
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
