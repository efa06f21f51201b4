"""Retiring replaced commits, the last step of a writer's commit: which of them can go, and
deleting what no reader can need any more.

A commit goes once it was replaced more than `keep_replaced` seconds ago and no reader holds a
lease on it (store/leases.py); then every table version the new meta.json neither names nor
keeps is deleted (the intermediate versions of a run, leftovers of an interrupted one, those of
the retired commits), and the lease files of retired commits with them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from docsearch.store.leases import drop, leased_commits, retire
from docsearch.store.meta import IndexMeta, Replaced
from docsearch.store.schema import TABLES


def expired(
    index: Path, replaced: list[Replaced], now: float, keep_replaced: float
) -> tuple[list[Replaced], list[tuple[int, int]]]:
    """(commits still kept, (commit, locked lease descriptor) of those that can go): a
    commit goes once it was replaced long enough ago and no reader holds its lease."""
    kept: list[Replaced] = []
    retired: list[tuple[int, int]] = []
    for r in replaced:
        fd = retire(index, r.commit) if now - r.at >= keep_replaced else None
        if fd is None:
            kept.append(r)
        else:
            retired.append((r.commit, fd))
    return kept, retired


def retire_versions(
    index: Path, tables: dict[str, Any], meta: IndexMeta, retired: list[tuple[int, int]]
) -> None:
    """Delete every table version `meta` neither names nor keeps, and the retired commits'
    lease files (`tables`: the writer's open lancedb tables)."""
    for name in TABLES:
        keep = {meta.versions[name], *(r.versions[name] for r in meta.replaced)}
        dataset = tables[name].to_lance()
        old = [v["version"] for v in dataset.versions() if v["version"] not in keep]
        if old:
            # Leftovers cost only disk: a failed cleanup is retried by the next commit.
            with contextlib.suppress(Exception):
                dataset.cleanup_old_versions(versions=old, error_if_tagged_old_versions=False)
    for commit, fd in retired:
        drop(index, commit, fd)
    live = {meta.commit, *(r.commit for r in meta.replaced)}
    for commit in leased_commits(index):
        # Lease files no commit needs: a reader that opened a commit as it was retired.
        if commit not in live and (fd := retire(index, commit)) is not None:
            drop(index, commit, fd)
