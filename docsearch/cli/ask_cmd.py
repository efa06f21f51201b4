"""`docsearch ask` and `docsearch suggest`: one search, printed for a person or a script."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from docsearch.cli.common import check_query_length, print_error, settings_from
from docsearch.errors import InputError, SettingsError
from docsearch.present import json_text, sanitize, sanitize_line


def run_ask(args: argparse.Namespace) -> int:
    from docsearch.search.searcher import Searcher

    if args.top_k is not None and args.top_k < 1:
        raise SettingsError("--top-k must be at least 1")
    args.query = query_from(args.query)
    check_query_length(args.query)
    settings = settings_from(args, top_k=args.top_k, rerank=args.rerank, no_summary=args.no_summary)
    no_summary = settings.no_summary
    llm = None
    if not no_summary:
        from docsearch.llm.client import client_from_settings

        llm = client_from_settings(settings)  # a bad `llm` setting fails before the search
    searcher = Searcher(settings)
    result = searcher.search(args.query, source=args.source, path_prefix=args.path_prefix, rescore=True)
    if not result.hits and (args.source is not None or args.path_prefix is not None):
        raise _filter_error(args, searcher.reader.meta.sources)
    hint = None if llm or no_summary else _hint_once(settings.cache_dir, args.verbose)
    if args.json:
        payload = result.as_json()
        code = 0
        if llm is not None and result.hits:
            summary, error = _summarize(llm, args.query, result, settings, None)
            payload["summary"] = summary.as_json() if summary else None
            if error:
                payload["summary_error"] = error
                print_error(error)
                code = 6
        print(json_text(payload))
        if hint:
            print(hint, file=sys.stderr)
        return code
    from docsearch.cli.ask_output import plain_lines, terminal_renderables

    if sys.stdout.isatty():
        from rich.console import Console

        console = Console(highlight=False)
        for renderable in terminal_renderables(result, color=console.is_terminal):
            console.print(renderable)
    else:
        # A pipe or a file: no wrapping, no padding, no colour.
        sys.stdout.write("".join(line + "\n" for line in plain_lines(result)))
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
        print_error(error)
        return 6
    return 0


def query_from(words: list[str] | str) -> str:
    """The query: the words joined (`ask exit codes` as `llm` does it), or standard input for
    `ask -` and for no words when standard input is not a terminal (`echo q | docsearch ask`)."""
    if isinstance(words, str):
        words = [words]
    if words == ["-"] or (not words and not sys.stdin.isatty()):
        return " ".join(sys.stdin.read().split())
    return " ".join(words)


def _filter_error(args: argparse.Namespace, sources: dict[str, Any]) -> InputError:
    """`--source`/`--path-prefix` that match nothing: a mistake, not an empty answer."""
    listed = ", ".join(f"{name} ({src.get('root', '?')})" for name, src in sorted(sources.items()))
    if args.source is not None and args.source not in sources:
        what = f"--source {args.source} is not a source of this index"
    else:
        parts = [f"--source {args.source}" if args.source is not None else "", ""]
        if args.path_prefix is not None:
            parts[1] = f"--path-prefix {args.path_prefix}"
        what = f"{' '.join(p for p in parts if p)} matches no fragment"
    return InputError(f"{sanitize_line(what)}; the index's sources: {sanitize_line(listed) or 'none'}")


HINT_MARKER = "llm-hint-shown"


def _hint_once(cache_dir: Path, verbose: bool) -> str | None:
    """The LLM hint, shown once per cache dir (a marker file there), or always with --verbose."""
    if verbose:
        return LLM_HINT
    marker = cache_dir / HINT_MARKER
    if marker.exists():
        return None
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        return None  # a read-only cache: never nag on every run
    return LLM_HINT


LLM_HINT = (
    "hint: for a cited summary, set DOCSEARCH_LLM=openai:MODEL (with DOCSEARCH_LLM_BASE_URL for a "
    "local server such as Ollama) or anthropic:MODEL with ANTHROPIC_API_KEY; shown once, "
    "again with --verbose"
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


def run_suggest(args: argparse.Namespace) -> int:
    from docsearch.search.searcher import Searcher
    from docsearch.search.suggest import Suggester
    from docsearch.store.tables import IndexReader

    if args.limit < 1:
        raise SettingsError("--limit must be at least 1")
    check_query_length(args.partial)
    settings = settings_from(args)
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
