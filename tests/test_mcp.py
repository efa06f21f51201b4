"""`docsearch mcp` through the real protocol: the server runs as a subprocess and the `mcp` SDK's
own stdio client drives it (initialize, list, call), on the manual and on a fixture corpus.

Each test starts one server and makes all its calls in one session: a start costs the SDK's
import and the model's load, and that is what the handshake must not wait for.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, ClientSession, StdioServerParameters, stdio_client

from docsearch.index.indexer import Indexer
from docsearch.mcp_server.budget import Cut, cut_tokens, estimate_tokens
from docsearch.mcp_server.server import build_server
from docsearch.mcp_server.service import DocsService
from docsearch.parts import join_parts
from docsearch.search.searcher import Searcher
from tests.fake_llm import FakeLLM

from .conftest import CORPUS, ROOT, make_settings, run_docsearch

CONTROL = ("\x1b", "\x07", "\u202e", "\x9b")
MOORING = [
    f"Step {n} of the zeppelin mooring drill: tie rope {n} to mast {n}, then check knot {n} twice."
    for n in range(30)
]


def params(index: Path, *args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    """`python -m docsearch mcp` as an agent would launch it, with the tests' cache dir and no
    other DOCSEARCH_* setting of the caller's."""
    full_env = {"PYTHONPATH": str(ROOT), "DOCSEARCH_CACHE_DIR": os.environ["DOCSEARCH_CACHE_DIR"]}
    full_env |= env or {}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "docsearch", "mcp", "--index", str(index), *args],
        env=full_env,
        cwd=str(index.parent),
    )


@contextlib.asynccontextmanager
async def connect(
    server: StdioServerParameters, errlog: io.TextIOBase | None = None
) -> AsyncIterator[ClientSession]:
    log = errlog if errlog is not None else sys.stderr
    async with stdio_client(server, errlog=log) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: object) -> tuple[str, dict | None, bool]:
    result = await session.call_tool(tool, arguments)
    text = "\n".join(c.text for c in result.content if c.type == "text")
    return text, result.structured_content, bool(result.is_error)


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROL)


def run_async(main) -> None:  # type: ignore[no-untyped-def]
    anyio.run(main)


# -- fixtures ------------------------------------------------------------------------------------


def write_fixture(alpha: Path, beta: Path) -> None:
    (alpha / "guide").mkdir(parents=True)
    # A long section: several indexed parts, whose overlapping lines must come back once.
    (alpha / "guide" / "mooring.md").write_text(
        "# Airships\n\nAbout airships.\n\n## Mooring\n\n"
        + "\n\n".join(MOORING)
        + "\n\n## Landing\n\nGently.\n"
    )
    # A 3,000-line page: never sent whole. (Short lines in a few sections: few fragments to embed.)
    sections = [f"## Item {n}\n\n" + "\n".join(f"i{n}x{k}" for k in range(298)) for n in range(10)]
    (alpha / "huge.md").write_text("# Huge\n" + "\n".join(sections) + "\n")
    (alpha / "evil.md").write_text(
        "# Evil \x1b]0;pwned\x07page\n\n## Bells \x1b[31mred\x1b[0m\n\n"
        "Harmless quokka text \x1b[2J with a bell \x07 and \u202etxt.exe and \x9b31m here.\n"
    )
    (alpha / "shared.md").write_text("# Shared\n\nThe alpha copy of the shared page.\n")
    beta.mkdir()
    (beta / "shared.md").write_text("# Shared\n\nThe beta copy of the shared page.\n")


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("mcp-fixture")
    alpha, beta = root / "alpha", root / "beta"
    write_fixture(alpha, beta)
    index = root / "idx"
    indexer = Indexer(make_settings(index), embedder=embedder)
    indexer.index(alpha, source="alpha")
    indexer.index(beta, source="beta")
    return index, alpha


# -- pure parts ----------------------------------------------------------------------------------


def test_cut_tokens_keeps_whole_lines_within_the_budget():
    text = "\n".join(f"line {n} has five tokens" for n in range(100))
    cut = cut_tokens(text, 52)
    assert cut.truncated and estimate_tokens(cut.text) <= 52
    assert cut.text.split("\n") == text.split("\n")[: cut.lines] and cut.lines == 10
    assert cut_tokens("short text", 50) == Cut("short text", False, 1)
    one_long_line = " ".join(["word"] * 500)
    cut = cut_tokens(one_long_line, 20)
    assert cut.text == " ".join(["word"] * 20) and cut.lines == 0


