"""Cited summaries: an answer grounded only in the top fragments, with [n] citations.

The fragments go into the prompt as numbered, delimited data (documentation is untrusted
text); the system prompt is a package resource. Citations in the answer are mapped back to
`path#anchor`; a citation of a number that was not in the context is kept but flagged, so a
reader (or a script) can tell a checkable claim from an invented one.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from docsearch.llm.client import LLMClient, Usage
from docsearch.model import Hit

MAX_FRAGMENT_CHARS = 2400  # per fragment in the prompt: enough for a section, bounded cost
_CITATION_RE = re.compile(r"\[(\d{1,3})\]")


@cache
def prompt(name: str) -> str:
    return (resources.files("docsearch.llm") / "prompts" / f"{name}.txt").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    path: str | None
    anchor: str | None
    valid: bool  # False: the answer cites a fragment it was not given

    def as_json(self) -> dict[str, object]:
        return {"n": self.n, "path": self.path, "anchor": self.anchor, "valid": self.valid}


@dataclass(slots=True)
class Summary:
    text: str
    citations: list[Citation]
    model: str
    usage: Usage = field(default_factory=Usage)

    @property
    def invalid(self) -> list[int]:
        return [c.n for c in self.citations if not c.valid]

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "citations": [c.as_json() for c in self.citations],
            "model": self.model,
            "usage": self.usage.as_dict(),
        }


# Anything a model could read as a fragment tag: `</fragment>`, `</FRAGMENT >`, `< /Fragment`,
# `<fragment n="9">`. Models read tags case- and space-insensitively, so the escape must too.
_TAG_RE = re.compile(r"<(\s*/?\s*fragment)", re.IGNORECASE)


def escape_fragment(text: str) -> str:
    """A fragment cannot close its own delimiter (or open a new one) and pose as the
    instructions after it: the `<` of every fragment-like tag becomes `&lt;`."""
    return _TAG_RE.sub(r"&lt;\1", text)


def build_user_message(question: str, hits: Sequence[Hit]) -> str:
    parts = [f"Question: {question}", "", "Documentation fragments:"]
    for n, hit in enumerate(hits, 1):
        f = hit.fragment
        text = f.text if len(f.text) <= MAX_FRAGMENT_CHARS else f.text[:MAX_FRAGMENT_CHARS] + " …"
        crumbs = " › ".join(f.breadcrumb)
        # Quotes too: a `"` in a file name would end the attribute early.
        ref, crumbs = escape_fragment(f.ref.replace('"', "'")), escape_fragment(crumbs.replace('"', "'"))
        parts.append(f'<fragment n="{n}" ref="{ref}" breadcrumb="{crumbs}">')
        parts.append(escape_fragment(text))
        parts.append("</fragment>")
    parts += ["", "Answer the question from these fragments, citing them as [n]."]
    return "\n".join(parts)


def citations(text: str, hits: Sequence[Hit]) -> list[Citation]:
    seen: dict[int, Citation] = {}
    for match in _CITATION_RE.finditer(text):
        n = int(match.group(1))
        if n in seen:
            continue
        if 1 <= n <= len(hits):
            f = hits[n - 1].fragment
            seen[n] = Citation(n, f.path, f.anchor, True)
        else:
            seen[n] = Citation(n, None, None, False)
    return list(seen.values())


async def stream_summary(
    client: LLMClient, question: str, hits: Sequence[Hit], out: Summary
) -> AsyncIterator[str]:
    """Stream the answer's text; when the stream ends, `out` holds the text and citations."""
    user = build_user_message(question, hits)
    chunks: list[str] = []
    async for text in client.stream(prompt("summary"), user, max_tokens=800, usage=out.usage):
        chunks.append(text)
        yield text
    out.text = "".join(chunks)
    out.citations = citations(out.text, hits)
