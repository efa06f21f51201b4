"""store/retire.py: which replaced commits a commit retires, and what it deletes of them."""

from __future__ import annotations

import os
from typing import Any

from docsearch.store.leases import create_lease_file, leased_commits, take_lease
from docsearch.store.meta import Replaced
from docsearch.store.retire import expired, retire_versions
from docsearch.store.schema import TABLES

KEEP = 600.0


def replaced(commit: int, at: float) -> Replaced:
    return Replaced(commit, {name: commit for name in TABLES}, at)


def test_a_commit_goes_once_replaced_long_enough_ago_and_unleased(tmp_path):
    now = 10_000.0
    for commit in (1, 2, 3):
        create_lease_file(tmp_path, commit)
    reader = take_lease(tmp_path, 2)  # a reader still has commit 2 open
    assert reader is not None
    old, held, recent = replaced(1, now - KEEP - 1), replaced(2, now - KEEP - 1), replaced(3, now - 5)
    kept, retired = expired(tmp_path, [old, held, recent], now, KEEP)
    assert kept == [held, recent]
    assert [commit for commit, _ in retired] == [1]
    reader.release()
    kept, again = expired(tmp_path, [held], now, KEEP)  # the reader let go: now it can go too
    assert kept == [] and [c for c, _ in again] == [2]
    for _, fd in [*retired, *again]:
        os.close(fd)  # the locks a commit would hold until it dropped the lease files


class _Dataset:
    def __init__(self, versions: list[int]) -> None:
        self._versions = versions
        self.cleaned: list[int] = []

    def versions(self) -> list[dict[str, int]]:
        return [{"version": v} for v in self._versions]

    def cleanup_old_versions(self, versions: list[int], error_if_tagged_old_versions: bool) -> None:
        self.cleaned = versions


class _Table:
    def __init__(self, versions: list[int]) -> None:
        self.dataset = _Dataset(versions)

    def to_lance(self) -> _Dataset:
        return self.dataset


class _Meta:
    """What retire_versions reads of an IndexMeta."""

    def __init__(self, commit: int, replaced: list[Replaced]) -> None:
        self.commit = commit
        self.versions = {name: 9 for name in TABLES}
        self.replaced = replaced


def test_only_the_named_and_kept_versions_and_leases_stay(tmp_path):
    now = 10_000.0
    for commit in (1, 2, 3, 7):
        create_lease_file(tmp_path, commit)
    kept_commit = replaced(3, now - 5)
    kept, retired = expired(
        tmp_path, [replaced(1, now - KEEP - 1), replaced(2, now - KEEP - 1), kept_commit], now, KEEP
    )
    meta: Any = _Meta(4, kept)
    create_lease_file(tmp_path, 4)
    tables = {name: _Table([1, 2, 3, 5, 8, 9]) for name in TABLES}
    retire_versions(tmp_path, tables, meta, retired)
    for table in tables.values():
        assert table.dataset.cleaned == [1, 2, 5, 8]  # 9 is named, 3 is kept
    # Retired commits' lease files are gone, and so is 7's, which no commit needs.
    assert leased_commits(tmp_path) == [3, 4]
