"""Is the committed index what its commit says? Used three ways:

- every reader, when it opens the index (`quick`): each table opens at its committed version,
  every file those versions read is there at its recorded size, and the row counts agree with
  meta.json. A few stats per file, no reading: a deleted table, manifest, data file or
  full-text index file is reported as such before a search trips over it.
- `docsearch index` before it writes (`deep`): the same, and every file's sha256 against the
  one recorded at commit, so a truncated or bit-flipped file is found even where it would still
  decode. A damaged index is set aside and rebuilt (store/writer.py).
- `docsearch status --check` (`full`): deep, and every table read whole and one full-text query
  run, which also covers an index written before file records existed.

Each problem is one line a user can read: which table or file, and what is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from docsearch.errors import IndexDamagedError, IndexFormatError
from docsearch.store.meta import FileRecord, IndexMeta, read_meta
from docsearch.store.schema import ALIGNED, FORMAT_VERSION, FTS_COLUMNS, TABLES, table_schemas

if TYPE_CHECKING:
    import lance

Level = Literal["quick", "deep", "full"]

# The file kinds lance lists for a version; transaction files are never read to open or scan one.
_READ_KINDS = ("manifest", "data file", "deletion file", "index file")


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # "meta.json" or a table name
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}" if self.where != "meta.json" else self.what


def short_error(exc: BaseException) -> str:
    """An exception as one short line: lance's messages carry Rust source locations and
    absolute paths that mean nothing to a user."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r",?\s*/\S+\.rs:\d+:\d+", "", text)
    return text[:200]


def is_read_error(exc: BaseException) -> bool:
    """What lance and Arrow raise on files that are missing or do not decode. A Rust panic
    reaches Python as pyo3's PanicException, which derives from BaseException."""
    import pyarrow as pa

    if isinstance(exc, OSError | ValueError | RuntimeError | pa.ArrowException):
        return True
    return type(exc).__name__ == "PanicException"


def table_path(index: Path, name: str) -> Path:
    return index / "db" / f"{name}.lance"


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def committed_files(dataset: lance.LanceDataset) -> dict[str, str]:
    """path (inside the table folder) → kind, of every file the dataset's version reads."""
    version = dataset.version
    table = dataset.tracked_files(min_version=version).read_all()
    out: dict[str, str] = {}
    for row in table.select(["version", "path", "type"]).to_pylist():
        if row["version"] == version and row["type"] in _READ_KINDS:
            out[row["path"]] = row["type"]
    return out


def record_files(
    folder: Path, dataset: lance.LanceDataset, known: dict[str, FileRecord]
) -> dict[str, FileRecord]:
    """Size and sha256 of every file `dataset`'s version reads. Lance never rewrites a file,
    so one recorded at an earlier commit is taken as recorded; only new files are hashed."""
    out: dict[str, FileRecord] = {}
    for path in committed_files(dataset):
        full = folder / path
        size = full.stat().st_size
        old = known.get(path)
        out[path] = old if old is not None and old.size == size else FileRecord(size, sha256_of(full))
    return out


def _describe(path: str) -> str:
    if path.startswith("_indices/"):
        return f"full-text index file {path}"
    if path.startswith("_versions/"):
        return f"manifest {path}"
    if path.startswith("_deletions/"):
        return f"deletion file {path}"
    return f"data file {path}"


def check_files(index: Path, meta: IndexMeta, table: str, deep: bool) -> list[Problem]:
    problems = []
    folder = table_path(index, table)
    for path, record in meta.files.get(table, {}).items():
        try:
            size = (folder / path).stat().st_size
        except FileNotFoundError:
            problems.append(Problem(table, f"{_describe(path)} is missing"))
            continue
        except OSError as exc:
            problems.append(Problem(table, f"{_describe(path)} cannot be read: {exc.strerror}"))
            continue
        if size != record.size:
            problems.append(Problem(table, f"{_describe(path)} is {size} bytes, {record.size} were written"))
        elif deep and sha256_of(folder / path) != record.sha256:
            problems.append(Problem(table, f"{_describe(path)} changed after it was written (checksum)"))
    return problems


