"""`docsearch mcp`: the Model Context Protocol server, over stdio, on the official `mcp` SDK.

A shell like the CLI and the TUI: the SDK's `MCPServer` speaks the protocol (JSON-RPC framing,
the handshake, schemas from the signatures below, concurrent calls on worker threads), and
`DocsService` does the work over one warm `Searcher`. Tools answer with structured content
(validated against the output models here, which are also their published output schemas)
and a compact text rendering for models that read text. A `DocsearchError` becomes a tool
error carrying the CLI's one-line message; keys are redacted from everything sent.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from docsearch import __version__
from docsearch.errors import DocsearchError, InputError, redact
from docsearch.mcp_server import render
from docsearch.mcp_server.service import MAX_TOP_K, DocsService
from docsearch.present import plural, sanitize_line

SCHEME = "docsearch"

INSTRUCTIONS = """\
Searches the local documentation indexed by docsearch (offline, hybrid keyword + semantic).
Start with search_docs; each result has a ref (path#anchor) and a short excerpt. Then
read_fragment(ref) returns that whole section, and read_page(path, around=anchor) a window of
its page. Results are cut to a token budget and say where to continue. list_sources tells
what is indexed."""


# -- output schemas ---------------------------------------------------------------------------


class SearchHit(BaseModel):
    ref: str = Field(description="the section's address, path#anchor: pass it to read_fragment")
    source: str = Field(description="the indexed folder it comes from")
    path: str = Field(description="the page, relative to its source folder")
    anchor: str = Field(description="the heading's anchor on the page ('' for the page's lead text)")
    title: str = Field(description="the page title")
    breadcrumb: list[str] = Field(description="page title › heading › subheading")
    line: int = Field(description="first line of the section in the file (1-based)")
    line_end: int = Field(description="last line of the matched part")
    score: float = Field(description="ranking score; higher is better, comparable within one search")
    excerpt: str = Field(description="the start of the section's markdown, cut to the token budget")
    excerpt_truncated: bool = Field(description="whether the excerpt is shorter than the section")


class SearchOutput(BaseModel):
    query: str
    corrections: list[str] = Field(description="indexed words also searched for misspelt ones")
    results: list[SearchHit]
    omitted: int = Field(description="results left out to stay within the token budget")
    took_ms: float = Field(description="the search's own time, in milliseconds")


class FragmentOutput(BaseModel):
    ref: str
    source: str
    path: str
    anchor: str
    title: str
    breadcrumb: list[str]
    line_start: int = Field(description="the section's first line in the file (its heading)")
    line_end: int = Field(description="the section's last line in the file")
    parts: int = Field(description="how many indexed parts of a long section were joined")
    text: str = Field(description="the section's markdown, heading first")
    truncated: bool = Field(description="whether the text was cut at the token budget")
    continue_at_line: int | None = Field(description="when cut: read_page(path, line=this) goes on")


class PageOutput(BaseModel):
    source: str
    path: str
    title: str
    around: str | None = Field(description="the anchor the window starts at, if one was asked for")
    line_start: int = Field(description="first line of the text returned (1-based)")
    line_end: int = Field(description="last line of the text returned")
    total_lines: int = Field(description="lines of the whole page")
    text: str = Field(description="the page's markdown as it is on disk, lines line_start to line_end")
    truncated: bool = Field(description="whether this is less than the whole page")
    next_line: int | None = Field(description="read_page(path, line=this) returns the next window")


class SourceInfo(BaseModel):
    name: str
    root: str = Field(description="the folder that was indexed")
    files: int
    fragments: int
    base_url: str | None = Field(description="where the source is published, if recorded")
    updated: str | None = Field(description="when this source was last indexed (UTC, ISO 8601)")


class SourcesOutput(BaseModel):
    index: str = Field(description="the index folder")
    fragments: int
    sources: list[SourceInfo]
    document_model: str = Field(description="the model that embedded the documents")
    query_model: str = Field(description="the model that embeds queries")
    space: str
    dimension: int
    updated: str = Field(description="the last commit to the index (UTC, ISO 8601)")
    age_seconds: int = Field(description="seconds since that commit")
    answer_tool: bool = Field(description="whether the answer tool is available (an LLM is configured)")


class Citation(BaseModel):
    n: int
    ref: str = Field(description="path#anchor of the cited section ('' for an invalid citation)")
    valid: bool = Field(description="false: the answer cites a number it was not given")


class AnswerOutput(BaseModel):
    question: str
    answer: str = Field(description="the LLM's summary of the best sections, citing them as [n]")
    citations: list[Citation]
    model: str


# -- the server -------------------------------------------------------------------------------

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


class DocsMCPServer(MCPServer):
    """MCPServer whose resource list is the index's pages, known only once it is open."""

    def __init__(self, service: DocsService) -> None:
        super().__init__("docsearch", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
        self.service = service

    async def list_resources(self) -> list[Resource]:
        import anyio.to_thread

        try:
            pages = await anyio.to_thread.run_sync(self.service.list_pages)
        except DocsearchError:
            return []  # no index (yet): nothing to browse; the tools say what is wrong
        return [
            Resource(
                uri=page_uri(p.source, p.path),
                name=f"{sanitize_line(p.source)}/{sanitize_line(p.path)}",
                title=sanitize_line(p.title),
                description=plural(len(p.sections), "section"),
                mime_type="text/markdown",
            )
            for p in pages
        ]


def page_uri(source: str, path: str) -> str:
    return f"{SCHEME}://{quote(source, safe='')}/{quote(path, safe='/')}"


def build_server(service: DocsService) -> DocsMCPServer:
    server = DocsMCPServer(service)
    secrets = (
        service.settings.voyage_api_key,
        service.settings.anthropic_api_key,
        service.settings.openai_api_key,
    )

    def error(message: str) -> CallToolResult:
        text = f"error: {sanitize_line(redact(message, *secrets))}"
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    def respond(call: Callable[[], dict[str, Any]], text: Callable[[dict[str, Any]], str]) -> CallToolResult:
        try:
            out = call()
        except DocsearchError as exc:
            return error(exc.message)
        body = redact(text(out), *secrets)
        return CallToolResult(content=[TextContent(type="text", text=body)], structured_content=out)

    @server.tool(
        description=(
            "Search the indexed documentation and return the best-matching sections, best first: "
            "each with its ref (path#anchor), breadcrumb, line, score and the start of its text. "
            "Ask in words ('read a file line by line') or by name ('fs.readFile'). Then call "
            "read_fragment(ref) for a section's full text."
        ),
        annotations=READ_ONLY,
    )
    def search_docs(
        query: Annotated[str, Field(description="what to look for: a question, words or an identifier")],
        top_k: Annotated[
            int,
            # Published, not enforced by the schema: the tool's own check answers in one line
            # where pydantic would send a validation report.
            Field(
                description=f"how many results, 1 to {MAX_TOP_K}", json_schema_extra={"maximum": MAX_TOP_K}
            ),
        ] = 8,
        source: Annotated[str | None, Field(description="only this source (list_sources names them)")] = None,
        path_prefix: Annotated[
            str | None, Field(description="only pages whose path starts with this, e.g. 'guide/'")
        ] = None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        return respond(lambda: service.search(query, top_k, source, path_prefix), render.search_text)

    @server.tool(
        description=(
            "Return one whole section by its ref (path#anchor, as search_docs gives it; a bare path "
            "is the page's first section), all of its parts joined, with its breadcrumb and line range. "
            "Cut at the token budget, saying the line to continue at with read_page."
        ),
        annotations=READ_ONLY,
    )
    def read_fragment(
        ref: Annotated[str, Field(description="path#anchor, e.g. 'fs.md#fsreadfilepath-options-callback'")],
        source: Annotated[str | None, Field(description="the source, when the path is in several")] = None,
    ) -> Annotated[CallToolResult, FragmentOutput]:
        return respond(lambda: service.read_fragment(ref, source), render.fragment_text)

    @server.tool(
        description=(
            "Return a documentation page as it is on disk: the whole page when it fits the token "
            "budget, else a window starting at the section `around` (an anchor) or at `line`. "
            "The result gives the line range and next_line, to read on."
        ),
        annotations=READ_ONLY,
    )
    def read_page(
        path: Annotated[str, Field(description="the page's path, as in search_docs results")],
        around: Annotated[str | None, Field(description="start the window at this section's anchor")] = None,
        line: Annotated[int | None, Field(description="start the window at this line (1-based)")] = None,
        source: Annotated[str | None, Field(description="the source, when the path is in several")] = None,
    ) -> Annotated[CallToolResult, PageOutput]:
        return respond(lambda: service.read_page(path, around, line, source), render.page_text)

    @server.tool(
        description=(
            "Describe the index: its sources (folders) with file and fragment counts, the embedding "
            "models, and when it was last updated."
        ),
        annotations=READ_ONLY,
    )
    def list_sources() -> Annotated[CallToolResult, SourcesOutput]:
        return respond(service.list_sources, render.sources_text)

    if service.has_llm:

        @server.tool(
            description=(
                "Answer a question from the documentation: an LLM summarizes the best sections "
                "and cites them as [n] with their refs. Slower than search_docs and it sends "
                "those sections to the configured LLM; prefer search_docs + read_fragment."
            ),
            annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True),
        )
        async def answer(
            question: Annotated[str, Field(description="the question, in words")],
        ) -> Annotated[CallToolResult, AnswerOutput]:
            try:
                out = await service.answer(question)
            except DocsearchError as exc:
                return error(exc.message)
            body = redact(render.answer_text(out), *secrets)
            out["answer"] = redact(out["answer"], *secrets)
            return CallToolResult(content=[TextContent(type="text", text=body)], structured_content=out)

    @server.resource(
        f"{SCHEME}://{{source}}/{{+path}}",
        name="page",
        description="an indexed documentation page (cut to the token budget)",
        mime_type="text/markdown",
    )
    def page(source: str, path: str) -> str:
        try:
            return service.page_text(source, path)
        except InputError as exc:
            raise ResourceNotFoundError(redact(exc.message, *secrets)) from None
        except DocsearchError as exc:
            raise ResourceError(redact(exc.message, *secrets)) from None

    return server


def run(server: DocsMCPServer, service: DocsService) -> int:
    """Serve over stdio until the client closes stdin (Ctrl-C: the CLI's `interrupted`, 130)."""
    if sys.stdin.isatty():
        print(
            "docsearch mcp: waiting for an MCP client on standard input; agents start this "
            "command themselves (see the manual's page on coding agents). Ctrl-C stops it.",
            file=sys.stderr,
        )
    try:
        server.run("stdio")
    finally:
        service.close()
    return 0
