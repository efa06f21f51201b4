"""`docsearch mcp` latency through the real protocol (issue 15), against the Searcher's own.

    python bench/mcp_latency.py --index /tmp/nidx4 --queries bench/qrels/nodejs.tsv --starts 5 --runs 3

Start-up, `--starts` times: a fresh `python -m docsearch mcp` is spawned by the `mcp` SDK's
stdio client (as an agent spawns it), and the clock runs from just before the spawn to
  initialize   the handshake answered (the server has imported the SDK and built its tools)
  first call   the first search_docs answered (the index and model loaded in the background)
For scale, the time to start Python and import the server module alone, with no protocol.

Warm calls: in one session, after a warm-up, each query of the qrels file is sent `--runs`
times as search_docs (top_k 8), one at a time. Per call:
  round trip   client-side, from call_tool to its parsed result
  searcher     the server's own Searcher.search time for that call (took_ms in the result)
  overhead     round trip - searcher: the MCP layer (thread hop, excerpts, validation, JSON,
               the pipes and the client's parsing)
and, for comparison in the same run, Searcher.search in this process on the same queries.
The floor of any call over this transport: `ping` and the cheapest tool (list_sources), round
trip. And the MCP layer's own CPU work per search, measured in this process on the same
queries: the service's work beyond Searcher.search (excerpts, sanitizing), the output model
and text rendering, encoding the JSON-RPC line, and the client SDK's decoding and schema check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio
import numpy as np
from mcp import ClientSession, StdioServerParameters, stdio_client

from docsearch.evaluate import load_qrels
from docsearch.search.searcher import Searcher
from docsearch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def server(index: Path) -> StdioServerParameters:
    env = {"PYTHONPATH": str(ROOT)}
    if os.environ.get("DOCSEARCH_CACHE_DIR"):
        env["DOCSEARCH_CACHE_DIR"] = os.environ["DOCSEARCH_CACHE_DIR"]
    return StdioServerParameters(
        command=sys.executable, args=["-m", "docsearch", "mcp", "--index", str(index)], env=env, cwd=str(ROOT)
    )


async def one_start(index: Path, query: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    async with stdio_client(server(index)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        t_init = time.perf_counter() - t0
        result = await session.call_tool("search_docs", {"query": query})
        t_first = time.perf_counter() - t0
        assert not result.is_error, result.content
    return t_init, t_first


async def warm_calls(
    index: Path, queries: list[str], runs: int
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    round_trips: list[float] = []
    searcher_ms: list[float] = []
    floor: dict[str, list[float]] = {"ping": [], "list_sources": []}
    async with stdio_client(server(index)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for q in queries[:10]:  # warm-up: the load, the first full-text queries, caches
            await session.call_tool("search_docs", {"query": q})
        for _ in range(50):
            t = time.perf_counter()
            await session.send_ping()
            floor["ping"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            await session.call_tool("list_sources", {})
            floor["list_sources"].append((time.perf_counter() - t) * 1000)
        for _ in range(runs):
            for q in queries:
                t = time.perf_counter()
                result = await session.call_tool("search_docs", {"query": q})
                round_trips.append((time.perf_counter() - t) * 1000)
                assert not result.is_error and result.structured_content is not None
                searcher_ms.append(result.structured_content["took_ms"])
    return round_trips, searcher_ms, floor


async def transcript(index: Path) -> str:
    async with stdio_client(server(index)) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        result = await session.call_tool("search_docs", {"query": "how do I read a file line by line"})
    return result.content[0].text  # type: ignore[union-attr]


def layer_costs(index: Path, queries: list[str]) -> dict[str, list[float]]:
    """The MCP layer's CPU work per search_docs, in this process, step by step."""
    from jsonschema.validators import validator_for
    from mcp.types import CallToolResult, JSONRPCResponse, TextContent
    from mcp_types import jsonrpc_message_adapter
    from referencing import Registry

    from docsearch.mcp_server import render
    from docsearch.mcp_server.server import SearchOutput
    from docsearch.mcp_server.service import DocsService

    service = DocsService(Settings.resolve({"index": index}))
    service.start()
    service.searcher()
    schema = SearchOutput.model_json_schema()
    validator = validator_for(schema)(schema, registry=Registry())
    costs: dict[str, list[float]] = {k: [] for k in ("service", "validate", "encode", "client")}
    for n, q in enumerate(queries):
        t = time.perf_counter()
        out = service.search(q)
        costs["service"].append((time.perf_counter() - t) * 1000 - out["took_ms"])
        t = time.perf_counter()
        SearchOutput.model_validate(out)
        text = TextContent(type="text", text=render.search_text(out))
        result = CallToolResult(content=[text], structured_content=out)
        costs["validate"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        body = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        line = JSONRPCResponse(jsonrpc="2.0", id=n, result=body).model_dump_json(
            by_alias=True, exclude_unset=True
        )
        costs["encode"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        message = jsonrpc_message_adapter.validate_json(line)
        decoded = CallToolResult.model_validate(message.result)  # type: ignore[union-attr]
        list(validator.iter_errors(decoded.structured_content))
        costs["client"].append((time.perf_counter() - t) * 1000)
    service.close()
    return costs


def table(title: str, rows: list[tuple[str, list[float]]]) -> None:
    print(f"\n{title:<44} {'p50':>8} {'p95':>8} {'mean':>8}")
    for label, values in rows:
        print(f"  {label:<42} {pct(values, 50):8.2f} {pct(values, 95):8.2f} {statistics.fmean(values):8.2f}")


def import_time(runs: int) -> list[float]:
    code = "import docsearch.mcp_server.server"
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=ROOT / "bench" / "qrels" / "nodejs.tsv")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transcript", action="store_true", help="print the read-a-file-line-by-line call")
    args = parser.parse_args()
    queries = list(dict.fromkeys(j.query for j in load_qrels(args.queries)))
    load = os.getloadavg()[0]
    print(f"index {args.index}, {len(queries)} queries, load average {load:.2f} on {os.cpu_count()} CPUs\n")

    imports = import_time(args.starts)
    starts = [anyio.run(one_start, args.index, queries[i % len(queries)]) for i in range(args.starts)]
    inits, firsts = [s[0] for s in starts], [s[1] for s in starts]
    print(f"start-up over {args.starts} fresh processes (median, min, max, seconds):")
    for label, values in (
        ("python + import of the server module", imports),
        ("spawn → initialize answered", inits),
        ("spawn → first search_docs answered", firsts),
    ):
        print(f"  {label:<38} {statistics.median(values):6.3f} {min(values):6.3f} {max(values):6.3f}")

    trips, inside, floor = anyio.run(warm_calls, args.index, queries, args.runs)
    overhead = [t - s for t, s in zip(trips, inside, strict=True)]
    searcher = Searcher(Settings.resolve({"index": args.index}))
    searcher.rerank.preload(searcher.settings.float_memory_mb * 1_000_000)  # as the server does
    for q in queries[:10]:
        searcher.search(q, top_k=8)
    local: list[float] = []
    for _ in range(args.runs):
        for q in queries:
            local.append(searcher.search(q, top_k=8, rescore=True).timings.total)
    searcher.close()
    table(
        f"warm search_docs, {len(trips)} calls (ms)",
        [
            ("round trip through MCP", trips),
            ("  of which the server's Searcher", inside),
            ("  of which the MCP layer", overhead),
            ("Searcher.search in this process", local),
        ],
    )
    table(
        "the transport's floor, 50 calls each (ms)",
        [("ping", floor["ping"]), ("list_sources (no search)", floor["list_sources"])],
    )
    costs = layer_costs(args.index, queries)
    table(
        "the MCP layer's CPU work per search (ms)",
        [
            ("service beyond Searcher.search", costs["service"]),
            ("output model + text rendering", costs["validate"]),
            ("JSON-RPC encoding", costs["encode"]),
            ("client SDK: decode + schema check", costs["client"]),
        ],
    )
    if args.transcript:
        print("\n--- call: search_docs(query='how do I read a file line by line') ---")
        print(anyio.run(transcript, args.index))


if __name__ == "__main__":
    main()