def _open(index: Path, name: str, version: int) -> lance.LanceDataset:
    import lance

    return lance.dataset(str(table_path(index, name)), version=version)


def _guarded(where: str, step: Callable[[], list[Problem]], what: str) -> list[Problem]:
    try:
        return step()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if not is_read_error(exc):
            raise
        return [Problem(where, f"{what}: {short_error(exc)}")]


def open_problems(index: Path, meta: IndexMeta, name: str) -> tuple[Any, list[Problem]]:
    """The table opened at its committed version, or the reason it cannot be."""
    folder = table_path(index, name)
    if not folder.is_dir():
        return None, [Problem(name, f"the table folder db/{name}.lance is missing")]
    version = meta.versions[name]
    try:
        return _open(index, name, version), []
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if not is_read_error(exc):
            raise
        manifests = folder / "_versions"
        if not manifests.is_dir() or not any(manifests.iterdir()):
            return None, [Problem(name, "the table has no versions left (_versions is gone)")]
        missing = "not found" in str(exc).lower()
        detail = "its manifest is missing" if missing else f"it does not open: {short_error(exc)}"
        return None, [Problem(name, f"committed version {version} cannot be read: {detail}")]


def _vector_size(kind: Any, column: str) -> int:
    """Dimensions of a `bits` (packed, 8 per byte) or `vector` column's type; 0 if neither."""
    import pyarrow as pa

    if column == "bits":
        return kind.byte_width * 8 if pa.types.is_fixed_size_binary(kind) else 0
    return kind.list_size if pa.types.is_fixed_size_list(kind) else 0


def _structure(meta: IndexMeta, tables: dict[str, Any], schemas: bool) -> list[Problem]:
    """Vector sizes (every column with `schemas`), row counts and the full-text index, from
    the manifests alone."""
    problems = []
    dim = meta.document_model.dim
    expected = table_schemas(dim)
    for name, ds in tables.items():
        sizes = {_vector_size(ds.schema.field(c).type, c) for c in ("bits", "vector") if c in ds.schema.names}
        if sizes - {dim}:
            problems.append(Problem(name, f"holds {min(sizes - {dim})}-d vectors, meta.json says {dim}-d"))
        elif schemas and not ds.schema.equals(expected[name]):
            problems.append(Problem(name, "its columns are not the ones meta.json's format names"))
        elif meta.format == FORMAT_VERSION and set(expected[name].names) - set(ds.schema.names):
            # Cheap enough for every open, and it keeps a damaged schema from reaching lance's
            # readers, which panic on a column they cannot find.
            missing = sorted(set(expected[name].names) - set(ds.schema.names))
            problems.append(Problem(name, f"the column {missing[0]} is missing"))
    counts = {name: tables[name].count_rows() for name in ALIGNED if name in tables}
    for name, rows in counts.items():
        if rows != meta.count:
            problems.append(Problem(name, f"holds {rows} rows, meta.json says {meta.count} fragments"))
    if "qbinary" in tables and "qfloat" in tables:
        qb, qf = tables["qbinary"].count_rows(), tables["qfloat"].count_rows()
        if qb != qf:
            problems.append(Problem("qfloat", f"holds {qf} rows, qbinary {qb}: they must match"))
    fragments = tables.get("fragments")
    if fragments is not None and meta.count:
        indexed = {f for i in fragments.describe_indices() if "Inverted" in i.type_url for f in i.field_names}
        for column in FTS_COLUMNS:
            if column not in indexed:
                problems.append(Problem("fragments", f"the full-text index of {column} is missing"))
    return problems


