"""What the chunker needs to know about the indexed folder: included files and slug style.

Snippet includes put another file's text into the page before markdown is parsed:
pymdownx.snippets (`--8<-- "file.md"`, or a block of names between two `--8<--` lines) and
FastAPI's `{* ../../docs_src/app.py hl[3] *}` (a source file shown as a code block). The
reader of the page sees the included text, so search should too; but only files inside the
indexed folder are read, never anything a `../..` or a symlink would reach outside it.

Included lines are spliced in, so the expanded page is longer than the file: `expand` returns
each line's origin, the line of the file it came from (the include line for included text),
and fragments keep pointing into the file itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from docsearch.index.dialects import closes_fence, opens_fence

SlugStyle = Literal["github", "python-markdown"]

MAX_DEPTH = 8  # includes inside includes; deeper ones are dropped
MAX_LINES = 50_000  # included lines per page, so that one snippet used a thousand times stays cheap

_SNIPPET_RE = re.compile(r"""^([ \t]*)-+8<-+[ \t]+(["'])(.+?)\2\s*$""")
_SNIPPET_BLOCK_RE = re.compile(r"^([ \t]*)-+8<-+\s*$")
_ESCAPE_RE = re.compile(r"^([ \t]*);(;*-+8<-+)")
_SECTION_RE = re.compile(r"-+8<-+\s*\[\s*(start|end)\s*:\s*([\w-]+)\s*\]")
_LINE_SPEC_RE = re.compile(r"^(\d*)(?::(\d*))?$")
_FASTAPI_RE = re.compile(r"^([ \t]*)\{\*\s+(\S+)(.*?)\*\}\s*$")
_LINES_OPT_RE = re.compile(r"\bln\[([\d:,\s]+)\]")
_LANGUAGES = {".py": "python", ".js": "js", ".ts": "ts", ".sh": "bash", ".yml": "yaml", ".md": "markdown"}


@dataclass
class DocsFolder:
    """The folder being indexed, as the chunker sees it.

    `slug_style` is how the site generator turns heading text into anchors. Only mkdocs is
    recognised, by its `mkdocs.yml` in the folder or the folder above it (the usual `docs/`
    layout) without a `slugify` override: Python-Markdown's `toc` slugs differ from GitHub's
    (`a & b` is `a-b`, not `a--b`; a repeated heading gets `_1`, not `-1`). Every other site
    keeps GitHub's style, which Docusaurus (github-slugger), Hugo (goldmark's default) and
    GitHub itself use; VitePress pages usually give explicit `{#id}`s.
    """

    root: Path
    max_bytes: int = 2_000_000
    slug_style: SlugStyle = field(init=False)
    _cache: dict[Path, str | None] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.slug_style = _detect_slug_style(self.root)

    def read_include(self, from_path: str, target: str) -> tuple[str, str] | None:
        """(path relative to the root, text) of the file `target` names, or None.

        Tried against the including file's folder and each folder above it up to the root
        (pymdownx resolves against the mkdocs project folder, FastAPI against the docs
        language folder; both are among them), and, for `docs/x.md` named from inside an
        indexed `docs/`, against the root itself.
        """
        if "://" in target or not target.strip():
            return None
        target = target.strip()
        bases: list[Path] = []
        here = (self.root / from_path).parent
        while here.is_relative_to(self.root):
            bases.append(here)
            if here == self.root:
                break
            here = here.parent
        candidates = [b / target for b in bases]
        prefix = self.root.name + "/"
        if target.startswith(prefix):
            candidates.append(self.root / target[len(prefix) :])
        for cand in candidates:
            try:
                full = cand.resolve()
            except (OSError, RuntimeError):
                continue
            if not full.is_relative_to(self.root):
                continue  # outside the indexed folder, by `..` or through a symlink
            text = self._read(full)
            if text is not None:
                return full.relative_to(self.root).as_posix(), text
        return None

    def _read(self, full: Path) -> str | None:
        if full not in self._cache:
            text: str | None = None
            try:
                if full.is_file() and full.stat().st_size <= self.max_bytes:
                    data = full.read_bytes()
                    if b"\0" not in data[:8192]:
                        text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
            except OSError:
                text = None
            self._cache[full] = text
        return self._cache[full]


def _detect_slug_style(root: Path) -> SlugStyle:
    for folder in (root, root.parent):
        for name in ("mkdocs.yml", "mkdocs.yaml"):
            try:
                config = (folder / name).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            # A custom slugify (pymdownx.slugs and the like) is code we cannot run: GitHub's
            # style is then as good a guess as any.
            return "github" if "slugify" in config else "python-markdown"
    return "github"


def _select(text: str, spec: str) -> list[str]:
    """The lines of an included file that a `3:5` line range (`3` or `3:` to the end, `:5` from
    the start) or a `name` section (`--8<-- [start:name]` … `[end:name]`) asks for."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    span = _LINE_SPEC_RE.match(spec)
    if span and spec:
        lo = int(span.group(1)) - 1 if span.group(1) else 0
        hi = int(span.group(2)) if span.group(2) else len(lines)
        lines = lines[max(lo, 0) : hi]
    elif spec:
        inside, picked = False, []
        for line in lines:
            m = _SECTION_RE.search(line)
            if m and m.group(2) == spec:
                inside = m.group(1) == "start"
            elif inside:
                picked.append(line)
        lines = picked
    return [line for line in lines if not _SECTION_RE.search(line)]


def _fetch(
    folder: DocsFolder, path: str, target: str, stack: tuple[str, ...]
) -> tuple[str, list[str]] | None:
    """An include's (path, lines), trying `file:spec` forms when the whole name is not a file."""
    found = folder.read_include(path, target)
    spec = ""
    if found is None and ":" in target:
        name, _, spec = target.partition(":")
        found = folder.read_include(path, name)
    if found is None or found[0] in stack:
        return None  # missing, outside the folder, or an include cycle
    return found[0], _select(found[1], spec)


def _code_lines(folder: DocsFolder, path: str, target: str, options: str) -> list[str] | None:
    """FastAPI's `{* file.py ln[1:3] hl[2] *}`: the file (or its `ln` lines) as a code fence."""
    found = folder.read_include(path, target)
    if found is None:
        return None
    lines = _select(found[1], "")
    m = _LINES_OPT_RE.search(options)
    if m:
        picked: list[str] = []
        for part in m.group(1).split(","):
            first, _, last = part.strip().partition(":")
            if first.isdigit():
                picked.extend(lines[int(first) - 1 : int(last) if last.isdigit() else int(first)])
        lines = picked
    language = _LANGUAGES.get(PurePosixPath(found[0]).suffix, PurePosixPath(found[0]).suffix.lstrip("."))
    return [f"```{language}", *lines, "```"]


@dataclass(frozen=True, slots=True)
class _Include:
    end: int  # the first line after the directive
    indent: str  # pymdownx indents included lines like the directive
    targets: list[str]
    code_options: str | None  # FastAPI `{* … *}`: what follows the path; None for a snippet


def may_include(text: str) -> bool:
    """Whether the page has a line that looks like an include directive. Such a page's
    fragments depend on other files too, so its bytes alone cannot say it is unchanged."""
    return any(
        _SNIPPET_RE.match(line) or _SNIPPET_BLOCK_RE.match(line) or _FASTAPI_RE.match(line)
        for line in text.splitlines()
        if "8<" in line or "{*" in line
    )


def _directive(lines: list[str], i: int, in_fence: bool) -> _Include | None:
    m = _SNIPPET_RE.match(lines[i])
    if m:
        return _Include(i + 1, m.group(1), [m.group(3)], None)
    m = _SNIPPET_BLOCK_RE.match(lines[i])
    if m:
        close = next((j for j in range(i + 1, len(lines)) if _SNIPPET_BLOCK_RE.match(lines[j])), None)
        if close is None:
            return None
        names = [t.strip() for t in lines[i + 1 : close] if t.strip() and not t.strip().startswith(";")]
        return _Include(close + 1, m.group(1), names, None)
    m = None if in_fence else _FASTAPI_RE.match(lines[i])
    if m:
        return _Include(i + 1, m.group(1), [m.group(2)], m.group(3))
    return None


def _included(
    inc: _Include, folder: DocsFolder | None, path: str, stack: tuple[str, ...], budget: list[int]
) -> list[str] | None:
    """The lines an include puts in the page, or None when none of its files could be read."""
    if folder is None or len(stack) > MAX_DEPTH:
        return None
    found: list[str] | None = None
    for target in inc.targets:
        if budget[0] <= 0:
            break
        if inc.code_options is not None:
            body = _code_lines(folder, path, target, inc.code_options)
        else:
            fetched = _fetch(folder, path, target, stack)
            body = (
                None
                if fetched is None
                else expand(fetched[1], fetched[0], folder, (*stack, fetched[0]), budget)[0]
            )
        if body is None:
            continue
        body = body[: budget[0]]
        budget[0] -= len(body)
        found = (found or []) + [inc.indent + x if x.strip() else "" for x in body]
    return found


def expand(
    lines: list[str],
    path: str,
    folder: DocsFolder | None,
    stack: tuple[str, ...] = (),
    budget: list[int] | None = None,
) -> tuple[list[str], list[int]]:
    """The page with its includes spliced in, and each line's origin (0-based) in `lines`.

    An include that cannot be read is dropped (pymdownx drops a missing snippet too), except
    inside a code fence, where an unresolved `--8<--` line is left as the example it may be.
    `stack` holds the pages being included (a cycle is dropped); `budget` the lines left.
    """
    budget = [MAX_LINES] if budget is None else budget
    stack = stack or (path,)
    out: list[str] = []
    origin: list[int] = []
    fence: tuple[str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = (None if closes_fence(line, fence) else fence) if fence is not None else opens_fence(line)
        inc = None if _ESCAPE_RE.match(line) else _directive(lines, i, fence is not None)
        if inc is None:
            out.append(_ESCAPE_RE.sub(r"\1\2", line))  # `;--8<--` is pymdownx's escape
            origin.append(i)
            i += 1
            continue
        body = _included(inc, folder, path, stack, budget)
        if body is None and fence is not None:
            out.extend(lines[i : inc.end])  # an unresolved include inside a fence: an example
            origin.extend(range(i, inc.end))
        else:
            # The included lines come from the directive's line; the rest of a block-form
            # directive turns blank, so every later line keeps its origin.
            out.extend(body or [""])
            origin.extend([i] * len(body or [""]))
            out.extend([""] * (inc.end - i - 1))
            origin.extend(range(i + 1, inc.end))
        i = inc.end
    return out, origin
