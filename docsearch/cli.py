"""The `docsearch` command: argument parsing and output formatting only.

All the work happens in `Indexer` and `Searcher`. Heavy modules (lancedb, onnxruntime, rich)
are imported inside the command that needs them, so `docsearch ask` pays only for its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from docsearch import __version__
from docsearch.errors import DocsearchError, InputError, SettingsError
from docsearch.present import json_text, sanitize, sanitize_line

EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command. SUPPRESS keeps a subcommand's
    # parser from overwriting a value given before the command with its own default.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--index", type=Path, help="index folder (env DOCSEARCH_INDEX, default ./.docsearch)")
    common.add_argument("--config", type=Path, help="settings file (default ./docsearch.toml)")
    common.add_argument("--model", help="embedding model for documents and queries (env DOCSEARCH_MODEL)")
    common.add_argument("--doc-model", dest="doc_model", metavar="MODEL", help="model for documents")
    common.add_argument("--query-model", dest="query_model", metavar="MODEL", help="model for queries")

    parser = argparse.ArgumentParser(
        prog="docsearch",
        description="Find the exact paragraph of documentation you need.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"docsearch {__version__}")
    parser.add_argument(
        "--print", action="store_true", help="terminal UI: on Enter, exit and print the result's path:line"
    )
    parser.add_argument(
        "--print-format", dest="print_format", metavar="FMT", help="--print with {path} {line} {anchor} {url}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="index a folder of markdown")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--source", help="name of this folder in the index (default: the folder name)")
    p.add_argument("--include", action="append", default=[], metavar="GLOB", help="only matching files")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")
    p.add_argument(
        "--dimension", type=int, metavar="N", help="vector size for Voyage models: 2048, 1024, 512 or 256"
    )
    p.add_argument("--base-url", metavar="URL", help="where this source is published (for links to it)")
    p.add_argument(
        "--questions",
        action="store_true",
        default=None,
        help="ask the LLM (DOCSEARCH_LLM) for the questions each fragment answers",
    )
    p.add_argument(
        "--follow-symlinks",
        action="store_true",
        default=None,
        help="also read symlinks whose target is outside DIR (default: skip and list them)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    p = sub.add_parser("ask", parents=[common], help="search once and print the best fragments")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top-k", "-k", type=int, dest="top_k", metavar="N", help="number of results")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-summary", action="store_true", help="do not ask an LLM for a summary")
    p.add_argument("--source", help="only this source")
    p.add_argument("--path-prefix", help="only fragments whose path starts with this")
    p.add_argument(
        "--rerank",
        choices=("off", "local", "voyage"),
        help="reorder the top sections with a cross-encoder: local (docsearch models pull "
        "ms-marco-minilm-l6) or voyage (VOYAGE_API_KEY); default: the rerank setting, off",
    )

    p = sub.add_parser("suggest", parents=[common], help="complete a partial query (hot links, headings)")
    p.add_argument("partial", metavar="PARTIAL")
    p.add_argument("--limit", "-n", type=int, default=8, metavar="N", help="at most N suggestions")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("eval", parents=[common], help="measure ranking quality against relevance judgments")
    p.add_argument(
        "qrels", type=Path, nargs="?", metavar="QRELS.tsv", help="qid, query, doc id, grade per line"
    )
    p.add_argument(
        "--synthetic",
        action="store_true",
        help="judge with the held-out generated questions instead (index built with --questions)",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=200,
        metavar="N",
        help="with --synthetic, this many random questions (seeded; 0: all; default 200)",
    )
    p.add_argument("--k", type=int, default=12, help="cut-off for every metric (default 12)")
    p.add_argument(
        "--id-template",
        default="{path}#{anchor}",
        help="how doc ids are written, from {path}, {stem}, {anchor} (default {path}#{anchor})",
    )
    p.add_argument(
        "--rerank-counts", default="", metavar="N,N", help="also run hybrid with these rerank_count values"
    )
    p.add_argument(
        "--ranker",
        action="append",
        default=[],
        type=Path,
        metavar="MODEL.json",
        help="also run hybrid with this ranker model; repeatable",
    )
    p.add_argument(
        "--fit",
        type=Path,
        metavar="OUT.json",
        help="fit a ranker on these judgments (from the current one) and write it to OUT.json",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("status", parents=[common], help="describe the index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--check", action="store_true", help="verify every table and file of the index (exit 4 if damaged)"
    )

    p = sub.add_parser("models", parents=[common], help="list, download and register embedding models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    m = msub.add_parser("list", parents=[common], help="known and installed models")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m = msub.add_parser("pull", parents=[common], help="download a model (from Hugging Face or HF_ENDPOINT)")
    m.add_argument("name", metavar="NAME")
    m = msub.add_parser("add", parents=[common], help="register a model folder you exported yourself")
    m.add_argument("path", type=Path, metavar="PATH")
    m.add_argument("--name", help="register under this name (default: from its metadata)")
    m.add_argument("--onnx", metavar="FILE", help="the ONNX file inside PATH, if there are several")
    m = msub.add_parser("remove", parents=[common], help="forget an added model or delete a pulled one")
    m.add_argument("name", metavar="NAME")
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from docsearch.settings import Settings

    names = ("index", "model", "doc_model", "query_model")
    flags = {name: getattr(args, name, None) for name in names} | extra
    return Settings.resolve(flags, config_file=getattr(args, "config", None))


def _error(message: str) -> None:
    # One line whatever the message holds (a server's text, a file name with a newline).
    print(f"error: {sanitize_line(message)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {
        "index": _index,
        "ask": _ask,
        "status": _status,
        "models": _models,
        "suggest": _suggest,
        "eval": _eval,
    }
    try:
        if args.command in commands:
            return commands[args.command](args)
        # The UI draws on stderr's terminal, so `vim $(docsearch --print)` works like fzf.
        wants_print = getattr(args, "print", False) or getattr(args, "print_format", None)
        if sys.stdin.isatty() and (sys.stdout.isatty() or (wants_print and sys.stderr.isatty())):
            return _tui(args)
        parser.print_help()
        return 0
    except DocsearchError as exc:
        _error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `docsearch ask … | head`: the reader left; not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _index(args: argparse.Namespace) -> int:
    from docsearch.index.indexer import Indexer, Progress

    settings = _settings(
        args, voyage_dimension=args.dimension, questions=args.questions, follow_symlinks=args.follow_symlinks
    )
    indexer = Indexer(settings)
    interactive = sys.stderr.isatty() and not args.json

    if interactive:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        bar = Bar(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            transient=True,
        )
        tasks: dict[str, Any] = {}
        started: dict[str, float] = {}

        def on_progress(p: Progress) -> None:
            if p.stage == "done":
                return
            if p.stage not in tasks:
                tasks[p.stage] = bar.add_task(p.stage, total=max(p.total, 1), detail="")
                started[p.stage] = time.perf_counter()
            bar.update(
                tasks[p.stage],
                completed=p.done,
                total=max(p.total, 1),
                detail=_embed_detail(p, time.perf_counter() - started[p.stage]),
            )

        with bar:
            summary = indexer.index(
                args.folder, args.source, args.include, args.exclude, on_progress, base_url=args.base_url
            )
    else:
        last: dict[str, int] = {}
        t0 = time.perf_counter()

        def on_progress(p: Progress) -> None:
            # Plain lines for logs: one per stage start and end, and every 10% of embedding.
            step = max(p.total // 10, 1)
            previous = last.get(p.stage, -step)
            if (
                p.stage in ("embed", "questions")
                and p.total
                and p.done != previous
                and (p.done - previous >= step or p.done == p.total)
            ):
                last[p.stage] = p.done
                if not args.json:
                    detail = _embed_detail(p, time.perf_counter() - t0)
                    label = "embedding" if p.stage == "embed" else "questions"
                    print(f"{label} {p.done}/{p.total} {detail}".rstrip(), file=sys.stderr)

        summary = indexer.index(
            args.folder, args.source, args.include, args.exclude, on_progress, base_url=args.base_url
        )

    if args.json:
        print(json_text(summary.as_json()))
        return 0

    s = summary
    from_cache = f", {s.cached} from the embedding cache" if s.cached else ""
    print(
        f"indexed {sanitize_line(s.source)}: {s.files} files, {s.fragments} fragments "
        f"({s.added} added, {s.changed} changed, {s.removed} removed, {s.unchanged} unchanged; "
        f"{s.embedded} embedded{from_cache}) in {s.seconds:.1f} s"
    )
    if s.repaired:
        print(
            f"warning: the index was damaged ({sanitize(s.repaired[0])}); it was set aside in "
            f"{sanitize(s.set_aside)} and rebuilt",
            file=sys.stderr,
        )
        for name, root in s.not_reindexed:
            print(
                f"warning: source {sanitize(name)} was in the damaged index: add it back with "
                f"`docsearch index {sanitize(root)} --source {sanitize(name)}`",
                file=sys.stderr,
            )
    if s.questions_generated or s.questions_cached or s.questions_failed:
        price = "" if s.llm_cost_usd is None else f", ${s.llm_cost_usd:.4f}"
        print(
            f"questions: {s.questions_generated} fragments asked ({s.llm_tokens:,} LLM tokens{price}), "
            f"{s.questions_cached} from the cache, {len(s.questions_failed)} failed"
        )
        for failed in s.questions_failed:
            where, why = sanitize_line(failed.path), sanitize(failed.reason)
            print(f"warning: no questions for {where}: {why}", file=sys.stderr)
    if s.tokens or s.cost_usd is not None:
        print(f"voyage: {s.tokens:,} tokens billed (${s.cost_usd or 0:.4f}), {s.cached} texts from the cache")
    for w in s.warnings:
        print(f"warning: {sanitize_line(w.path)}: {w.reason}", file=sys.stderr)
    if s.skipped:
        reasons: dict[str, int] = {}
        for sk in s.skipped:
            reasons[sk.reason] = reasons.get(sk.reason, 0) + 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        print(f"skipped {len(s.skipped)} files: {detail}", file=sys.stderr)
        # Which ones, so that a skipped page can be found and fixed (a few; --json has all).
        for sk in s.skipped[:SKIPPED_LISTED]:
            print(f"  {sanitize_line(sk.path)}: {sk.reason}", file=sys.stderr)
        if len(s.skipped) > SKIPPED_LISTED:
            print(f"  … and {len(s.skipped) - SKIPPED_LISTED} more (--json lists them all)", file=sys.stderr)
    return 0


SKIPPED_LISTED = 10


def _embed_detail(p: Any, seconds: float) -> str:
    """`1,234 tok/s  $0.0012` for API models; the cache's share when it served any."""
    parts = []
    if p.tokens:
        parts.append(f"{p.tokens / max(seconds, 1e-3):,.0f} tok/s")
    if p.cost_usd is not None:
        parts.append(f"${p.cost_usd:.4f}")
        paid = p.done - p.cached
        if p.tokens and paid > 0 and p.done < p.total:
            # Extrapolated from the texts paid for so far; cached texts cost nothing.
            parts.append(f"≈${p.cost_usd / paid * (p.total - p.cached):.4f} in all")
    if p.cached:
        parts.append(f"{p.cached} cached")
    return "  ".join(parts)


