"""Reader leases: a replaced commit's files stay on disk while any process still reads them.

Each commit has a lease file, `readers/<commit>.lock`, created by the writer before the commit
is published. A reader holds a shared `flock` on the file of the commit it opened, for as long
as it keeps the index open; the kernel drops the lock when the process ends, however it ends,
so a crashed reader never pins old versions forever.

Before a writer deletes a replaced commit's versions it takes an exclusive, non-blocking lock
on that commit's file: failing means a reader holds it, and the versions stay. While the writer
holds the exclusive lock no reader can take a new lease on the commit; a reader that was
waiting for one finds afterwards that meta.json no longer lists the commit, and opens the
current one instead (store/reader.py).

flock is advisory and local: on a network file system without it, the retention time after
replacement (settings `keep_replaced_minutes`) is what protects readers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LEASES = "readers"


def lease_path(index: Path, commit: int) -> Path:
    return index / LEASES / f"{commit}.lock"


class Lease:
    """A shared lock on one commit's lease file; `release` (or the process ending) lets go."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __del__(self) -> None:
        self.release()


def take_lease(index: Path, commit: int) -> Lease | None:
    """A lease on `commit`, or None where none can be had (a read-only index folder written by
    an older docsearch, a file system without flock): the retention time still applies."""
    path = lease_path(index, commit)
    try:
        fd = os.open(path, os.O_RDONLY)  # the writer made it: a read-only folder is enough
    except FileNotFoundError:
        try:
            path.parent.mkdir(exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None
    except OSError:
        return None
    try:
        # Blocks only while a writer is deciding whether to delete this commit (milliseconds).
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return None
    return Lease(fd)


def create_lease_file(index: Path, commit: int) -> None:
    path = lease_path(index, commit)
    path.parent.mkdir(exist_ok=True)
    path.touch()


def retire(index: Path, commit: int) -> int | None:
    """An exclusive lock on `commit`'s lease file (its descriptor), or None while a reader holds
    the commit. Pass the descriptor to `drop` once the commit's versions are deleted."""
    path = lease_path(index, commit)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def drop(index: Path, commit: int, fd: int) -> None:
    """Delete a retired commit's lease file, then let go of it."""
    with contextlib.suppress(OSError):
        lease_path(index, commit).unlink()
    os.close(fd)


def leased_commits(index: Path) -> list[int]:
    """Every commit that has a lease file (held or not)."""
    folder = index / LEASES
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(n[:-5]) for n in names if n.endswith(".lock") and n[:-5].isdigit())
