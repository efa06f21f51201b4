"""`docsearch index DIR`: progress while it runs, then the summary (text or JSON)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docsearch.cli.common import print_error, settings_from
from docsearch.errors import InputError
from docsearch.present import json_text, plural, sanitize, sanitize_line

SKIPPED_LISTED = 10


def run_index(args: argparse.Namespace) -> int:
    """`index DIR` indexes one folder; `index` with no folder re-indexes every known source
    (or the one `--source` names) from its folder, with the globs and options it had."""
    if args.folder is not None:
        return _index_one(args)
    from docsearch.index.sources import known_sources

    known = known_sources(settings_from(args).index)
    if args.source is not None:
        known = {k: v for k, v in known.items() if k == args.source}
    if not known:
        what = f"no source named {args.source!r}" if args.source else "no sources yet"
        raise InputError(f"no folder given and the index has {what}: run `docsearch index DIR`")
    summaries, missing = [], []
    for name, src in sorted(known.items()):
        root = Path(str(src.get("root")))
        if not root.is_dir():
            # One source's folder moved or deleted: say so, and index the others all the same.
            what = "not a folder" if root.exists() else "folder not found"
            print_error(
                f"source {name}: {what}: {root}; index it from where it is now with "
                f"`docsearch index DIR --source {name}`, or drop it with `docsearch remove {name}`"
            )
            missing.append({"source": name, "root": str(root)})
            continue
        args.folder, args.source = root, name
        summaries.append(_index_one(args, print_json=False))
    if args.json:
        print(json_text({"sources": summaries, "missing": missing}))
    return InputError.exit_code if missing else 0


def _index_one(args: argparse.Namespace, print_json: bool = True) -> Any:
    """Index one folder and print its summary; with print_json False (every source at once),
    the JSON summary is returned for the caller to print."""
    from docsearch.index.indexer import Indexer, Progress

    settings = settings_from(args, voyage_dimension=args.dimension, questions=args.questions)
    indexer = Indexer(settings)
    interactive = sys.stderr.isatty() and not args.json

    def run(on_progress: Callable[[Progress], None]) -> Any:
        return indexer.index(
            args.folder,
            args.source,
            args.include,
            args.exclude,
            on_progress,
            base_url=args.base_url,
            url_ext=args.url_ext,
            follow_symlinks=args.follow_symlinks,
        )

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
            summary = run(on_progress)
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

        summary = run(on_progress)

    if args.json:
        if not print_json:
            return summary.as_json()
        print(json_text(summary.as_json()))
        return 0

    s = summary
    if s.reused:
        print(
            f"index: {sanitize_line(s.source)} reuses {sanitize_line(' '.join(s.reused))} from its last run "
            "(give --include/--exclude to replace them, --exclude '' to clear)",
            file=sys.stderr,
        )
    from_cache = f", {s.cached} from the embedding cache" if s.cached else ""
    print(
        f"indexed {sanitize_line(s.source)}: {plural(s.files, 'file')}, {plural(s.fragments, 'fragment')} "
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
            f"questions: {plural(s.questions_generated, 'fragment')} asked "
            f"({plural(s.llm_tokens, 'LLM token', thousands=True)}{price}), "
            f"{s.questions_cached} from the cache, {len(s.questions_failed)} failed"
        )
        for failed in s.questions_failed:
            where, why = sanitize_line(failed.path), sanitize(failed.reason)
            print(f"warning: no questions for {where}: {why}", file=sys.stderr)
    if s.tokens or s.cost_usd is not None:
        print(
            f"voyage: {plural(s.tokens, 'token', thousands=True)} billed (${s.cost_usd or 0:.4f}), "
            f"{plural(s.cached, 'text')} from the cache"
        )
    for w in s.warnings:
        print(f"warning: {sanitize_line(w.path)}: {w.reason}", file=sys.stderr)
    if s.skipped:
        reasons: dict[str, int] = {}
        for sk in s.skipped:
            reasons[sk.reason] = reasons.get(sk.reason, 0) + 1
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        print(f"skipped {plural(len(s.skipped), 'file')}: {detail}", file=sys.stderr)
        # Which ones, so that a skipped page can be found and fixed (a few; --json has all).
        for sk in s.skipped[:SKIPPED_LISTED]:
            print(f"  {sanitize_line(sk.path)}: {sk.reason}", file=sys.stderr)
        if len(s.skipped) > SKIPPED_LISTED:
            print(f"  … and {len(s.skipped) - SKIPPED_LISTED} more (--json lists them all)", file=sys.stderr)
    return 0


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