def test_join_parts_drops_the_lines_a_part_repeats():
    a, b = "one\n\ntwo\n\nthree", "three\n\nfour"
    text, starts = join_parts([a, b], (1, 5), [5, 7])
    assert text == "one\n\ntwo\n\nthree\n\nfour" and starts == [0, 5]
    # Parts that do not overlap in the file are joined as blocks, even if a line repeats.
    text, _ = join_parts(["```\ncode\n```", "```\nmore\n```"], (1, 5), [3, 7])
    assert text == "```\ncode\n```\n\n```\nmore\n```"
    # A repeated fence alone is not an overlap.
    text, _ = join_parts(["text\n```", "```\nmore"], (1, 2), [2, 3])
    assert text.count("```") == 2


# -- through the protocol ------------------------------------------------------------------------


def test_tools_on_the_manual(corpus_index):
    """Initialize, list, each tool, the errors, resources, cancelled calls and many calls in flight."""

    async def main() -> None:
        async with connect(params(corpus_index)) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            assert set(tools) == {
                "search_docs",
                "read_fragment",
                "read_page",
                "list_sources",
            }  # no LLM: no answer
            schema = tools["search_docs"].input_schema
            assert schema["required"] == ["query"] and schema["properties"]["top_k"]["default"] == 8
            assert schema["properties"]["top_k"]["maximum"] == 50
            for tool in tools.values():
                assert (
                    len(tool.description or "") > 60
                    and tool.output_schema
                    and tool.annotations.read_only_hint
                )

            text, out, error = await call(s, "search_docs", query="exit codes", top_k=3)
            assert not error and len(out["results"]) == 3
            first = next(h for h in out["results"] if h["ref"] == "cli.md#exit-codes")
            assert (
                first["source"] == "corpus" and first["path"] == "cli.md" and first["anchor"] == "exit-codes"
            )
            assert first["breadcrumb"] == ["Command line reference", "Exit codes"] and first["line"] > 1
            assert first["excerpt"] and "cli.md#exit-codes  (corpus, line" in text
            assert estimate_tokens(text) <= 2000

            text, out, error = await call(s, "read_fragment", ref="cli.md#exit-codes")
            assert not error and out["text"].startswith("## Exit codes") and "130" in out["text"]
            # The hit's line is where its best part starts, inside the whole section read here.
            assert out["line_start"] <= first["line"] <= out["line_end"]
            assert not out["truncated"] and out["continue_at_line"] is None
            page = (CORPUS / "cli.md").read_text().split("\n")
            assert page[out["line_start"] - 1] == "## Exit codes"

            _, out, error = await call(s, "read_page", path="faq.md")
            assert not error and out["text"] == (CORPUS / "faq.md").read_text()  # as on disk
            assert out["line_start"] == 1 and not out["truncated"] and out["next_line"] is None

            text, out, error = await call(s, "list_sources")
            assert not error and [x["name"] for x in out["sources"]] == ["corpus"]
            assert out["sources"][0]["files"] == len(list(CORPUS.glob("*.md")))
            assert out["document_model"] == out["query_model"] == "minilm-l6-v2" and out["dimension"] == 384
            assert out["age_seconds"] >= 0 and out["answer_tool"] is False and "corpus" in text

            def cli(query: str) -> str:
                return run_docsearch("ask", query, "--index", corpus_index, "--no-summary").stderr.strip()

            cli_error, cli_empty = cli("x" * 1001), cli("")
            for arguments, message in [
                ({"query": ""}, cli_empty),
                ({"query": "  \n "}, cli_empty),
                ({"query": "x", "top_k": 51}, "error: top_k must be at most 50, got 51"),
                ({"query": "x", "top_k": 0}, "error: top_k must be at least 1"),
                ({"query": "x", "source": "nope"}, "error: unknown source 'nope': the index has corpus"),
                ({"query": "x" * 1001}, cli_error),  # the CLI's own message
            ]:
                text, out, error = await call(s, "search_docs", **arguments)
                assert error and text == message and out is None
            text, _, error = await call(s, "read_fragment", ref="cli.md#no-such-anchor")
            assert error and text.startswith("error: no section #no-such-anchor on cli.md: its anchors are ")
            assert "exit-codes" in text and "\n" not in text
            text, _, error = await call(s, "read_page", path="../../etc/passwd")
            assert error and text == "error: no page '../../etc/passwd' in the index: search_docs gives paths"

            resources = (await s.list_resources()).resources
            assert {r.uri for r in resources} == {f"docsearch://corpus/{p.name}" for p in CORPUS.glob("*.md")}
            contents = (await s.read_resource("docsearch://corpus/faq.md")).contents
            assert contents[0].text.startswith("# ") and contents[0].mime_type == "text/markdown"

            # Calls the client gives up on (it sends notifications/cancelled) leave the server serving.
            for _ in range(3):
                with anyio.move_on_after(0.01):
                    await s.call_tool("search_docs", {"query": "cancelled midway"})
            _, out, error = await call(s, "search_docs", query="exit codes", top_k=3)
            assert not error and "cli.md#exit-codes" in [h["ref"] for h in out["results"]]

            # Many calls in flight at once: each gets its own query's answer.
            queries = [
                "exit codes",
                "exclude a folder",
                "voyage api key",
                "json output",
                "token budget for agents",
                "incremental indexing",
                "cross-encoder rerank",
                "where is the index stored",
            ] * 3
            expected = {}
            for q in set(queries):
                expected[q] = [h["ref"] for h in (await call(s, "search_docs", query=q))[1]["results"]]
            answers: dict[int, dict] = {}

            async def one(n: int, q: str) -> None:
                answers[n] = (await call(s, "search_docs", query=q))[1]

            async with anyio.create_task_group() as group:
                for n, q in enumerate(queries):
                    group.start_soon(one, n, q)
            for n, q in enumerate(queries):
                assert answers[n]["query"] == q and [h["ref"] for h in answers[n]["results"]] == expected[q]

    run_async(main)


