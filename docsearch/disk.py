"""What a refused write means, in one line: a full disk, a read-only file system, no permission.

The same fault reaches docsearch in three dialects: an `OSError` with an errno (Python's own
file calls), a lance `RuntimeError`/`OSError` whose text ends in `(os error 28)` and a Rust
source path, and an `sqlite3.OperationalError` that says only "disk I/O error" (SQLite in WAL
mode reports a full disk that way). `disk_problem` reads all three; `writing` turns them into
a `StorageError` (exit 7) that names the folder and what to do, never a traceback.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from docsearch.errors import DocsearchError, StorageError

FULL = "the disk is full (no space left on device)"
READ_ONLY = "the file system is read-only"
DENIED = "permission denied"
FAILED = "the disk failed (input/output error)"

_ERRNO = {
    errno.ENOSPC: FULL,
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "a file grew past the file system's limit",
    errno.EROFS: READ_ONLY,
    errno.EACCES: DENIED,
    errno.EPERM: DENIED,
    errno.EIO: FAILED,
}
_WRITE_ONLY = {FULL, READ_ONLY, _ERRNO[errno.EDQUOT], _ERRNO[errno.EFBIG]}
# lance (Rust) quotes the OS error as "... (os error 28)".
_OS_ERROR_RE = re.compile(r"\(os error (\d+)\)")
_SQLITE = {
    sqlite3.SQLITE_FULL: FULL,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_PERM: DENIED,
    sqlite3.SQLITE_CANTOPEN: "the file cannot be created or opened there",
}
LOW_SPACE = 1 << 20  # bytes: below this, an unexplained I/O error is a full disk


def disk_problem(exc: BaseException, folder: Path | None = None) -> str | None:
    """What the file system refused, or None when `exc` is not a refused write.

    An `OSError` naming a file outside `folder` is not counted: a model file that cannot be
    read is not a full index disk. An SQLite "disk I/O error" is called a full disk when
    `folder`'s file system has (almost) no space left, which is what it nearly always is.
    """
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        found = _SQLITE.get(code & 0xFF) if isinstance(code, int) else None
        if found is None and isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_IOERR:
            found = FULL if folder is not None and _nearly_full(folder) else FAILED
        return found
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        name = exc.filename
        if folder is not None and isinstance(name, str | os.PathLike) and not _inside(Path(name), folder):
            return None
        return _ERRNO[exc.errno]
    if isinstance(exc, OSError | RuntimeError | ValueError) or type(exc).__name__ == "PanicException":
        match = _OS_ERROR_RE.search(str(exc))
        if match:
            return _ERRNO.get(int(match.group(1)))
    return None


@contextmanager
def writing(what: str, folder: Path, advice: str = "") -> Iterator[None]:
    """Around the writes of `what` (e.g. "the index") into `folder`: a refused write leaves as
    `cannot write the index at FOLDER: the disk is full; ADVICE` (exit 7)."""
    try:
        yield
    except (DocsearchError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        problem = disk_problem(exc, folder)
        if problem is None:
            raise
        raise StorageError(refused(what, folder, problem, advice)) from None


def refused(what: str, folder: Path, problem: str, advice: str = "") -> str:
    fix = {
        FULL: "free some space and run it again",
        READ_ONLY: "choose a folder on a writable disk",
        DENIED: "choose a folder you can write to",
    }.get(problem, "check the disk")
    return f"cannot write {what} at {folder}: {problem}; {advice + ', ' if advice else ''}{fix}"


def os_error_message(exc: OSError) -> str | None:
    """The one line for an `OSError` that escaped every narrower handler, if it is a refused
    write (`cannot write FILE: the disk is full`); None for anything else."""
    problem = disk_problem(exc)
    if problem is None:
        return None
    where = exc.filename if exc.filename is not None else "a file"
    # A full or read-only disk refuses writes only; no permission (or EIO) may be a read.
    verb = "write" if problem in _WRITE_ONLY else "use"
    return f"cannot {verb} {where}: {problem}"


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _nearly_full(folder: Path) -> bool:
    for candidate in (folder, *folder.parents):
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize < LOW_SPACE
    return False