def _ask(args: argparse.Namespace) -> int:
    from docsearch.search.searcher import Searcher

    if args.top_k is not None and args.top_k < 1:
        raise SettingsError("--top-k must be at least 1")
    _check_query_length(args.query)
    settings = _settings(args, top_k=args.top_k, rerank=args.rerank)
    llm = None
    if not args.no_summary:
        from docsearch.llm.client import client_from_settings

        llm = client_from_settings(settings)  # a bad `llm` setting fails before the search
    searcher = Searcher(settings)
    result = searcher.search(args.query, source=args.source, path_prefix=args.path_prefix, rescore=True)
    hint = None if llm or args.no_summary else LLM_HINT
    if args.json:
        payload = result.as_json()
        code = 0
        if llm is not None and result.hits:
            summary, error = _summarize(llm, args.query, result, settings, None)
            payload["summary"] = summary.as_json() if summary else None
            if error:
                payload["summary_error"] = error
                _error(error)
                code = 6
        print(json_text(payload))
        if hint:
            print(hint, file=sys.stderr)
        return code
    from rich.console import Console

    from docsearch.present import render_text

    console = Console(highlight=False)
    for renderable in render_text(result, color=console.is_terminal):
        console.print(renderable)
    if hint:
        print(hint, file=sys.stderr)
    if llm is None or not result.hits:
        return 0
    # The results are out; the answer streams after them.
    sys.stdout.write(f"\nSummary ({sanitize(llm.name)}):\n")
    sys.stdout.flush()

    def show(text: str) -> None:
        sys.stdout.write(sanitize(text))
        sys.stdout.flush()

    summary, error = _summarize(llm, args.query, result, settings, show)
    sys.stdout.write("\n")
    if summary is not None:
        for c in summary.citations:
            where = f"{c.path}#{c.anchor}" if c.anchor else c.path
            print(f"  [{c.n}] {sanitize(where)}" if c.valid else f"  [{c.n}] not among the results (flagged)")
    if error:
        _error(error)
        return 6
    return 0