def test_tools_on_a_fixture_corpus(fixture_index):
    """Parts joined, a huge page in windows, two sources, control sequences removed."""
    index, alpha = fixture_index

    async def main() -> None:
        async with connect(params(index)) as s:
            text, out, error = await call(s, "read_fragment", ref="guide/mooring.md#mooring", source="alpha")
            assert not error and out["parts"] > 2  # a long section, in several indexed parts
            assert out["text"] == "## Mooring\n\n" + "\n\n".join(MOORING)  # each line once, in order
            assert out["breadcrumb"] == ["Airships", "Mooring"] and not out["truncated"]

            text, out, error = await call(s, "search_docs", query="zeppelin mooring drill knot", top_k=3)
            assert not error and out["results"][0]["ref"] == "guide/mooring.md#mooring"

            _, out, error = await call(s, "read_page", path="huge.md")
            lines = (alpha / "huge.md").read_text().split("\n")
            assert not error and len(lines) > 3000 and out["total_lines"] == len(lines)
            assert out["line_start"] == 1 and out["truncated"] and estimate_tokens(out["text"]) <= 2000
            seen = out["text"].split("\n")
            assert seen == lines[: out["line_end"]]
            _, more, _ = await call(s, "read_page", path="huge.md", line=out["next_line"])
            assert (
                more["line_start"] == out["line_end"] + 1
                and more["text"].split("\n")[0] == lines[out["line_end"]]
            )
            _, around, _ = await call(s, "read_page", path="huge.md", around="item-5")
            assert around["text"].startswith("## Item 5\n") and lines[around["line_start"] - 1] == "## Item 5"
            resource = (await s.read_resource("docsearch://alpha/huge.md")).contents[0].text
            assert (
                estimate_tokens(resource) < 2100
                and f"read_page(path='huge.md', line={out['next_line']})" in resource
            )

            text, _, error = await call(s, "read_fragment", ref="shared.md")
            assert error and text == "error: 'shared.md' is in several sources (alpha, beta): give source"
            _, out, error = await call(s, "read_fragment", ref="shared.md", source="beta")
            assert not error and "beta copy" in out["text"]
            _, out, _ = await call(s, "search_docs", query="copy of the shared page", source="beta")
            assert {h["source"] for h in out["results"]} == {"beta"}
            _, out, _ = await call(s, "search_docs", query="mooring", path_prefix="guide/")
            assert out["results"] and all(h["path"].startswith("guide/") for h in out["results"])

            text, out, _ = await call(s, "search_docs", query="harmless quokka text bell")
            assert out["results"][0]["path"] == "evil.md" and "Harmless quokka text" in text
            outputs = [text, json.dumps(out, ensure_ascii=False)]
            for tool, arguments in [
                ("read_fragment", {"ref": out["results"][0]["ref"]}),
                ("read_page", {"path": "evil.md"}),
                ("list_sources", {}),
            ]:
                text, structured, error = await call(s, tool, **arguments)
                assert not error
                outputs += [text, json.dumps(structured, ensure_ascii=False)]
            outputs.append((await s.read_resource("docsearch://alpha/evil.md")).contents[0].text)
            resources = (await s.list_resources()).resources
            assert "alpha/evil.md" in {r.name for r in resources}
            names = [f"{r.name} {r.title} {r.description}" for r in resources]
            assert [x for x in outputs + names if not clean(x)] == []
            assert "Harmless quokka text" in outputs[-1]

        # A small budget: results shrink, a long section is cut and says where to go on.
        async with connect(params(index, "--token-budget", "200")) as s:
            text, out, _ = await call(s, "search_docs", query="mooring drill", top_k=10)
            assert estimate_tokens(text) <= 260 and (out["omitted"] or len(out["results"]) < 10)
            text, out, error = await call(s, "read_fragment", ref="guide/mooring.md#mooring")
            assert not error and out["truncated"] and estimate_tokens(out["text"]) <= 200
            last_shown = max(n for n, step in enumerate(MOORING) if step in out["text"])
            assert f"line={out['continue_at_line']}" in text
            _, rest, _ = await call(s, "read_page", path="guide/mooring.md", line=out["continue_at_line"])
            assert MOORING[last_shown + 1] in rest["text"]  # nothing is skipped

    run_async(main)


