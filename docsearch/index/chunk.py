"""Index stage 2: markdown → `Fragment`s, one per heading section.

markdown-it-py gives CommonMark-correct block structure (a `#` line inside a code fence is not
a heading), with source line maps, so a fragment's text is the markdown between its heading and
the next heading, and its lines point back into the file.

Before parsing, includes are spliced in (includes.py) and generator dialects are rewritten to
CommonMark line for line (dialects.py): a fragment's text is the page as its reader sees it,
without `!!!`/`:::` markers or component tags, while its lines are those of the file.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors.index import slugify
from mdit_py_plugins.front_matter import front_matter_plugin

from docsearch.index.dialects import is_bare_tag_line, rewrite, split_attrs
from docsearch.index.hotlinks import hot_links
from docsearch.index.includes import DocsFolder, SlugStyle, expand
from docsearch.model import Fragment

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_HTML_ID_RE = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_HTML_HEADING_RE = re.compile(r"""^\s*<h([1-6])\b([^>]*)>(.*?)</h\1>\s*$""", re.IGNORECASE | re.DOTALL)
_HTML_ANCHOR_RE = re.compile(r"""^\s*<a\s+(?:name|id)\s*=\s*["']([^"']+)["']\s*>\s*</a>\s*$""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_COMMENT_BLOCK_RE = re.compile(r"^\s*<!--.*-->\s*$", re.DOTALL)
_FRONT_TITLE_RE = re.compile(r"""^title\s*[:=]\s*(.+?)\s*$""", re.MULTILINE)  # YAML or TOML (Hugo)
_TOC_COUNT_RE = re.compile(r"^(.*)_([0-9]+)$")

_md = MarkdownIt("commonmark").enable("table").enable("strikethrough").use(front_matter_plugin)


def count_tokens(text: str) -> int:
    """A model-independent token estimate (words and punctuation), close to WordPiece/BPE counts."""
    return len(_TOKEN_RE.findall(text))


