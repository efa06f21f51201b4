"""Ways an index folder gets damaged on disk, for the repair tests (tests/test_repair.py).

Each corruption edits a copy of a small committed index the way a disk, a sync tool or a
person would: meta.json fields, deleted table folders and manifests, deleted, truncated or
bit-flipped data files, deleted full-text index files. `mentions` is what `status --check`
must name (a table, a file kind, a meta.json field); `harmless` corruptions touch files no
committed version needs, and must not make the index look damaged.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_MAX = 2**64 - 1  # lance's V2 manifest naming: _versions/{u64::MAX - version}.manifest


@dataclass(frozen=True)
class Corruption:
    name: str
    apply: Callable[[Path], None]
    mentions: str = ""
    harmless: bool = False


def _meta(index: Path) -> dict[str, Any]:
    return json.loads((index / "meta.json").read_text())


def _edit_meta(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(index: Path) -> None:
        meta = _meta(index)
        change(meta)
        (index / "meta.json").write_text(json.dumps(meta))

    return apply


def _table(index: Path, name: str) -> Path:
    return index / "db" / f"{name}.lance"


def manifest(index: Path, name: str) -> Path:
    version = _meta(index)["versions"][name]
    return _table(index, name) / "_versions" / f"{MANIFEST_MAX - version}.manifest"


def data_file(index: Path, name: str) -> Path:
    files = sorted((_table(index, name) / "data").glob("*.lance"), key=lambda p: p.stat().st_size)
    return files[-1]  # the fixture's tables have one data file each; the largest otherwise


def fts_folder(index: Path) -> Path:
    return next((_table(index, "fragments") / "_indices").iterdir())


def _delete(path_of: Callable[[Path], Path]) -> Callable[[Path], None]:
    def apply(index: Path) -> None:
        path = path_of(index)
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    return apply


def _truncate(path_of: Callable[[Path], Path], keep: Callable[[int], int]) -> Callable[[Path], None]:
    def apply(index: Path) -> None:
        path = path_of(index)
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(keep(size))

    return apply


def _flip(path_of: Callable[[Path], Path], where: Callable[[int], int]) -> Callable[[Path], None]:
    """One bit flipped, like a bad sector or a bad RAM stick: the size stays the same."""

    def apply(index: Path) -> None:
        path = path_of(index)
        data = bytearray(path.read_bytes())
        data[where(len(data))] ^= 0x10
        path.write_bytes(bytes(data))

    return apply


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta[field] = value

    return change


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.pop(field)


def _version(table: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["versions"][table] = value

    return change


def _drop_version(table: str) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta["versions"].pop(table)


def _model_dim(meta: dict[str, Any]) -> None:
    meta["document_model"]["dim"] = 512


def _one_source(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["sources"] = {name: value for name in meta["sources"]}

    return change


def _write(text: str) -> Callable[[Path], None]:
    return lambda index: (index / "meta.json").write_text(text)


def _meta_truncated(index: Path) -> None:
    text = (index / "meta.json").read_text()
    (index / "meta.json").write_text(text[: len(text) // 2])


def _older_version(table: str) -> Callable[[dict[str, Any]], None]:
    """A version that exists but is not the committed one (the empty table of the first run)."""
    return _version(table, 1)


def _fts_part(name: str) -> Callable[[Path], Path]:
    return lambda index: fts_folder(index) / name


def _first_txn(name: str) -> Callable[[Path], Path]:
    return lambda index: sorted((_table(index, name) / "_transactions").iterdir())[-1]


def _in(table: str, *parts: str) -> Callable[[Path], Path]:
    return lambda index: _table(index, table).joinpath(*parts)


def _manifest(table: str) -> Callable[[Path], Path]:
    return lambda index: manifest(index, table)


def _data(table: str) -> Callable[[Path], Path]:
    return lambda index: data_file(index, table)


FTS = "full-text"
C = Corruption

CORRUPTIONS: list[Corruption] = [
    # meta.json
    C("meta: truncated", _meta_truncated, "meta.json"),
    C("meta: not json", _write("\x00\x01garbage"), "meta.json"),
    C("meta: json null", _write("null"), "meta.json"),
    C("meta: json list", _write("[1, 2]"), "meta.json"),
    C("meta: format a string", _edit_meta(_set("format", "four")), "format"),
    C("meta: format missing", _edit_meta(_drop("format")), "format"),
    C("meta: document_model missing", _edit_meta(_drop("document_model")), "document_model"),
    C("meta: document_model dim wrong", _edit_meta(_model_dim), "512-d"),
    C("meta: query_model garbage", _edit_meta(_set("query_model", "x")), "query_model"),
    C("meta: versions missing", _edit_meta(_drop("versions")), "versions"),
    C("meta: versions lacks a table", _edit_meta(_drop_version("float")), "float"),
    C("meta: version a string", _edit_meta(_version("binary", "two")), "binary"),
    C("meta: version that never existed", _edit_meta(_version("fragments", 999)), "fragments"),
    C("meta: version of an older state", _edit_meta(_older_version("binary")), "binary"),
    C("meta: count wrong", _edit_meta(_set("count", 5)), "meta.json says 5"),
    C("meta: count negative", _edit_meta(_set("count", -1)), "count"),
    C("meta: sources a list", _edit_meta(_set("sources", [])), "sources"),
    C("meta: source entry a string", _edit_meta(_one_source("x")), "sources"),
    C("meta: files garbage", _edit_meta(_set("files", {"fragments": 3})), "files"),
    # whole tables
    *[
        C(f"table folder deleted: {t}", _delete(_in(t)), t)
        for t in ("fragments", "binary", "float", "qbinary", "qfloat", "vocabulary")
    ],
    C("db folder deleted", _delete(lambda i: i / "db"), "fragments"),
    # manifests
    *[
        C(f"manifest deleted: {t}", _delete(_manifest(t)), t)
        for t in ("fragments", "float", "qfloat", "vocabulary")
    ],
    C("all manifests deleted: binary", _delete(_in("binary", "_versions")), "binary"),
    C("manifest bit flip: fragments", _flip(_manifest("fragments"), lambda n: n // 2), "fragments"),
    C("manifest truncated: float", _truncate(_manifest("float"), lambda n: n // 2), "float"),
    # data files
    *[
        C(f"data file deleted: {t}", _delete(_data(t)), t)
        for t in ("fragments", "binary", "float", "vocabulary")
    ],
    C("data file emptied: float", _truncate(_data("float"), lambda n: 0), "float"),
    C("data file halved: fragments", _truncate(_data("fragments"), lambda n: n // 2), "fragments"),
    C("data file short a byte: binary", _truncate(_data("binary"), lambda n: n - 1), "binary"),
    C("bit flip in text: fragments", _flip(_data("fragments"), lambda n: n // 3), "fragments"),
    C("bit flip in vectors: float", _flip(_data("float"), lambda n: n // 2), "float"),
    C("bit flip in footer: binary", _flip(_data("binary"), lambda n: n - 20), "binary"),
    C("bit flip: vocabulary", _flip(_data("vocabulary"), lambda n: n // 2), "vocabulary"),
    # the full-text index
    C("full-text index folder deleted", _delete(_in("fragments", "_indices")), FTS),
    C("full-text index: one index deleted", _delete(fts_folder), FTS),
    C("full-text index: postings deleted", _delete(_fts_part("part_0_invert.lance")), FTS),
    C("full-text index: tokens deleted", _delete(_fts_part("part_0_tokens.lance")), FTS),
    C("full-text index: metadata deleted", _delete(_fts_part("metadata.lance")), FTS),
    C("full-text index: docs truncated", _truncate(_fts_part("part_0_docs.lance"), lambda n: n // 2), FTS),
    # files that no committed version reads
    C(
        "harmless: latest version hint deleted",
        _delete(_in("fragments", "_versions", "latest_version_hint.json")),
        harmless=True,
    ),
    C("harmless: a transaction file deleted", _delete(_first_txn("float")), harmless=True),
    C("harmless: the lock file deleted", _delete(lambda i: i / "lock"), harmless=True),
]
