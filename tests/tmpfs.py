"""Real small file systems for disk faults: a tmpfs of a few hundred kilobytes returns ENOSPC
for real, and `mount -o remount,ro` makes it read-only for real (chmod does not stop root).

Mounting needs root (CI containers usually run as root); elsewhere the tests that use these
are skipped with the reason.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@contextmanager
def tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    """A tmpfs of `size_kb` kilobytes mounted at `path` for the duration of the block."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real full or read-only disk needs a tmpfs mount, which needs root")
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def read_only(path: Path) -> None:
    done = _mount("-o", "remount,ro", str(path))
    assert done.returncode == 0, done.stderr


def writable(path: Path) -> None:
    done = _mount("-o", "remount,rw", str(path))
    assert done.returncode == 0, done.stderr


def fill(path: Path) -> Path:
    """Write into `path` until the file system says ENOSPC; the filler file, to free it later."""
    filler = path / "filler"
    with open(filler, "ab", buffering=0) as f:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler
