"""Markdown dialects → plain CommonMark, line for line, before chunking.

Doc sites are written for a generator, not for CommonMark: mkdocs-material admonitions and
content tabs indent their body by four spaces (an indented code block to CommonMark),
VitePress and Docusaurus wrap text in `::: tip` containers and Vue/JSX component tags, Hugo in
shortcodes, kramdown puts `{: #id}` on the line under a heading. The chunker cuts fragment text
out of the source lines, so a parser plugin that only fixes the token tree would still leave
`!!!` and `:::` in the text. Rewriting the lines instead fixes structure and text at once, and
because every line maps to exactly one line (a dropped line becomes a blank one), fragments
still point at the right lines of the original file.

Code fences are never rewritten: a `:::` or `!!!` inside a fence is an example. Heading
attribute lists (`## Title { #id .class }`) are parsed by the chunker with `split_attrs`, since
only it knows which lines are headings.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")

# Python-Markdown admonitions, pymdownx.details (`???`, `???+`) and pymdownx.tabbed (`===`).
_ADMONITION_RE = re.compile(
    r"""^(\s*)(?:!!!|\?\?\?\+?)[ \t]*([\w-]+(?:[ \t]+[\w-]+)*)?(?:[ \t]*"([^"]*)")?\s*$"""
)
_TAB_RE = re.compile(r"""^(\s*)===[!+]?[ \t]+"([^"]*)"\s*$""")
# pymdownx.blocks: `/// name | title` … `///` (more slashes for an outer block).
_BLOCK_OPEN_RE = re.compile(r"^\s*(/{3,})[ \t]*([\w-]+)[ \t]*(?:\|[ \t]*(.*?))?\s*$")
_BLOCK_CLOSE_RE = re.compile(r"^\s*(/{3,})\s*$")
# markdown-it-container (VitePress), Docusaurus admonitions, Pandoc/Quarto fenced divs.
_CONTAINER_RE = re.compile(r"^(\s*):{3,}[ \t]*(\{[^}]*\}|[\w-]+)?[ \t]*(.*?)\s*$")
# Lines that hold nothing but tags: `<CodeGroup>`, `</TabItem>`, `<div class="options-api">`.
_TAG_RE = re.compile(r"<(/?)([A-Za-z][\w.:-]*)(?:\s[^<>]*)?/?>")
_TAG_LINE_RE = re.compile(r"^\s*(?:<[^<>]+>\s*)+$")
# Kept: images (their alt text), headings, and `<a id="x"></a>` anchors (the chunker's ids).
_KEEP_TAGS = frozenset({"img", "h1", "h2", "h3", "h4", "h5", "h6"})
_ANCHOR_TAG_RE = re.compile(r"""<a\s[^<>]*\b(?:id|name)\s*=""", re.IGNORECASE)
_OPEN_COMPONENT_RE = re.compile(r"^\s*<[A-Z][\w.]*(?:\s[^<>]*)?$")  # `<Tabs` with props on later lines
_HTML_HEADING_RE = re.compile(r"^\s*<h[1-6][\s>]", re.IGNORECASE)
_SUMMARY_RE = re.compile(r"^(\s*)<summary>(.*)</summary>\s*$", re.IGNORECASE)
_SCRIPT_RE = re.compile(r"^<(script|style)\b", re.IGNORECASE)
# MDX ESM: `import Tabs from '@theme/Tabs';`, `export const x = …` (until the next blank line).
_ESM_RE = re.compile(
    r"""^(?:import\s+(?:[\w*{}\s,]+\s+from\s+)?["']|export\s+(?:const|let|var|function|default|class|async|\{))"""
)
# Hugo shortcodes, with the `{{</* … */>}}` escape that shows one literally.
_SHORTCODE_RE = re.compile(r"\{\{([<%])\s*/\*(.*?)\*/\s*[>%]\}\}|\{\{<(.*?)>\}\}|\{\{%(.*?)%\}\}")
_CODE_SPAN_RE = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_SHORTCODE_INNER_RE = re.compile(r"""^\s*/?\s*([\w./-]+)\s*(?:["']([^"']*)["']|(\S+))?""")
_LIQUID_LINE_RE = re.compile(r"^\s*(?:\{%-?.*?-?%\}\s*)+$")  # Jekyll / mkdocs-macros `{% raw %}`
_ABBR_RE = re.compile(r"^\s*\*\[[^\]]+\]:\s")  # Python-Markdown / kramdown abbreviation definitions
_ATX_RE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT_RE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_TOC_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+TOC\s*$")

# One attribute list: `{#id .class key="v"}`, `{: #id}` (kramdown), `{ .class }` (attr_list).
_ATTR_LIST_RE = re.compile(r"\s*\{(:?)[ \t]*([^{}\n]*?)[ \t]*\}\s*$")
# Python-Markdown reads `#…` up to a space as the id, so `{#vue.js-policy}` keeps its dot.
_ATTR_TOKEN_RE = re.compile(r"""#[^\s{}]+|\.[^\s{}=]+|[\w-]+=(?:"[^"]*"|'[^']*'|[^\s"'{}]+)|[\w-]+|-""")


def split_attrs(text: str) -> tuple[str, str | None] | None:
    """`Title { #id .class }` → ("Title", "id"); None when the text does not end in an attribute list.

    A `{…}` counts only when all of it parses as attributes and it has a sigil (`#`, `.`, `=`) or
    kramdown's `{:`: `## Sets {a, b}` or `{{ mustache }}` stay text.
    """
    m = _ATTR_LIST_RE.search(text)
    if m is None:
        return None
    body = m.group(2)
    tokens = _ATTR_TOKEN_RE.findall(body)
    if not tokens or _ATTR_TOKEN_RE.sub("", body).strip():
        return None
    if not m.group(1) and not any(t[0] in "#." or "=" in t for t in tokens) and tokens != ["-"]:
        return None
    ids = [t[1:] for t in tokens if t.startswith("#")]
    return text[: m.start()].rstrip(), (ids[-1] if ids else None)


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _dedent(line: str, at: int, width: int = 4) -> str:
    """Remove `width` columns of indentation after the first `at` columns (tabs in the
    indentation count as four, as in Python-Markdown; tabs after it are left alone)."""
    body = line.lstrip()
    if not body:
        return ""
    lead = line[: len(line) - len(body)].expandtabs(4)
    return lead[:at] + lead[at + width :] + body


def opens_fence(line: str) -> tuple[str, int] | None:
    m = _FENCE_RE.match(line)
    if m is None or (m.group(1)[0] == "`" and "`" in m.group(2)):
        return None
    return m.group(1)[0], len(m.group(1))


def closes_fence(line: str, fence: tuple[str, int]) -> bool:
    s = line.strip()
    return len(s) >= fence[1] and set(s) == {fence[0]}


def _title(kind: str | None, title: str | None, indent: str = "") -> str:
    """What a rendered admonition or container shows: its title, else its type."""
    if title is not None:
        title = title.strip().strip("[]").strip()
        return f"{indent}**{title}**" if title else ""
    return f"{indent}**{kind.capitalize()}**" if kind else ""


def _in_container(lines: list[str], i: int, indent: int, base: int) -> bool:
    """An indented `!!!` is an admonition only inside a list item or another container; at the
    top level four spaces make it an indented code block (an example of the syntax). `base` is
    the indentation of the admonition body being rewritten (0 at the top)."""
    if indent - base < 4:
        return True
    for j in range(i - 1, -1, -1):
        if lines[j].strip() and _indent(lines[j]) < indent:
            s = lines[j]
            return bool(_LIST_ITEM_RE.match(s) or _ADMONITION_RE.match(s) or _TAB_RE.match(s))
    return False


def _front_matter_end(lines: list[str], out: list[str]) -> int:
    """Lines of YAML (`---`) or TOML (`+++`, Hugo) front matter; TOML becomes `---` so the
    CommonMark front-matter plugin hides it too."""
    if not lines or lines[0].rstrip() not in ("---", "+++"):
        return 0
    fence = lines[0].rstrip()
    for j in range(1, len(lines)):
        if lines[j].rstrip() == fence or (fence == "---" and lines[j].rstrip() == "..."):
            if fence == "+++":
                out[0] = out[j] = "---"
            return j + 1
    return 0


def _shortcode(m: re.Match[str]) -> str:
    if m.group(1):  # escaped: Hugo prints it as written
        delim = m.group(1)
        return "{{" + delim + m.group(2) + (">" if delim == "<" else "%") + "}}"
    inner = _SHORTCODE_INNER_RE.match(m.group(3) if m.group(3) is not None else m.group(4))
    if inner and inner.group(1) in ("ref", "relref"):
        return inner.group(2) or inner.group(3) or ""
    return ""


def _shortcodes(line: str) -> str:
    """Hugo shortcodes out of a line, except inside code spans: a page that shows `{{< note >}}`
    in backticks is about the syntax (Hugo pages write that as `{{</* note */>}}`, which is
    unwrapped everywhere)."""
    out: list[str] = []
    done = 0
    for span in _CODE_SPAN_RE.finditer(line):
        out.append(_SHORTCODE_RE.sub(_shortcode, line[done : span.start()]))
        out.append(_SHORTCODE_RE.sub(lambda m: _shortcode(m) if m.group(1) else m.group(0), span.group(0)))
        done = span.end()
    out.append(_SHORTCODE_RE.sub(_shortcode, line[done:]))
    return "".join(out)


def _heading_line(out: list[str], i: int) -> int | None:
    """The line holding the heading text when line `i - 1` ends an ATX or setext heading."""
    if i >= 1 and _ATX_RE.match(out[i - 1]):
        return i - 1
    if i >= 2 and _SETEXT_RE.match(out[i - 1]) and out[i - 2].strip() and not _ATX_RE.match(out[i - 2]):
        return i - 2
    return None


def _attr_line(out: list[str], i: int, line: str) -> None:
    """A line that is only an attribute list. kramdown's `{: #id}` under a heading sets its id
    (moved onto the heading line, where `split_attrs` finds it); `{:toc}` drops the `* TOC`
    placeholder above it; any other block IAL (`{: .note}`) styles a block and is not text."""
    parsed = split_attrs(line)
    body = line.strip()[2:-1].strip() if line.strip().startswith("{:") else ""
    # Only kramdown reads an attribute line as the heading's: `{#id}` alone is a block attribute.
    head = _heading_line(out, i) if body and body != "toc" else None
    if head is not None and parsed is not None and parsed[1]:
        text = (
            re.sub(r"\s+#+\s*$", "", out[head].rstrip()) if _ATX_RE.match(out[head]) else out[head].rstrip()
        )
        out[head] = f"{text} {{#{parsed[1]}}}"
    if body == "toc" and i >= 1 and _TOC_ITEM_RE.match(out[i - 1]):
        out[i - 1] = ""
    out[i] = ""


def is_bare_tag_line(line: str) -> bool:
    """A line of nothing but tags, none an image, heading or `<a id>` anchor: no text to read."""
    if not _TAG_LINE_RE.match(line) or _ANCHOR_TAG_RE.search(line):
        return False
    tags = _TAG_RE.findall(line)
    return bool(tags) and not any(name.lower() in _KEEP_TAGS for _, name in tags)


def _hides_heading(lines: list[str], i: int) -> bool:
    """Whether the HTML block that line `i` opens holds an HTML heading. CommonMark runs such a
    block to the next blank line, so `<div class="demo">` + `<h3>Bad</h3>` is raw HTML: the
    `<h3>` gets no id on the site. Keeping the opener keeps it out of the heading list (the
    chunker still leaves bare tag lines out of the text)."""
    for line in lines[i + 1 :]:
        if not line.strip():
            return False
        if _HTML_HEADING_RE.match(line):
            return True
    return False


def _rewrite_line(lines: list[str], out: list[str], i: int, line: str) -> None:
    """Single-line dialect syntax outside code, rewritten in place in `out`."""
    s = line.strip()
    lone = s.startswith("{") and (parsed := split_attrs(s)) is not None and not parsed[0]
    if lone or (s.startswith("{:") and s.endswith("}")):
        _attr_line(out, i, line)
        return
    if _ABBR_RE.match(line) or _LIQUID_LINE_RE.match(line):
        out[i] = ""
        return
    if "{{" in line:
        line = _shortcodes(line)
        out[i] = line if line.strip() else ""
    m = _SUMMARY_RE.match(line)
    if m:
        out[i] = f"{m.group(1)}**{m.group(2).strip()}**"
    elif is_bare_tag_line(line) and not _hides_heading(lines, i):
        out[i] = ""


def rewrite(lines: list[str], top: bool = True, base: int = 0) -> list[str]:
    """The same number of lines, with dialect syntax outside code fences made CommonMark.

    `top` is false for an admonition's body, rewritten on its own; `base` is its indentation.
    """
    out = list(lines)
    i = start = _front_matter_end(lines, out) if top else 0
    n = len(lines)
    fence: tuple[str, int] | None = None
    blocks: list[int] = []  # slash counts of the open `///` blocks
    while i < n:
        line = lines[i]
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
            i += 1
            continue
        fence = opens_fence(line)
        if fence is not None:
            i += 1
            continue
        indent = _indent(line)
        m = _ADMONITION_RE.match(line)
        if m is not None and m.group(2) is None and m.group(3) is None:
            m = None  # a bare `!!!` or `???` is punctuation
        m = m or _TAB_RE.match(line)
        if m and _in_container(lines, i, indent, base):
            # The body: following lines indented four more (blank lines included), dedented
            # and rewritten on their own, so nested admonitions and fences inside work.
            end = i + 1
            while end < n and (not lines[end].strip() or _indent(lines[end]) >= indent + 4):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            kind, title = (None, m.group(2)) if m.re is _TAB_RE else (m.group(2), m.group(3))
            out[i] = _title(kind.split()[0] if kind else None, title, " " * indent)
            body = [_dedent(x, indent) for x in lines[i + 1 : end]]
            out[i + 1 : end] = rewrite(body, top=False, base=indent)
            i = end
            continue
        m = _BLOCK_CLOSE_RE.match(line)
        if m and blocks and len(m.group(1)) == blocks[-1]:
            blocks.pop()
            out[i] = ""
            i += 1
            continue
        m = _BLOCK_OPEN_RE.match(line)
        if m and any(_BLOCK_CLOSE_RE.match(x) and x.strip() == m.group(1) for x in lines[i + 1 :]):
            blocks.append(len(m.group(1)))
            kind = m.group(2).lower()
            plain = kind in ("admonition", "details", "tab", "caption")
            hidden = kind in ("html", "define", "caption")
            out[i] = "" if hidden else _title(None if plain else kind, m.group(3) or None, " " * indent)
            i += 1
            while i < n and lines[i].strip() and _indent(lines[i]) >= indent + 4:
                out[i] = ""  # the block's YAML options
                i += 1
            continue
        m = _CONTAINER_RE.match(line)
        if m:
            kind, title = m.group(2), m.group(3)
            if kind is None or kind.startswith("{") or kind in ("code-group", "v-pre", "raw"):
                out[i] = ""
            else:
                out[i] = _title(kind, title or None, m.group(1))
            i += 1
            continue
        if top and indent == 0:
            m = _SCRIPT_RE.match(line)
            if m:
                # VitePress hoists top-level <script>/<style> into the page component; GitHub
                # strips them: never text. CommonMark ends such a block at its closing tag.
                close = f"</{m.group(1).lower()}>"
                while i < n:
                    done = close in lines[i].lower()
                    out[i] = ""
                    i += 1
                    if done:
                        break
                continue
            if _ESM_RE.match(line) and (i == start or not lines[i - 1].strip()):
                while i < n and lines[i].strip():
                    out[i] = ""
                    i += 1
                continue
        if _OPEN_COMPONENT_RE.match(line):
            # A component whose props run over several lines: drop it up to its closing `>`.
            end = i
            while end < min(n, i + 30) and not lines[end].rstrip().endswith(">"):
                end += 1
            if end < n and lines[end].rstrip().endswith(">"):
                out[i : end + 1] = [""] * (end + 1 - i)
                i = end + 1
                continue
        _rewrite_line(lines, out, i, line)
        i += 1
    return out
