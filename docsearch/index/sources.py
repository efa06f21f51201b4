"""The sources of an index and how each was built: recalled on a re-index, listed, removed.

Each source's entry in meta.json (`sources`) records its folder, its include and exclude
globs and its options (`follow_symlinks`, `base_url`, `url_ext`). A re-index of a known
source reuses what was not given again, so that `index DIR --exclude drafts/` followed by a
plain `index DIR` keeps drafts out; the summary names what it reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docsearch.errors import IndexDamagedError, IndexMissingError, InputError
from docsearch.settings import Settings
from docsearch.store.tables import IndexWriter, read_meta


@dataclass(slots=True)
class Recipe:
    """How one source is indexed."""

    include: list[str]
    exclude: list[str]
    follow_symlinks: bool
    reused: list[str] = field(default_factory=list)  # e.g. "--exclude drafts/", for the summary


def recall(
    known: dict[str, Any] | None,
    root: Path,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
    follow_symlinks: bool | None,
    default_follow: bool,
) -> Recipe:
    """The globs and options for this run: those given (None: not given), else the ones the
    source was last indexed with from the same folder, else none."""
    same = known is not None and known.get("root") == str(root)
    stored = known if same and known is not None else {}
    recipe = Recipe([], [], default_follow)
    for flag, given, key in (("--include", include, "include"), ("--exclude", exclude, "exclude")):
        if given is not None:
            values = [g for g in given if g]  # `--exclude ''` clears the stored globs
        else:
            values = [str(g) for g in stored.get(key) or []]
            recipe.reused.extend(f"{flag} {g}" for g in values)
        setattr(recipe, key, values)
    if follow_symlinks is not None:
        recipe.follow_symlinks = follow_symlinks
    elif stored.get("follow_symlinks") and not default_follow:
        recipe.follow_symlinks = True
        recipe.reused.append("--follow-symlinks")
    return recipe


def known_sources(index: Path) -> dict[str, dict[str, Any]]:
    """The committed sources of the index at `index` ({} when there is no index yet)."""
    try:
        return read_meta(index).sources
    except IndexMissingError:
        return {}


def describe(sources: dict[str, dict[str, Any]]) -> str:
    """`name (folder), …` for error messages that list the index's sources."""
    return ", ".join(f"{name} ({src.get('root', '?')})" for name, src in sorted(sources.items())) or "none"


def remove_source(settings: Settings, name: str) -> int:
    """Drop every fragment of source `name` in one commit (the index is unchanged until
    meta.json names the new versions, as for indexing); returns how many went."""
    meta = read_meta(settings.index)
    if name not in meta.sources:
        raise InputError(
            f"no source named {name!r} in {settings.index}; its sources: {describe(meta.sources)}"
        )
    keep = settings.keep_replaced_minutes * 60
    with IndexWriter(settings.index, meta.document_model, meta.fingerprint, keep) as writer:
        if writer.meta is None:
            raise IndexDamagedError(
                f"the index at {settings.index} was damaged and set aside; nothing was removed: "
                "rebuild it with `docsearch index DIR`"
            )
        existing = writer.existing()
        owners = zip(existing.column("id").to_pylist(), existing.column("source").to_pylist(), strict=True)
        ids = [int(i) for i, source in owners if source == name]
        writer.delete(ids)
        sources = {k: v for k, v in writer.meta.sources.items() if k != name}
        writer.commit(sources, writer.meta.query_model)
    return len(ids)