def test_no_index_then_an_index_then_a_change(tmp_path, embedder):
    """The server starts without an index (the handshake does not fail or hang), every call says
    what the CLI says, and once `docsearch index` has run, the same session finds the docs, and
    then the change of a re-index."""
    index, docs = tmp_path / "idx", tmp_path / "docs"
    docs.mkdir()
    (docs / "cli.md").write_text("# Commands\n\n## Exit codes\n\n0 success, 4 no index, 5 wrong model.\n")
    (docs / "setup.md").write_text("# Setup\n\n## Installing\n\nRun pip install in a fresh environment.\n")
    cli = run_docsearch("ask", "exit codes", "--index", index, "--no-summary")
    assert cli.returncode == 4

    async def main() -> None:
        async with connect(params(index)) as s:
            assert len((await s.list_tools()).tools) == 4
            for tool, arguments in [("search_docs", {"query": "exit codes"}), ("list_sources", {})]:
                text, _, error = await call(s, tool, **arguments)
                assert error and text == cli.stderr.strip()
            assert (await s.list_resources()).resources == []

            indexer = Indexer(make_settings(index), embedder=embedder)
            await anyio.to_thread.run_sync(lambda: indexer.index(docs, source="docs"))
            _, out, error = await call(s, "search_docs", query="exit codes")
            assert not error and out["results"][0]["ref"] == "cli.md#exit-codes"

            (docs / "quokka.md").write_text("# Quokkas\n\n## Quokka habitats\n\nRottnest Island scrubland.\n")
            await anyio.to_thread.run_sync(lambda: indexer.index(docs, source="docs"))
            _, out, error = await call(s, "search_docs", query="quokka habitats rottnest", top_k=1)
            assert not error and out["results"][0]["ref"] == "quokka.md#quokka-habitats"
            assert "docsearch://docs/quokka.md" in {r.uri for r in (await s.list_resources()).resources}

    run_async(main)


def test_a_model_that_cannot_search_the_index_is_a_tool_error_without_the_key(corpus_index):
    key = "sk-mcp-test-secret-0123"
    env = {"DOCSEARCH_QUERY_MODEL": "voyage-4-lite", "VOYAGE_API_KEY": key}
    cli = run_docsearch("ask", "x", "--index", corpus_index, "--no-summary", env=env)
    assert cli.returncode == 5

    async def main() -> None:
        async with connect(params(corpus_index, env=env)) as s:
            text, _, error = await call(s, "search_docs", query="exit codes")
            assert error and text == cli.stderr.strip() and key not in text

    run_async(main)