def fragment_id(source: str, path: str, anchor: str, part: int) -> int:
    digest = hashlib.blake2b(f"{source}\0{path}\0{anchor}\0{part}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(slots=True)
class _Heading:
    line: int  # 0-based first line of the heading
    body_start: int  # 0-based first line after the heading
    level: int
    text: str
    explicit_id: str | None
    body_end: int = -1  # 0-based exclusive; filled in once the next heading is known


@dataclass(slots=True)
class _Block:
    start: int  # 0-based, inclusive
    end: int  # 0-based, exclusive
    is_code: bool


def _inline_text(inline: Token) -> tuple[str, str | None]:
    """Plain text of a heading's inline content, and an explicit id found in it."""
    parts: list[str] = []
    explicit: str | None = None
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "html_inline":
            m = _HTML_ID_RE.search(child.content)
            if m and explicit is None:
                explicit = m.group(1)
        elif child.type == "image":
            parts.append(child.content)
    text = "".join(parts)
    children = inline.children or []
    # `## Title { #id .class }` (attr_list, kramdown, Hugo, VitePress): the id is the anchor and
    # the list is never title text, with or without an id. Not when it ends inside a code span.
    attrs = split_attrs(text) if children and children[-1].type == "text" else None
    if attrs is not None:
        text, attr_id = attrs
        explicit = attr_id or explicit
    return " ".join(text.split()), explicit


def _front_matter_title(tokens: list[Token]) -> tuple[str | None, int]:
    if tokens and tokens[0].type == "front_matter":
        end = tokens[0].map[1] if tokens[0].map else 0
        m = _FRONT_TITLE_RE.search(tokens[0].content)
        if m:
            title = m.group(1).strip()
            if len(title) >= 2 and title[0] == title[-1] and title[0] in "'\"":
                title = title[1:-1]
            return title.strip() or None, end
        return None, end
    return None, 0


def _scan(tokens: list[Token], lines: list[str]) -> tuple[list[_Heading], list[_Block], set[int]]:
    """Top-level headings (markdown and HTML), block line ranges, and hidden lines.

    Hidden lines are HTML comment blocks and the bare tag lines of HTML blocks: invisible when
    the page is rendered (Node.js keeps its API history in comments), so they are not part of
    any fragment's text.
    """
    headings: list[_Heading] = []
    blocks: list[_Block] = []
    hidden: set[int] = set()
    pending_anchor: tuple[str, int] | None = None  # (<a id>, its line) just before a heading
    covered: set[int] = set()
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.level == 0 and tok.map is not None:
            covered.update(range(*tok.map))
        if tok.level != 0 or tok.map is None or tok.type.endswith("_close") or tok.type == "front_matter":
            i += 1
            continue
        start, end = tok.map
        if tok.type == "heading_open":
            text, explicit = _inline_text(tokens[i + 1])
            anchor_line = start
            if explicit is None and pending_anchor is not None:
                explicit, anchor_line = pending_anchor
            headings.append(_Heading(anchor_line, end, int(tok.tag[1]), text, explicit))
            pending_anchor = None
            i += 3  # heading_open, inline, heading_close
            continue
        if tok.type == "paragraph_open":
            # `<a id="x"></a>` alone on a line is a paragraph of inline HTML in CommonMark.
            m = _HTML_ANCHOR_RE.match(tokens[i + 1].content)
            if m:
                pending_anchor = (m.group(1), start)
                i += 3  # paragraph_open, inline, paragraph_close
                continue
        if tok.type == "html_block":
            m = _HTML_HEADING_RE.match(tok.content)
            if m:
                id_match = _HTML_ID_RE.search(m.group(2))
                text = " ".join(html.unescape(_TAG_RE.sub("", m.group(3))).split())
                headings.append(
                    _Heading(start, end, int(m.group(1)), text, id_match.group(1) if id_match else None)
                )
                pending_anchor = None
                i += 1
                continue
            m = _HTML_ANCHOR_RE.match(tok.content)
            if m:
                pending_anchor = (m.group(1), start)
                i += 1
                continue
            if _COMMENT_BLOCK_RE.match(tok.content):
                hidden.update(range(start, end))
                i += 1
                continue
            # A raw HTML block's wrapper lines (`<div class="demo">`, `</div>`) show no text.
            hidden.update(n for n in range(start, end) if is_bare_tag_line(lines[n]))
        pending_anchor = None
        blocks.append(_Block(start, end, tok.type in ("fence", "code_block")))
        i += 1
    # A text line no block holds is a link reference definition (`[fs.ReadStream]: fs.md#…`),
    # the one construct markdown-it consumes without a token. It does not render, and Node's
    # pages end with dozens of them, which made the last section's text a list of link
    # labels that BM25 and the embedding matched as if they were prose.
    hidden.update(n for n, line in enumerate(lines) if n not in covered and line.strip())
    return headings, blocks, hidden


def _toc_slug(text: str) -> str:
    """Python-Markdown `toc`'s default slugify (what an mkdocs site uses)."""
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _toc_unique(slug: str, used: dict[str, int]) -> str:
    """Python-Markdown's rule: the second `foo` becomes `foo_1`; an empty slug becomes `_1`."""
    while slug in used or not slug:
        m = _TOC_COUNT_RE.match(slug)
        slug = f"{m.group(1)}_{int(m.group(2)) + 1}" if m else f"{slug}_1"
    used[slug] = 0
    return slug


def _anchor(h: _Heading, used: dict[str, int], taken: set[str], style: SlugStyle) -> str:
    """`taken`: the anchors given so far in the page (toc mode needs it beside `used`)."""
    if h.explicit_id and style == "python-markdown":
        # toc never renames an explicit id (they are all in `used` already, see chunk()); a
        # page that repeats one still needs distinct fragment ids, so the repeat is numbered.
        return h.explicit_id if h.explicit_id not in taken else _toc_unique(h.explicit_id, used)
    if h.explicit_id:
        return _unique(h.explicit_id, used)
    if style == "python-markdown":
        return _toc_unique(_toc_slug(h.text), used)
    return _unique(slugify(h.text) or "section", used)


def _unique(slug: str, used: dict[str, int]) -> str:
    """GitHub's rule: the second `foo` becomes `foo-1`, the third `foo-2`."""
    if slug not in used:
        used[slug] = 0
        return slug
    while True:
        used[slug] += 1
        candidate = f"{slug}-{used[slug]}"
        if candidate not in used:
            used[candidate] = 0
            return candidate


def _strip_blank(lines: list[str], start: int, end: int, hidden: set[int]) -> tuple[int, int]:
    while start < end and (start in hidden or not lines[start].strip()):
        start += 1
    while end > start and (end - 1 in hidden or not lines[end - 1].strip()):
        end -= 1
    return start, end


def _visible(lines: list[str], start: int, end: int, hidden: set[int]) -> str:
    """The text of lines [start, end) without hidden lines, blank runs collapsed to one."""
    out: list[str] = []
    for n in range(start, end):
        if n in hidden:
            continue
        if not lines[n].strip() and out and not out[-1].strip():
            continue
        out.append(lines[n])
    return "\n".join(out)


def _split(
    lines: list[str],
    start: int,
    end: int,
    blocks: list[_Block],
    hidden: set[int],
    max_tokens: int,
    overlap: int,
) -> list[tuple[int, int, int]]:
    """Split lines [start, end) into parts of at most ~max_tokens, never inside a code block.

    Returns (first line, end line, overlap start) per part: the overlap lines are the tail of the
    previous part, repeated so that a sentence cut at the boundary is still found in context.
    """
    units: list[tuple[int, int, bool]] = []  # line ranges that must not be cut
    cursor = start
    for b in blocks:
        if b.end <= start or b.start >= end:
            continue
        bs, be = max(b.start, start), min(b.end, end)
        if bs > cursor:
            units.append((cursor, bs, False))
        if b.is_code or count_tokens(_visible(lines, bs, be, hidden)) <= max_tokens:
            units.append((bs, be, b.is_code))
        else:
            # A huge paragraph, list or table: fall back to whole lines.
            units.extend((n, n + 1, False) for n in range(bs, be))
        cursor = be
    if cursor < end:
        units.append((cursor, end, False))

    parts: list[tuple[int, int, int]] = []
    part_start = overlap_start = units[0][0]
    budget = 0
    previous: tuple[int, int, bool] | None = None  # the unit just before the current one
    for us, ue, is_code in units:
        cost = count_tokens(_visible(lines, us, ue, hidden))
        if budget and budget + cost > max_tokens:
            parts.append((part_start, us, overlap_start))
            part_start = overlap_start = us
            budget = 0
            if previous is not None and not previous[2] and overlap > 0:
                # Repeat the tail lines of the prose that ended the previous part.
                ps, pe, _ = previous
                while pe - 1 > ps and budget + count_tokens(lines[pe - 1]) <= overlap:
                    budget += count_tokens(lines[pe - 1])
                    pe -= 1
                    overlap_start = pe
        budget += cost
        previous = (us, ue, is_code)
    parts.append((part_start, end, overlap_start))
    return parts


def chunk(
    text: str,
    path: str,
    source: str,
    max_tokens: int = 192,  # the same defaults as Settings.chunk_tokens / chunk_overlap
    overlap: int = 32,
    folder: DocsFolder | None = None,
) -> list[Fragment]:
    """Split one markdown document into fragments.

    `folder` is the indexed folder `path` is in: with it, includes inside the folder are read
    and its generator's slug style is used; without it, includes are dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    expanded, origin = expand(text.split("\n"), path, folder)
    # `lines` is the page as parsed; `origin[n]` is the file line (0-based) that line n came from.
    lines = rewrite(expanded)
    tokens = _md.parse("\n".join(lines))
    fm_title, body_start = _front_matter_title(tokens)
    headings, blocks, hidden = _scan(tokens, lines)
    for n, h in enumerate(headings):
        h.body_end = headings[n + 1].line if n + 1 < len(headings) else len(lines)

    first_h1 = next((h.text for h in headings if h.level == 1 and h.text), None)
    title = fm_title or first_h1 or PurePosixPath(path).stem

    # (anchor, heading, level, breadcrumb, heading line, body start, body end)
    sections: list[tuple[str, str, int, tuple[str, ...], int, int, int]] = []
    lead_end = headings[0].line if headings else len(lines)
    sections.append(("", "", 0, (title,), body_start, body_start, lead_end))

    style: SlugStyle = folder.slug_style if folder is not None else "github"
    used: dict[str, int] = {}
    if style == "python-markdown":
        # toc collects the explicit ids first, so no slug of another heading takes one.
        used.update((h.explicit_id, 0) for h in headings if h.explicit_id)
    taken: set[str] = set()
    stack: list[_Heading] = []
    for n, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        anchor = _anchor(h, used, taken, style)
        taken.add(anchor)
        s, e = _strip_blank(lines, h.body_start, h.body_end, hidden)
        nxt = headings[n + 1] if n + 1 < len(headings) else None
        if s == e and nxt is not None and nxt.level > h.level:
            # A heading with no text of its own lives on in its children's breadcrumbs.
            continue
        crumbs = [x.text for x in stack if not (x.level == 1 and x.text == title) and x.text]
        sections.append((anchor, h.text, h.level, (title, *crumbs), h.line, h.body_start, h.body_end))

    fragments: list[Fragment] = []
    for anchor, heading, level, breadcrumb, head_line, b_start, b_end in sections:
        s, e = _strip_blank(lines, b_start, b_end, hidden)
        if level == 0 and s == e:
            continue  # no lead text
        if count_tokens(_visible(lines, s, e, hidden)) <= max_tokens:
            parts = [(s, e, s)]
        else:
            parts = _split(lines, s, e, blocks, hidden, max_tokens, overlap)
        for part, (_, pe, os_) in enumerate(parts):
            ps2, pe2 = _strip_blank(lines, os_, pe, hidden)
            part_text = _visible(lines, ps2, pe2, hidden)
            first_line = head_line if part == 0 and level > 0 else ps2
            frag = Fragment(
                id=fragment_id(source, path, anchor, part),
                source=source,
                path=path,
                anchor=anchor,
                part=part,
                title=title,
                heading=heading,
                breadcrumb=breadcrumb,
                level=level,
                line_start=origin[first_line] + 1,
                line_end=origin[max(pe2, first_line + 1) - 1] + 1,
                text=part_text,
                token_count=count_tokens(part_text),
                content_hash="",
            )
            digest = hashlib.sha256(frag.embedding_text.encode("utf-8")).hexdigest()
            # Hot links point at the section, so its first part carries them.
            names = hot_links("\n".join(lines[head_line:b_start]), part_text) if part == 0 and level else ()
            fragments.append(replace(frag, content_hash=digest, hot_links=names))
    return fragments
