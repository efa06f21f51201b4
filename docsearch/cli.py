"""The `docsearch` command: argument parsing and output formatting only.

All the work happens in `Indexer` and `Searcher`. Heavy modules (lancedb, onnxruntime, rich)
are imported inside the command that needs them, so `docsearch ask` pays only for its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from docsearch import __version__
from docsearch.errors import DocsearchError, SettingsError

EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command. SUPPRESS keeps a subcommand's
    # parser from overwriting a value given before the command with its own default.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--index", type=Path, help="index folder (env DOCSEARCH_INDEX, default ./.docsearch)")
    common.add_argument("--config", type=Path, help="settings file (default ./docsearch.toml)")
    common.add_argument("--model", help="embedding model name or folder (env DOCSEARCH_MODEL)")

    parser = argparse.ArgumentParser(
        prog="docsearch",
        description="Find the exact paragraph of documentation you need.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"docsearch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="index a folder of markdown")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--source", help="name of this folder in the index (default: the folder name)")
    p.add_argument("--include", action="append", default=[], metavar="GLOB", help="only matching files")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    p = sub.add_parser("ask", parents=[common], help="search once and print the best fragments")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top-k", "-k", type=int, dest="top_k", metavar="N", help="number of results")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-summary", action="store_true", help="do not ask an LLM for a summary")
    p.add_argument("--source", help="only this source")
    p.add_argument("--path-prefix", help="only fragments whose path starts with this")

    p = sub.add_parser("status", parents=[common], help="describe the index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from docsearch.settings import Settings

    flags = {"index": getattr(args, "index", None), "model": getattr(args, "model", None), **extra}
    return Settings.resolve(flags, config_file=getattr(args, "config", None))


def _error(message: str) -> None:
    from docsearch.present import sanitize

    print(f"error: {sanitize(message)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "index":
            return _index(args)
        if args.command == "ask":
            return _ask(args)
        if args.command == "status":
            return _status(args)
        _parser().print_help()
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

    settings = _settings(args)
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
            transient=True,
        )
        tasks: dict[str, Any] = {}

        def on_progress(p: Progress) -> None:
            if p.stage == "done":
                return
            if p.stage not in tasks:
                tasks[p.stage] = bar.add_task(p.stage, total=max(p.total, 1))
            bar.update(tasks[p.stage], completed=p.done, total=max(p.total, 1))

        with bar:
            summary = indexer.index(args.folder, args.source, args.include, args.exclude, on_progress)
    else:
        last: dict[str, int] = {}

        def on_progress(p: Progress) -> None:
            # Plain lines for logs: one per stage start and end, and every 10% of embedding.
            step = max(p.total // 10, 1)
            if (
                p.stage == "embed"
                and p.total
                and (p.done - last.get(p.stage, -step) >= step or p.done == p.total)
            ):
                last[p.stage] = p.done
                if not args.json:
                    print(f"embedding {p.done}/{p.total}", file=sys.stderr)

        summary = indexer.index(args.folder, args.source, args.include, args.exclude, on_progress)

    if args.json:
        print(json.dumps(summary.as_json()))
        return 0
    from docsearch.present import sanitize

    s = summary
    print(
        f"indexed {s.source}: {s.files} files, {s.fragments} fragments "
        f"({s.added} added, {s.changed} changed, {s.removed} removed, {s.unchanged} unchanged; "
        f"{s.embedded} embedded) in {s.seconds:.1f} s"
    )
    for w in s.warnings:
        print(f"warning: {sanitize(w.path)}: {w.reason}", file=sys.stderr)
    if s.skipped:
        reasons: dict[str, int] = {}
        for sk in s.skipped:
            reasons[sk.reason] = reasons.get(sk.reason, 0) + 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        print(f"skipped {len(s.skipped)} files: {detail}", file=sys.stderr)
    return 0


def _ask(args: argparse.Namespace) -> int:
    from docsearch.search.searcher import Searcher

    if args.top_k is not None and args.top_k < 1:
        raise SettingsError("--top-k must be at least 1")
    settings = _settings(args, top_k=args.top_k)
    searcher = Searcher(settings)
    result = searcher.search(args.query, source=args.source, path_prefix=args.path_prefix)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False))
        return 0
    from rich.console import Console

    from docsearch.present import render_text

    console = Console(highlight=False)
    for renderable in render_text(result, color=console.is_terminal):
        console.print(renderable)
    return 0


def _status(args: argparse.Namespace) -> int:
    from docsearch.embed.models import resolve_spec
    from docsearch.store.tables import IndexReader

    settings = _settings(args)
    reader = IndexReader(settings.index)
    meta = reader.meta
    query = resolve_spec(settings.model).identity
    doc = meta.document_model
    compatible = doc.space == query.space and doc.dim == query.dim
    info = {
        "index": str(settings.index),
        "format": meta.format,
        "fragments": meta.count,
        "sources": meta.sources,
        "document_model": doc.as_dict(),
        "query_model": query.as_dict(),
        "compatible": compatible,
        "space": doc.space,
        "dimension": doc.dim,
        "size_bytes": reader.size_on_disk(),
        "updated": meta.updated,
    }
    if args.json:
        print(json.dumps(info))
        return 0
    from datetime import datetime

    from docsearch.present import sanitize

    print(f"index      {settings.index}  (format {meta.format}, {info['size_bytes'] / 1e6:.1f} MB)")
    print(f"fragments  {meta.count}")
    for name, src in meta.sources.items():
        print(
            f"source     {sanitize(name)}: {src.get('files', 0)} files, {src.get('fragments', 0)} fragments "
            f"from {sanitize(str(src.get('root', '?')))}"
        )
    print(f"documents  {doc.name} ({doc.space}, {doc.dim}-d)")
    verdict = "compatible" if compatible else "INCOMPATIBLE"
    print(f"queries    {query.name} ({query.space}, {query.dim}-d) — {verdict}")
    print(f"updated    {datetime.fromtimestamp(meta.updated).isoformat(timespec='seconds')}")
    return 0
