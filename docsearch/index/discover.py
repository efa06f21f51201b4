"""Index stage 1: which files to read, and their text.

Walks a folder for markdown (`.md`, `.markdown`, `.mdx`), honouring `.gitignore` files at every
level, skipping hidden entries, and applying `--include`/`--exclude` globs. Nothing here stops
the run: a file that cannot be used is recorded as `Skipped` with a reason, and a file that
decodes with replacement characters is kept with a warning.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec

from docsearch.model import Skipped

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


@dataclass(frozen=True, slots=True)
class Document:
    path: str  # relative to the root, "/"-separated
    text: str


@dataclass(slots=True)
class Discovery:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)


def _glob_spec(globs: Iterable[str]) -> pathspec.PathSpec | None:
    globs = [g for g in globs if g]
    return pathspec.GitIgnoreSpec.from_lines(globs) if globs else None


def _read_gitignore(folder: Path) -> pathspec.PathSpec | None:
    try:
        lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def discover(
    root: Path,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_file_bytes: int = 2_000_000,
) -> Discovery:
    """Find and read the markdown files under `root`, in a stable (sorted) order."""
    root = root.resolve()
    result = Discovery()
    include_spec = _glob_spec(include)
    exclude_spec = _glob_spec(exclude)
    # (folder relative to root, its .gitignore) for every folder on the current walk path.
    ignores: dict[str, pathspec.PathSpec] = {}
    seen_dirs: set[tuple[int, int]] = set()

    def ignored(rel: str, is_dir: bool) -> bool:
        for base, spec in ignores.items():
            if base and not (rel == base or rel.startswith(base + "/")):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        try:
            st = here.stat()
        except OSError:
            result.skipped.append(Skipped(rel_dir or ".", "unreadable folder"))
            dirnames[:] = []
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            # Followed a symlink back into a folder we already walked: a loop or a duplicate.
            result.skipped.append(Skipped(rel_dir, "symlink loop (folder already indexed)"))
            dirnames[:] = []
            continue
        seen_dirs.add(key)
        spec = _read_gitignore(here)
        if spec is not None:
            ignores[rel_dir] = spec
        kept = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d.startswith(".") or ignored(rel, True):
                continue
            if exclude_spec is not None and exclude_spec.match_file(rel + "/"):
                continue
            kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(MARKDOWN_SUFFIXES):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if ignored(rel, False):
                continue
            if include_spec is not None and not include_spec.match_file(rel):
                continue
            if exclude_spec is not None and exclude_spec.match_file(rel):
                continue
            _read(here / name, rel, max_file_bytes, result)
    result.documents.sort(key=lambda d: d.path)
    return result


def _read(path: Path, rel: str, max_file_bytes: int, result: Discovery) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        # A dangling symlink or a file that vanished while we walked.
        result.skipped.append(Skipped(rel, "unreadable"))
        return
    if size > max_file_bytes:
        result.skipped.append(Skipped(rel, f"larger than {max_file_bytes} bytes"))
        return
    try:
        data = path.read_bytes()
    except OSError:
        result.skipped.append(Skipped(rel, "unreadable"))
        return
    if not data.strip():
        result.skipped.append(Skipped(rel, "empty"))
        return
    if b"\x00" in data[:8192]:
        result.skipped.append(Skipped(rel, "binary"))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        result.warnings.append(Skipped(rel, "invalid UTF-8, decoded with replacement characters"))
    if text.startswith("\ufeff"):
        text = text[1:]
    result.documents.append(Document(str(PurePosixPath(rel)), text))