LLM_HINT = (
    "hint: for a cited summary, set DOCSEARCH_LLM=openai:MODEL (with DOCSEARCH_LLM_BASE_URL for a "
    "local server such as Ollama) or anthropic:MODEL with ANTHROPIC_API_KEY; --no-summary hides this"
)


def _summarize(llm: Any, query: str, result: Any, settings: Any, show: Any) -> tuple[Any, str | None]:
    """Run the summary stream; (summary, None) or (partial summary or None, error message)."""
    import asyncio

    from docsearch.errors import DocsearchError
    from docsearch.llm.summary import Summary, stream_summary

    hits = result.hits[: settings.summary_fragments]
    summary = Summary(text="", citations=[], model=llm.spec.model)

    async def run() -> None:
        async for text in stream_summary(llm, query, hits, summary):
            if show:
                show(text)

    try:
        asyncio.run(run())
    except DocsearchError as exc:
        return None, exc.message
    return summary, None


def _tui(args: argparse.Namespace) -> int:
    from docsearch.llm.client import client_from_settings
    from docsearch.tui.app import DocsearchApp
    from docsearch.tui.output import DEFAULT_FORMAT, check_format

    fmt = getattr(args, "print_format", None)
    if fmt is None and getattr(args, "print", False):
        fmt = DEFAULT_FORMAT
    print_format = check_format(fmt) if fmt is not None else None
    settings = _settings(args)
    chosen = DocsearchApp(settings, llm=client_from_settings(settings), print_format=print_format).run()
    if print_format is None:
        return 0
    if not chosen:
        return EXIT_INTERRUPTED  # left without choosing: 130, as fzf does
    print(sanitize_line(chosen))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from docsearch.evaluate import evaluate, load_qrels, synthetic_judgments
    from docsearch.search.ranker import LinearRanker
    from docsearch.search.searcher import Searcher

    if args.k < 1:
        raise SettingsError("--k must be at least 1")
    if (args.qrels is None) == (not args.synthetic):
        raise SettingsError("give a judgments file (QRELS.tsv) or --synthetic, not both")
    if args.sample < 0:
        raise SettingsError("--sample must be 0 or more")
    settings = _settings(args)
    searcher = Searcher(settings)
    searcher.rerank.preload(settings.float_memory_mb * 1_000_000)  # every query reranks
    if args.synthetic:
        judgments = synthetic_judgments(searcher.reader, args.sample)
        args.id_template = "{path}#{anchor}"
        source = f"held-out questions of {settings.index}"
    else:
        judgments = load_qrels(args.qrels)
        source = str(args.qrels)
    base = replace(searcher.options, top_k=args.k)
    variants = [
        ("bm25 (title+heading+text)", replace(base, use_binary=False, rank_by="keyword")),
        ("binary only", replace(base, use_keyword=False, rank_by="binary")),
        ("float only (exact)", replace(base, use_keyword=False, rank_by="float")),
        ("0.5 bm25/max + 0.5 cosine", replace(base, rank_by="mix")),
        ("hybrid (default)", base),
    ]
    try:
        counts = [int(c) for c in args.rerank_counts.split(",") if c.strip()]
    except ValueError:
        raise SettingsError("--rerank-counts takes N,N numbers") from None
    for count in counts:
        variants.append((f"hybrid rerank_count={count}", replace(base, rerank_count=count)))
    for model in args.ranker:
        variants.append((f"hybrid ranker={model.name}", replace(base, ranker=LinearRanker.load(model))))
    if args.fit is not None:
        from docsearch.evaluate import training_queries
        from docsearch.search.ranker import fit

        training = training_queries(searcher, judgments, base, args.id_template)
        fitted = fit(training, base.ranker, k=args.k, trained_on=[source])
        try:
            fitted.save(args.fit)
        except OSError as exc:
            raise InputError(f"cannot write {args.fit}: {exc.strerror or exc}") from None
        variants.append((f"hybrid fitted (in-sample) {args.fit.name}", replace(base, ranker=fitted)))
    template = args.id_template
    rows = [(label, evaluate(searcher, judgments, opts, args.k, template)) for label, opts in variants]
    if args.json:
        payload = {
            "qrels": None if args.synthetic else str(args.qrels),
            "synthetic": args.synthetic,
            "k": args.k,
            "queries": len(judgments),
            "variants": [{"variant": label, **scores.as_json()} for label, scores in rows],
        }
        print(json_text(payload))
        return 0
    k = args.k
    print(f"{len(judgments)} queries from {sanitize_line(str(source))}, k = {k}\n")
    header = f"{'variant':<34} {'nDCG@' + str(k):>9} {'Recall@' + str(k):>10} {'MRR@' + str(k):>8} "
    print(header + f"{'Judged@' + str(k):>10} {'p50 ms':>8}")
    for label, sc in rows:
        metrics = f"{sc.ndcg:>9.3f} {sc.recall:>10.3f} {sc.mrr:>8.3f} {sc.judged:>10.3f}"
        print(f"{label:<34} {metrics} {sc.latency_ms:>8.1f}")
    return 0


