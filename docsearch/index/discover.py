"""Index stage 1: which files to read, and their text.

Walks a folder for markdown (`.md`, `.markdown`, `.mdx`), honouring `.gitignore` files at every
level, skipping hidden entries, and applying `--include`/`--exclude` globs. Nothing here stops
the run: a file that cannot be used is recorded as `Skipped` with a reason, and a file that
decodes with replacement characters is kept with a warning.

Only what is inside the folder is read: a symlink (to a file or a folder) whose target
resolves outside it is skipped and reported, unless `follow_symlinks` says otherwise; the
text of what is indexed may be shown, or sent to an API, and `notes.md → ~/.aws/credentials`
must not be. Only regular files are read, never more than the size limit: a `.md` name on a
FIFO, a device (`/dev/zero`) or a socket is skipped, and the limit holds while reading, not
only by the size `stat` reports.

A name that is not valid UTF-8 (a file copied from an old Latin-1 system) cannot be stored or
shown as text: the file (or folder) is skipped and listed with its bad bytes escaped (`caf\xe9.md`).
A folder that cannot be listed is listed as skipped too. Text is UTF-8 (a UTF-8 BOM is
dropped), or UTF-16/UTF-32 when the file starts with their byte-order mark.
"""

from __future__ import annotations

import codecs
import os
import stat
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


NOT_UTF8_NAME = "name is not valid UTF-8"
_BOMS = (  # longest first: the UTF-32-LE mark begins with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def utf8(text: str) -> bool:
    """Whether `text` (a name from the file system, an argument) was valid UTF-8: Python hands
    undecodable bytes over as lone surrogates, which no encoder, store or terminal accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """`text` printable whatever it holds: the bytes of a non-UTF-8 name as \\xNN escapes."""
    return text if utf8(text) else os.fsencode(text).decode("utf-8", "backslashreplace")


def nothing_to_index(root: Path, skipped: list[Skipped]) -> str:
    """The error when no file could be read: why, if files were found and skipped."""
    pattern = "*.md, *.markdown, *.mdx"
    if not skipped:
        return f"no markdown files ({pattern}) found in {root}"
    reasons: dict[str, int] = {}
    for sk in skipped:
        reasons[sk.reason] = reasons.get(sk.reason, 0) + 1
    why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    first = skipped[0]
    return (
        f"no markdown file in {root} could be indexed: {len(skipped)} skipped ({why}); "
        f"first: {first.path}: {first.reason}"
    )


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
    follow_symlinks: bool = False,
) -> Discovery:
    """Find and read the markdown files under `root`, in a stable (sorted) order."""
    root = root.resolve()
    result = Discovery()
    include_spec = _glob_spec(include)
    exclude_spec = _glob_spec(exclude)
    # (folder relative to root, its .gitignore) for every folder on the current walk path.
    ignores: dict[str, pathspec.PathSpec] = {}
    seen_dirs: set[tuple[int, int]] = set()

    def outside(path: Path) -> bool:
        """A symlink whose target leaves the folder (and we were not told to follow it)."""
        if follow_symlinks or not path.is_symlink():
            return False
        try:
            return not path.resolve().is_relative_to(root)
        except (OSError, RuntimeError):  # a dangling link or a loop of links
            return False

    def ignored(rel: str, is_dir: bool) -> bool:
        for base, spec in ignores.items():
            if base and not (rel == base or rel.startswith(base + "/")):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            if spec.match_file(sub + ("/" if is_dir else "")):
                return True
        return False

    def unlistable(exc: OSError) -> None:
        # os.walk skips a folder it cannot list; without this the user never learns of it.
        where = Path(exc.filename) if exc.filename else root
        try:
            rel = where.relative_to(root).as_posix()
        except ValueError:
            rel = str(where)
        result.skipped.append(Skipped(shown(rel), f"unreadable folder ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=unlistable):
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
            if not utf8(d):
                result.skipped.append(Skipped(shown(rel), f"folder {NOT_UTF8_NAME}"))
                continue
            if outside(here / d):
                result.skipped.append(Skipped(rel, "symlink out of the folder"))
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
            if not utf8(name):
                result.skipped.append(Skipped(shown(rel), f"file {NOT_UTF8_NAME}"))
                continue
            if outside(here / name):
                result.skipped.append(Skipped(rel, "symlink out of the folder"))
                continue
            _read(here / name, rel, max_file_bytes, result)
    result.documents.sort(key=lambda d: d.path)
    return result


def _read(path: Path, rel: str, max_file_bytes: int, result: Discovery) -> None:
    try:
        st = path.stat()
    except OSError:
        # A dangling symlink or a file that vanished while we walked.
        result.skipped.append(Skipped(rel, "unreadable"))
        return
    if not stat.S_ISREG(st.st_mode):
        result.skipped.append(Skipped(rel, "not a regular file"))
        return
    if st.st_size > max_file_bytes:
        result.skipped.append(Skipped(rel, f"larger than {max_file_bytes} bytes"))
        return
    try:
        # O_NONBLOCK: should the name have become a FIFO since the stat, opening it must not
        # wait for a writer; fstat then checks what was really opened.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                result.skipped.append(Skipped(rel, "not a regular file"))
                return
            data = f.read(max_file_bytes + 1)
    except OSError:
        result.skipped.append(Skipped(rel, "unreadable"))
        return
    if len(data) > max_file_bytes:  # it grew after the stat
        result.skipped.append(Skipped(rel, f"larger than {max_file_bytes} bytes"))
        return
    if not data.strip():
        result.skipped.append(Skipped(rel, "empty"))
        return
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in data[:8192]:
        result.skipped.append(Skipped(rel, "binary"))
        return
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        why = f"invalid {encoding.upper()}, decoded with replacement characters"
        result.warnings.append(Skipped(rel, why))
    if text.startswith("\ufeff"):
        text = text[1:]
    result.documents.append(Document(str(PurePosixPath(rel)), text))