def _read_everything(meta: IndexMeta, tables: dict[str, Any]) -> list[Problem]:
    """Decode every row of every table and run one keyword query: what `full` adds."""
    problems: list[Problem] = []
    ids = {}
    for name, ds in tables.items():

        def read(name: str = name, ds: Any = ds) -> list[Problem]:
            table = ds.to_table()
            if name in ALIGNED:
                ids[name] = table.column("id")
            return []

        problems += _guarded(name, read, "rows do not decode")
    if len(ids) == len(ALIGNED) and not all(ids[n].equals(ids["fragments"]) for n in ALIGNED):
        problems.append(Problem("float", "rows are out of step with the fragments table"))
    fragments = tables.get("fragments")
    vocabulary = tables.get("vocabulary")
    if fragments is not None and vocabulary is not None and meta.count and not problems:

        def search() -> list[Problem]:
            from lance.query import MatchQuery

            # The most frequent words long enough not to be stop words: one of them at least
            # must be found by a full-text index that reads.
            words = vocabulary.to_table(columns=["word", "count"]).sort_by([("count", "descending")])
            common = [w for w in words.column("word").to_pylist() if len(w) >= 5][:20]
            if not common:
                return []
            query = MatchQuery(" ".join(common), FTS_COLUMNS[0])
            found = fragments.to_table(full_text_query=query, columns=["id", "_score"], limit=1)
            if not len(found):
                return [
                    Problem("fragments", f"the full-text index finds none of its common words ({common[0]}…)")
                ]
            return []

        problems += _guarded("fragments", search, "the full-text index does not answer")
    return problems


def open_tables(index: Path, meta: IndexMeta) -> tuple[dict[str, Any], list[Problem]]:
    """Every table opened at its committed version, and the ones that would not open."""
    tables: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in TABLES:
        ds, found = open_problems(index, meta, name)
        problems += found
        if ds is not None:
            tables[name] = ds
    return tables, problems


def check_tables(index: Path, meta: IndexMeta, tables: dict[str, Any], level: Level) -> list[Problem]:
    """What is wrong with the opened `tables` (see the module docstring for the levels)."""
    problems: list[Problem] = []
    for name in tables:
        problems += check_files(index, meta, name, deep=level != "quick")
    if problems:
        return problems  # files that are not all there: the checks below would only echo them
    problems += _guarded("index", lambda: _structure(meta, tables, level != "quick"), "cannot be checked")
    if not problems and (level == "full" or (level == "deep" and not meta.files)):
        problems += _read_everything(meta, tables)
    return problems


def verify(index: Path, level: Level = "deep") -> tuple[IndexMeta | None, list[Problem]]:
    """(meta, problems) of the index at `index`; meta is None when meta.json itself is unusable.
    Raises IndexMissingError where there is no index at all."""
    try:
        meta = read_meta(index)
    except IndexFormatError as exc:
        return None, [Problem("meta.json", f"the index has format {exc.found}, this docsearch reads another")]
    except IndexDamagedError as exc:
        return None, [Problem("meta.json", exc.problem)]
    tables, problems = open_tables(index, meta)
    if problems:
        return meta, problems  # a table that is not all there: the rest would only echo it
    return meta, check_tables(index, meta, tables, level)


def raise_first(index: Path, problems: list[Problem]) -> None:
    """IndexDamagedError naming the first of `problems`, if there are any."""
    from docsearch.store.meta import damaged

    if problems:
        more = f"; {len(problems) - 1} more: `docsearch status --check`" if len(problems) > 1 else ""
        raise damaged(index, f"{problems[0]}{more}")


def stored_dimension(index: Path, meta: IndexMeta) -> int | None:
    """The dimension of the vectors the committed float table holds, None if it does not open:
    the truth about the document model's size when meta.json itself may be damaged."""
    try:
        ds = _open(index, "float", meta.versions["float"])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if not is_read_error(exc):
            raise
        return None
    return _vector_size(ds.schema.field("vector").type, "vector") or None