def _check_query_length(query: str) -> None:
    from docsearch.model import MAX_QUERY_CHARS

    n = len(" ".join(query.split()))
    if n > MAX_QUERY_CHARS:
        raise InputError(
            f"the query is {n:,} characters long; docsearch searches at most {MAX_QUERY_CHARS:,}"
        )


def _suggest(args: argparse.Namespace) -> int:
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester
    from docsearch.store.tables import IndexReader

    if args.limit < 1:
        raise SettingsError("--limit must be at least 1")
    _check_query_length(args.partial)
    settings = _settings(args)
    suggester = Suggester(IndexReader(settings.index), lambda: Searcher(settings))
    found = suggester.suggest(args.partial, args.limit)
    if args.json:
        payload = {"query": args.partial, "suggestions": [s.as_json() for s in found]}
        print(json_text(payload))
        return 0

    width = max((len(s.text) for s in found), default=0)
    for s in found:
        print(f"{sanitize(s.text):<{min(width, 60)}}  {sanitize(s.ref)}  ({s.kind})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from docsearch.embed.base import check_compatible
    from docsearch.embed.models import query_identity
    from docsearch.errors import ModelMismatchError
    from docsearch.store.tables import IndexReader

    settings = _settings(args)
    if args.check:
        return _check(settings.index, args.json)
    reader = IndexReader(settings.index)
    meta = reader.meta
    doc = meta.document_model
    query = None
    problem = ""
    try:
        query = query_identity(settings, doc)
        check_compatible(doc, query)  # the same rule a search applies
    except (ModelMismatchError, SettingsError) as exc:
        problem = exc.message
    compatible = query is not None and not problem
    info = {
        "index": str(settings.index),
        "format": meta.format,
        "fragments": meta.count,
        "sources": meta.sources,
        "document_model": doc.as_dict(),
        "query_model": None if query is None else query.as_dict(),
        "compatible": compatible,
        "problem": problem or None,
        "space": doc.space,
        "dimension": doc.dim,
        "size_bytes": reader.size_on_disk(),
        "updated": meta.updated,
    }
    if args.json:
        print(json_text(info))
        return 0
    from datetime import datetime

    print(
        f"index      {sanitize_line(str(settings.index))}  "
        f"(format {meta.format}, {info['size_bytes'] / 1e6:.1f} MB)"
    )
    print(f"fragments  {meta.count}")
    for name, src in meta.sources.items():
        print(
            f"source     {sanitize_line(name)}: {src.get('files', 0)} files, {src.get('fragments', 0)} "
            f"fragments from {sanitize_line(str(src.get('root', '?')))}"
        )
    print(f"documents  {doc.name} ({doc.space}, {doc.dim}-d)")
    if query is None:
        print("queries    none available — INCOMPATIBLE")
    else:
        verdict = "compatible" if compatible else "INCOMPATIBLE"
        print(f"queries    {query.name} ({query.space}, {query.dim}-d) — {verdict}")
    if problem:
        print(f"fix        {sanitize(problem)}")
    print(f"updated    {datetime.fromtimestamp(meta.updated).isoformat(timespec='seconds')}")
    return 0


def _check(index: Path, as_json: bool) -> int:
    """`status --check`: every problem of the index, one per line; exit 4 when there is one."""
    from docsearch.store.verify import verify

    meta, problems = verify(index, "full")
    roots = sorted({str(s.get("root")) for s in (meta.sources.values() if meta else []) if s.get("root")})
    fix = f"`docsearch index {roots[0] if len(roots) == 1 else 'DIR'}` sets the index aside and rebuilds it"
    if as_json:
        info = {"index": str(index), "ok": not problems, "problems": [str(p) for p in problems]}
        print(json_text(info | {"fix": fix if problems else None}))
    else:
        print(f"index      {sanitize_line(str(index))}")
        if meta is not None:
            print(f"fragments  {meta.count} (commit {meta.commit})")
        print("check      ok: every table and file is as committed" if not problems else "check      DAMAGED")
        for problem in problems:
            print(f"problem    {sanitize_line(str(problem))}")
        if problems:
            print(f"fix        {sanitize(fix)}")
    return 4 if problems else 0


def _models(args: argparse.Namespace) -> int:
    from docsearch.embed.models import KNOWN, ModelStore, register_folder, unregister

    settings = _settings(args)
    store = ModelStore(settings.cache_dir)
    action = getattr(args, "models_command", None) or "list"

    if action == "list":
        rows = []
        registry = store.registry()
        for name in sorted(set(KNOWN) | set(store.installed_names())):
            known = KNOWN.get(name)
            if name in registry:
                kind, where, installed = "local", registry[name]["path"], True
            elif store.pulled(name):
                kind, where, installed = "local", str(store.folder(name)), True
            elif known is not None and known.kind == "builtin":
                kind, where, installed = "local", "bundled (PyPI)", True
            elif known is not None and known.kind == "api":
                kind, where = "api", "Voyage API"
                installed = bool(settings.voyage_api_key)
            else:
                kind, where, installed = "local", f"docsearch models pull {name}", False
            spec = store.local_spec(name, role=None) if kind == "local" and installed else None
            space = spec.space if spec else (known.space if known else "?")
            dims = [spec.dim, *spec.matryoshka_dims] if spec else list(known.dims) if known else []
            rows.append(
                {
                    "name": name,
                    "kind": kind,
                    "space": space,
                    "dimensions": dims,
                    "installed": installed,
                    "location": where,
                    "description": known.description if known else "added with `docsearch models add`",
                }
            )
        if args.json:
            print(json_text({"models": rows}))
            return 0
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for column in ("model", "kind", "space", "dims", "ready", "where"):
            table.add_column(column)
        for r in rows:
            ready = "yes" if r["installed"] else ("needs VOYAGE_API_KEY" if r["kind"] == "api" else "no")
            table.add_row(
                sanitize(r["name"]),
                r["kind"],
                sanitize(r["space"]),
                ",".join(map(str, r["dimensions"])),
                ready,
                sanitize(r["location"]),
            )
        Console(highlight=False).print(table)
        return 0

    if action == "pull":
        from docsearch.embed.download import ModelDownloader

        known = KNOWN.get(args.name)
        if known is None:
            raise SettingsError(
                f"unknown model {args.name!r}: downloadable models are "
                + ", ".join(n for n, k in KNOWN.items() if k.kind == "download")
            )
        if known.kind != "download":
            detail = "bundled, nothing to download" if known.kind == "builtin" else "served by the Voyage API"
            raise SettingsError(f"{args.name} is {detail}")
        downloader = ModelDownloader(settings.hf_endpoint, store)
        try:
            folder = _pull_with_progress(downloader, known)
        finally:
            downloader.close()
        print(f"installed {known.name} in {sanitize_line(str(folder))}")
        return 0

    if action == "add":
        spec = register_folder(store, args.path, args.name, args.onnx)
        print(
            f"registered {sanitize_line(spec.name)} ({sanitize_line(spec.space)}, {spec.identity.dim}-d) "
            f"from {sanitize_line(str(args.path))}"
        )
        return 0

    if action == "remove":
        if not unregister(store, args.name):
            raise SettingsError(f"no installed or added model named {args.name!r}")
        print(f"removed {sanitize_line(args.name)}")
        return 0
    raise SettingsError(f"unknown models action {action!r}")


def _pull_with_progress(downloader: Any, known: Any) -> Path:
    if not sys.stderr.isatty():
        return downloader.pull(known)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar

    bar = Bar(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    tasks: dict[str, Any] = {}

    def on_progress(name: str, done: int, total: int) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(name, total=total)
        bar.update(tasks[name], completed=done)

    with bar:
        return downloader.pull(known, on_progress)