def test_answer_tool_with_an_llm(corpus_index):
    key = "sk-llm-secret-for-mcp"
    answer = "Exit code 4 means there is no index [1]. See also [9]."
    llm = FakeLLM(respond=lambda system, user: answer, api_key=key).start()
    env = {
        "DOCSEARCH_LLM": "openai:fake-model",
        "DOCSEARCH_LLM_BASE_URL": llm.endpoint + "/v1",
        "OPENAI_API_KEY": key,
        "DOCSEARCH_LLM_MAX_RETRIES": "0",
    }
    try:

        async def main() -> None:
            async with connect(params(corpus_index, env=env)) as s:
                assert "answer" in {t.name for t in (await s.list_tools()).tools}
                text, out, error = await call(s, "answer", question="what does exit code 4 mean")
                assert not error and out["answer"] == answer and out["model"] == "fake-model"
                assert out["citations"][0]["valid"] and "#" in out["citations"][0]["ref"]
                assert out["citations"][1] == {"n": 9, "ref": "", "valid": False}
                assert text.startswith(answer) and "(not among the results)" in text
                assert "Exit code" in llm.ok()[0].user  # the best fragments went to the LLM

                llm.faults.append(("echo-500", 0.0))  # the server quotes the key back
                text, _, error = await call(s, "answer", question="exit codes")
                assert error and key not in text and "[redacted]" in text and "\n" not in text
                text, _, error = await call(s, "answer", question=" ")
                assert error and text.startswith("error: the question is empty")

        run_async(main)
    finally:
        llm.stop()


def test_the_server_exits_cleanly_when_the_client_vanishes_mid_call(corpus_index):
    """A client that goes away with a call in flight (closes its pipes): the server finishes
    on its own, exit 0, no traceback, in well under the SDK's 2 s grace before a kill."""
    for close_stdout in (False, True):
        p = subprocess.Popen(
            [sys.executable, "-m", "docsearch", "mcp", "--index", str(corpus_index)],
            cwd=corpus_index.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert p.stdin is not None and p.stdout is not None and p.stderr is not None

        def send(message: dict, stdin=p.stdin) -> None:  # type: ignore[no-untyped-def]
            stdin.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
            stdin.flush()

        hello = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        send({"id": 1, "method": "initialize", "params": hello})
        assert json.loads(p.stdout.readline())["result"]["serverInfo"]["name"] == "docsearch"
        send({"method": "notifications/initialized"})
        send(
            {
                "id": 2,
                "method": "tools/call",
                "params": {"name": "search_docs", "arguments": {"query": "exit"}},
            }
        )
        if close_stdout:
            p.stdout.close()  # the answer has nowhere to go
        p.stdin.close()
        assert p.wait(timeout=30) == 0
        stderr = p.stderr.read().decode()
        assert "Traceback" not in stderr and "Error" not in stderr, stderr
        p.stderr.close()
        if not close_stdout:
            p.stdout.close()


def test_the_handshake_does_not_wait_for_the_model(corpus_index, embedder):
    """In process, over the SDK's in-memory transport: while the searcher is still loading,
    `initialize` and `tools/list` are answered; a search waits for the load, then answers."""
    loading = threading.Event()
    release = threading.Event()
    settings = make_settings(corpus_index)

    def slow_searcher() -> Searcher:
        loading.set()
        release.wait(30)
        return Searcher(settings, embedder=embedder)

    service = DocsService(settings, searcher_factory=slow_searcher)
    service.start()
    server = build_server(service)

    async def main() -> None:
        async with Client(server) as client:  # initialize, answered
            assert loading.is_set() and not release.is_set()
            assert len((await client.list_tools()).tools) == 4
            result: dict = {}

            async def search() -> None:
                result["r"] = await client.call_tool("search_docs", {"query": "exit codes", "top_k": 3})

            async with anyio.create_task_group() as group:
                group.start_soon(search)
                await anyio.sleep(0.3)
                assert "r" not in result  # waiting for the searcher
                release.set()
            refs = [h["ref"] for h in result["r"].structured_content["results"]]
            assert "cli.md#exit-codes" in refs

    try:
        run_async(main)
    finally:
        release.set()
        service.close()


def test_a_bad_budget_is_refused_before_serving(tmp_path):
    p = run_docsearch("mcp", "--index", tmp_path / "idx", "--token-budget", "10", cwd=tmp_path)
    assert p.returncode == 2 and p.stderr == "error: mcp_token_budget must be at least 200, got 10\n"
    env = {"DOCSEARCH_MCP_TOKEN_BUDGET": "x"}
    p = run_docsearch("mcp", "--index", tmp_path / "idx", env=env, cwd=tmp_path)
    assert p.returncode == 2 and "mcp_token_budget" in p.stderr and "Traceback" not in p.stderr


def test_a_query_with_a_lone_surrogate_is_the_clis_one_line():
    # JSON can carry "\udcff" (the SDK's client cannot send it, a raw client can): the service
    # applies the CLI's check, so it never reaches the tokenizer.
    from docsearch.errors import InputError
    from docsearch.mcp_server.service import DocsService

    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 0xff at character 4\)"):
        DocsService._check_query("caf\udcff")
