"""What `docsearch mcp`'s tools do, apart from the protocol: a thin layer over one warm
`Searcher` (search/warm.py), with no retrieval logic of its own.

Every method returns plain JSON values cut to the token budget (`mcp_token_budget`): agents
pay for context, and a 3,000-line page must arrive as a window with the line to continue at.
Document text is untrusted: it leaves here through `sanitize`/`sanitize_line`.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from docsearch.errors import InputError, SettingsError
from docsearch.inputs import check_query
from docsearch.mcp_server.budget import cut_lines, cut_tokens, estimate_tokens
from docsearch.mcp_server.pages import Page, PageMap, Section, heading_line, read_page_lines
from docsearch.model import Hit
from docsearch.parts import join_parts
from docsearch.present import sanitize, sanitize_line
from docsearch.search.warm import WarmSearcher, warm_up
from docsearch.settings import Settings

if TYPE_CHECKING:
    from docsearch.llm.client import LLMClient
    from docsearch.search.searcher import Searcher

MAX_TOP_K = 50
# Each search hit's excerpt: enough to judge a section by, and the agent reads the rest with
# read_fragment. Below MIN_EXCERPT a hit is left out rather than shown without text.
MAX_EXCERPT_TOKENS = 160
MIN_EXCERPT_TOKENS = 24
# The tokens of a hit's address, scores and breadcrumb in the text rendering, beyond its names.
HIT_OVERHEAD_TOKENS = 16
# How many of a page's anchors an error about a missing one lists.
ANCHORS_LISTED = 20
_LINK_DEFINITION_RE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)  # stdout is the protocol's


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


class DocsService:
    def __init__(self, settings: Settings, searcher_factory: Callable[[], Searcher] | None = None) -> None:
        self.settings = settings
        self.budget = settings.mcp_token_budget
        # Built on a thread once the server can answer (`start`), so that the `initialize`
        # handshake never waits for a model; the first call that needs it waits instead.
        self.warm: WarmSearcher[None] = WarmSearcher(
            settings, warm_up, searcher_factory, on_reopened=self._drop_pages, on_reopen_error=_warn
        )
        self._pages: PageMap | None = None
        self._pages_lock = threading.Lock()
        self._llm: LLMClient | None = None
        if settings.llm:  # only then pay for importing the HTTP client
            from docsearch.llm.client import client_from_settings

            self._llm = client_from_settings(settings)  # a bad `llm` setting fails at start-up

    @property
    def has_llm(self) -> bool:
        return self._llm is not None

    def start(self) -> None:
        self.warm.start()

    def close(self) -> None:
        self.warm.close()

    def searcher(self) -> Searcher:
        return self.warm.get()[0]

    def pages(self) -> tuple[Searcher, PageMap]:
        """The searcher and the page map of the same commit (built on first use)."""
        searcher = self.searcher()
        with self._pages_lock:
            if self._pages is None or self._pages.reader is not searcher.reader:
                self._pages = PageMap(searcher.reader)
            return searcher, self._pages

    def _drop_pages(self, searcher: Searcher, _: None) -> None:
        self._pages = None  # the replaced commit's pages: let them go now, not at the next read

    # -- checks -----------------------------------------------------------------------------

    @staticmethod
    def _check_query(query: str, what: str = "query") -> str:
        # The CLI's checks and messages (empty, not UTF-8: JSON can carry a lone surrogate
        # such as "\udcff", too long), then the query as the Searcher takes it.
        check_query(query, what)
        return " ".join(query.split())

    @staticmethod
    def _check_source(searcher: Searcher, source: str | None) -> None:
        sources = searcher.reader.meta.sources
        if source is not None and source not in sources:
            known = ", ".join(sorted(sources)) or "none"
            raise InputError(
                f"unknown source {sanitize_line(source)!r}: the index has {sanitize_line(known)}"
            )

    # -- tools ------------------------------------------------------------------------------

    def search(
        self, query: str, top_k: int = 8, source: str | None = None, path_prefix: str | None = None
    ) -> dict[str, Any]:
        query = self._check_query(query)
        if top_k < 1:
            raise SettingsError("top_k must be at least 1")
        if top_k > MAX_TOP_K:
            raise SettingsError(f"top_k must be at most {MAX_TOP_K}, got {top_k}")
        source = source or None
        searcher = self.searcher()
        self._check_source(searcher, source)
        result = searcher.search(
            query, top_k=top_k, source=source, path_prefix=path_prefix or None, rescore=True
        )
        hits, omitted = self._fit_hits(result.hits)
        return {
            "query": query,
            "corrections": [sanitize_line(c) for c in result.corrections],
            "results": hits,
            "omitted": omitted,
            "took_ms": round(result.timings.total, 2),
        }

    def _fit_hits(self, hits: list[Hit]) -> tuple[list[dict[str, Any]], int]:
        """The hits with excerpts sized to share the budget; the last ones left out if even the
        smallest excerpts would not fit."""
        rows = [_hit_row(h) for h in hits]
        overheads = [
            HIT_OVERHEAD_TOKENS + estimate_tokens(r["ref"] + r["source"] + " ".join(r["breadcrumb"]))
            for r in rows
        ]
        kept = len(rows)
        while kept and sum(overheads[:kept]) + kept * MIN_EXCERPT_TOKENS > self.budget:
            kept -= 1
        share = (self.budget - sum(overheads[:kept])) // kept if kept else 0
        each = min(MAX_EXCERPT_TOKENS, share)
        for row, hit in zip(rows[:kept], hits, strict=False):
            cut = cut_tokens(sanitize(_excerpt(hit.fragment.text)), each)
            row["excerpt"], row["excerpt_truncated"] = cut.text, cut.truncated
        return rows[:kept], len(rows) - kept

    def read_fragment(self, ref: str, source: str | None = None) -> dict[str, Any]:
        path, hash_sign, anchor = ref.strip().partition("#")
        if not path:
            raise InputError("give a reference as PATH#ANCHOR, as search_docs returns them")
        searcher, pages = self.pages()
        page = self._page(searcher, pages, path, source or None)
        # A bare path is the page's first section: its lead text, or the title's section.
        section = page.section(anchor) if hash_sign else page.sections[0]
        if section is None:
            raise InputError(_no_section(page, anchor))
        parts = pages.parts(section)
        text, starts = join_parts([f.text for f in parts], section.part_lines, [f.line_end for f in parts])
        first = parts[0]
        heading = f"{'#' * section.level} {first.heading}\n\n" if section.level and first.heading else ""
        body = sanitize(heading + _tidy(text))
        cut = cut_tokens(body, self.budget)
        continue_at = None
        if cut.truncated:
            # The file line of the first line not shown, from the part it is in: an estimate
            # that errs early (lines the index leaves out, such as comments, only add lines).
            shown = max(cut.lines - heading.count("\n"), 0)  # lines of `text` shown
            part = max(n for n, start in enumerate(starts) if start <= shown)
            estimate = section.part_lines[part] + shown - starts[part]
            continue_at = max(section.line_start + 1, min(estimate, section.line_end))
        return {
            "ref": sanitize_line(section.ref(page.path)),
            "source": sanitize_line(page.source),
            "path": sanitize_line(page.path),
            "anchor": sanitize_line(section.anchor),
            "title": sanitize_line(page.title),
            "breadcrumb": [sanitize_line(c) for c in first.breadcrumb],
            "line_start": section.line_start,
            "line_end": section.line_end,
            "parts": len(parts),
            "text": cut.text,
            "truncated": cut.truncated,
            "continue_at_line": continue_at,
        }

    def read_page(
        self, path: str, around: str | None = None, line: int | None = None, source: str | None = None
    ) -> dict[str, Any]:
        path = path.strip()
        if not path:
            raise InputError("give the page's path, as search_docs returns it")
        if line is not None and line < 1:
            raise SettingsError("line must be at least 1")
        searcher, pages = self.pages()
        if "#" in path and around is None:
            path, _, around = path.partition("#")
        page = self._page(searcher, pages, path, source or None)
        root = searcher.reader.meta.sources.get(page.source, {}).get("root")
        lines = read_page_lines(root, page.path)
        if lines is None:
            raise InputError(
                f"cannot read {sanitize_line(page.path)} from {sanitize_line(str(root))} (moved or deleted "
                "since it was indexed?): read_fragment gives its sections from the index"
            )
        section = None
        if around:
            section = page.section(around)
            if section is None:
                raise InputError(_no_section(page, around))
        total = len(lines)
        whole = sanitize("\n".join(lines))
        if line is None and estimate_tokens(whole) <= self.budget:
            start, end, text = 1, total, whole
        else:
            start = min(line, total) if line is not None else heading_line(lines, section) if section else 1
            window = [sanitize(x) for x in lines[start - 1 :]]
            count = cut_lines(window, self.budget)
            text = "\n".join(window[:count])
            cut = cut_tokens(text, self.budget)  # one line longer than the budget
            text, end = cut.text, start + count - 1
        return {
            "source": sanitize_line(page.source),
            "path": sanitize_line(page.path),
            "title": sanitize_line(page.title),
            "around": sanitize_line(around) if around else None,
            "line_start": start,
            "line_end": end,
            "total_lines": total,
            "text": text,
            "truncated": start > 1 or end < total,
            "next_line": end + 1 if end < total else None,
        }

    def page_text(self, source: str, path: str) -> str:
        """A resource's contents: the page (within the budget, with where to read on)."""
        out = self.read_page(path, source=source)
        if out["next_line"] is None:
            return out["text"]
        return (
            f"{out['text']}\n\n[… lines {out['next_line']}–{out['total_lines']} left out of this "
            f"{out['total_lines']}-line page: read_page(path={out['path']!r}, line={out['next_line']})]"
        )

    def list_pages(self) -> list[Page]:
        return self.pages()[1].sorted_pages()

    def list_sources(self) -> dict[str, Any]:
        searcher = self.searcher()
        meta = searcher.reader.meta
        doc, query = meta.document_model, searcher.embedder.identity
        sources = [
            {
                "name": sanitize_line(name),
                "root": sanitize_line(str(info.get("root", ""))),
                "files": int(info.get("files", 0)),
                "fragments": int(info.get("fragments", 0)),
                "base_url": sanitize_line(str(info["base_url"])) if info.get("base_url") else None,
                "updated": _utc(float(info["updated"])) if info.get("updated") else None,
            }
            for name, info in sorted(meta.sources.items())
        ]
        return {
            "index": sanitize_line(str(self.settings.index)),
            "fragments": meta.count,
            "sources": sources,
            "document_model": sanitize_line(doc.name),
            "query_model": sanitize_line(query.name),
            "space": sanitize_line(doc.space),
            "dimension": doc.dim,
            "updated": _utc(meta.updated),
            "age_seconds": max(0, round(time.time() - meta.updated)),
            "answer_tool": self.has_llm,
        }

    async def answer(self, question: str) -> dict[str, Any]:
        """The LLM's cited summary of the best fragments (only when an LLM is configured)."""
        import anyio.to_thread

        from docsearch.llm.summary import Summary, stream_summary

        assert self._llm is not None
        question = self._check_query(question, "question")
        result = await anyio.to_thread.run_sync(lambda: self.searcher().search(question, rescore=True))
        hits = result.hits[: self.settings.summary_fragments]
        if not hits:
            return {"question": question, "answer": "", "citations": [], "model": self._llm.spec.model}
        summary = Summary(text="", citations=[], model=self._llm.spec.model)
        async for _ in stream_summary(self._llm, question, hits, summary):
            pass
        cut = cut_tokens(sanitize(summary.text), self.budget)
        return {
            "question": question,
            "answer": cut.text,
            "citations": [
                {
                    "n": c.n,
                    "ref": sanitize_line(f"{c.path}#{c.anchor}" if c.anchor else c.path or ""),
                    "valid": c.valid,
                }
                for c in summary.citations
            ],
            "model": sanitize_line(summary.model),
        }

    def _page(self, searcher: Searcher, pages: PageMap, path: str, source: str | None) -> Page:
        self._check_source(searcher, source)
        found = pages.lookup(path, source)
        if not found:
            where = f" of source {sanitize_line(source)!r}" if source else ""
            raise InputError(f"no page {sanitize_line(path)!r} in the index{where}: search_docs gives paths")
        if len(found) > 1:
            names = ", ".join(sanitize_line(p.source) for p in found)
            raise InputError(f"{sanitize_line(path)!r} is in several sources ({names}): give source")
        return found[0]


