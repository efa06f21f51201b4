"""`meta.json`: the commit record of an index.

It names the version of each table that makes up the index, and with it:
- `commit`, a number that goes up whenever those versions change; readers hold a lease on the
  commit they opened (store/leases.py);
- `replaced`, the commits this one replaced that are still kept on disk, each with the time it
  was replaced: a version stays readable for a while after the commit that replaced it, and as
  long as a reader holds it, never only for a while after it was written;
- `files`, every file the committed versions read, with its size and sha256, so that a missing,
  truncated or altered file is found before it is read (store/verify.py).

Every field is checked when the file is read: a damaged meta.json is reported as what it is
(which field, what is wrong), never as a KeyError deep in a search.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsearch.embed.base import ModelIdentity
from docsearch.errors import IndexDamagedError, IndexFormatError, IndexMissingError
from docsearch.store.schema import FORMAT_VERSION, TABLES

META_FILE = "meta.json"

REPAIR_HINT = "`docsearch index DIR` sets it aside and rebuilds it"


class MetaError(ValueError):
    """What is wrong with a meta.json, in words."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Replaced:
    """A commit that a newer one replaced, kept until `at` + the retention time has passed and
    no reader holds it."""

    commit: int
    versions: dict[str, int]
    at: float  # when it was replaced


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
    commit: int = 0
    replaced: list[Replaced] = field(default_factory=list)
    # table → path inside the table's folder → record; empty for an index written before
    # docsearch recorded them (verification then reads the tables instead).
    files: dict[str, dict[str, FileRecord]] = field(default_factory=dict)
    # The vector subtracted from documents and queries before their sign bits are taken, for
    # a model whose vectors crowd into a narrow cone (its model file says binary_center);
    # None for every other model, whose bits are the raw signs.
    binary_center: list[float] | None = None

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
            "commit": self.commit,
            "replaced": [{"commit": r.commit, "versions": r.versions, "at": r.at} for r in self.replaced],
            "files": {
                table: {path: [rec.size, rec.sha256] for path, rec in sorted(records.items())}
                for table, records in self.files.items()
            },
        } | ({"binary_center": self.binary_center} if self.binary_center is not None else {})

    @classmethod
    def from_json(cls, data: Any) -> IndexMeta:
        """Raises MetaError naming the first field that is missing or malformed."""
        if not isinstance(data, dict):
            raise MetaError("is not a JSON object")
        return cls(
            format=_int(data, "format"),
            document_model=_model(data, "document_model"),
            query_model=_model(data, "query_model"),
            fingerprint=_str(data, "fingerprint"),
            versions=_versions(data.get("versions"), "versions"),
            count=_int(data, "count", minimum=0),
            sources=_sources(data.get("sources", {})),
            created=_number(data, "created"),
            updated=_number(data, "updated"),
            commit=_int(data, "commit", minimum=0, default=0),
            replaced=_replaced(data.get("replaced", [])),
            files=_files(data.get("files", {})),
            binary_center=_center(data.get("binary_center"), _model(data, "document_model").dim),
        )


def _int(data: dict[str, Any], key: str, minimum: int | None = None, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        raise MetaError(f"has no `{key}`")
    if not isinstance(value, int) or isinstance(value, bool):
        raise MetaError(f"`{key}` is {json.dumps(value)[:40]}, not a whole number")
    if minimum is not None and value < minimum:
        raise MetaError(f"`{key}` is {value}, below {minimum}")
    return value


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key, 0)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise MetaError(f"`{key}` is {json.dumps(value)[:40]}, not a time")
    return float(value)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise MetaError(f"`{key}` is missing or not text")
    return value


def _model(data: dict[str, Any], key: str) -> ModelIdentity:
    value = data.get(key)
    if not isinstance(value, dict):
        raise MetaError(f"`{key}` is missing or not an object")
    try:
        model = ModelIdentity(**value)
    except TypeError:
        raise MetaError(f"`{key}` does not describe a model") from None
    if not isinstance(model.name, str) or not isinstance(model.space, str):
        raise MetaError(f"`{key}` has no model name or space")
    if not isinstance(model.dim, int) or isinstance(model.dim, bool) or model.dim <= 0 or model.dim % 8:
        raise MetaError(f"`{key}.dim` is {json.dumps(model.dim)[:20]}, not a vector size")
    if not isinstance(model.normalized, bool):
        raise MetaError(f"`{key}.normalized` is not true or false")
    return model


def _versions(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise MetaError(f"`{where}` is missing or not an object")
    out: dict[str, int] = {}
    for table in TABLES:
        if table not in value:
            raise MetaError(f"`{where}` names no version of the {table} table")
        version = value[table]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise MetaError(f"`{where}.{table}` is {json.dumps(version)[:20]}, not a table version")
        out[table] = version
    return out


def _sources(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise MetaError("`sources` is not an object of sources")
    return {str(name): dict(source) for name, source in value.items()}


def _replaced(value: Any) -> list[Replaced]:
    if not isinstance(value, list):
        raise MetaError("`replaced` is not a list")
    out = []
    for entry in value:
        if not isinstance(entry, dict):
            raise MetaError("`replaced` holds something other than commits")
        out.append(
            Replaced(
                commit=_int(entry, "commit", minimum=0),
                versions=_versions(entry.get("versions"), "replaced.versions"),
                at=_number(entry, "at"),
            )
        )
    return out


def _center(value: Any, dim: int) -> list[float] | None:
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and len(value) == dim
        and all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in value)
    )
    if not ok:
        raise MetaError(f"`binary_center` is not a list of {dim} numbers")
    return [float(x) for x in value]


def _files(value: Any) -> dict[str, dict[str, FileRecord]]:
    if not isinstance(value, dict):
        raise MetaError("`files` is not an object")
    out: dict[str, dict[str, FileRecord]] = {}
    for table, records in value.items():
        if table not in TABLES or not isinstance(records, dict):
            raise MetaError(f"`files.{str(table)[:20]}` is not a table's file list")
        out[table] = {}
        for path, record in records.items():
            ok = (
                isinstance(record, list)
                and len(record) == 2
                and isinstance(record[0], int)
                and isinstance(record[1], str)
                and len(record[1]) == 64
            )
            if not ok:
                raise MetaError(f"`files.{table}` has a malformed entry for {str(path)[:60]}")
            out[table][str(path)] = FileRecord(record[0], record[1])
    return out


def damaged(index: Path, problem: str) -> IndexDamagedError:
    return IndexDamagedError(f"the index at {index} is damaged ({problem}): {REPAIR_HINT}", problem)


def read_meta(index: Path) -> IndexMeta:
    path = index / META_FILE
    if not path.is_file():
        raise IndexMissingError(f"no index at {index}: run `docsearch index DIR` first")
    try:
        data = json.loads(path.read_bytes())
    except PermissionError:
        raise IndexMissingError(f"cannot read {path}: permission denied") from None
    except (OSError, ValueError):
        raise damaged(index, f"{META_FILE} is not readable JSON") from None
    # The format first: another format may lay out its fields differently.
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found != FORMAT_VERSION:
        raise IndexFormatError(
            f"the index at {index} has format {found}, this docsearch reads format "
            f"{FORMAT_VERSION}: rebuild it with `docsearch index DIR`",
            found=found,
        )
    try:
        return IndexMeta.from_json(data)
    except MetaError as exc:
        raise damaged(index, f"{META_FILE} {exc}") from None


def write_meta(index: Path, meta: IndexMeta) -> None:
    """Replace meta.json atomically and durably: write a temp file, fsync, rename, fsync the folder."""
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