def _hit_row(hit: Hit) -> dict[str, Any]:
    f = hit.fragment
    return {
        "ref": sanitize_line(f.ref),
        "source": sanitize_line(f.source),
        "path": sanitize_line(f.path),
        "anchor": sanitize_line(f.anchor),
        "title": sanitize_line(f.title),
        "breadcrumb": [sanitize_line(c) for c in f.breadcrumb],
        "line": f.line_start,
        "line_end": f.line_end,
        "score": round(hit.score, 4),
        "excerpt": "",
        "excerpt_truncated": False,
    }


def _tidy(text: str) -> str:
    """Blank-line runs collapsed and ends trimmed: the same text in fewer tokens."""
    out: list[str] = []
    for line in text.strip().split("\n"):
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line.rstrip())
    return "\n".join(out)


def _excerpt(text: str) -> str:
    """The text an excerpt is cut from: without link reference definitions (`[name]: url`
    lines, which a part at a page's end can consist of), unless that leaves nothing."""
    kept = "\n".join(line for line in text.split("\n") if not _LINK_DEFINITION_RE.match(line))
    return _tidy(kept) or _tidy(text)


def _no_section(page: Page, anchor: str) -> str:
    anchors = [s.anchor for s in page.sections if s.anchor]
    listed = ", ".join(sanitize_line(a) for a in anchors[:ANCHORS_LISTED])
    more = f" and {len(anchors) - ANCHORS_LISTED} more" if len(anchors) > ANCHORS_LISTED else ""
    return (
        f"no section #{sanitize_line(anchor)} on {sanitize_line(page.path)}: its anchors are {listed}{more}"
    )


__all__ = ["MAX_TOP_K", "DocsService", "Section"]
