"""`docsearch models list|pull|add|remove`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from docsearch.cli.common import settings_from
from docsearch.errors import SettingsError
from docsearch.present import json_text, sanitize_line


def run_models(args: argparse.Namespace) -> int:
    from docsearch.embed.models import KNOWN, ModelStore, register_folder, unregister

    settings = settings_from(args)
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
                    "dim": dims[0] if dims else None,  # the size it embeds at by default
                    "dims": dims,  # every size it can give (Matryoshka)
                    "dimensions": dims,  # deprecated: the old name of `dims`
                    "installed": installed,
                    "location": where,
                    "description": known.description if known else "added with `docsearch models add`",
                }
            )
        if args.json:
            print(json_text({"models": rows}))
            return 0
        header = ("model", "kind", "space", "dims", "ready", "where")
        cells = [
            (
                sanitize_line(r["name"]),
                r["kind"],
                sanitize_line(r["space"]),
                ",".join(map(str, r["dims"])),
                "yes" if r["installed"] else ("needs VOYAGE_API_KEY" if r["kind"] == "api" else "no"),
                sanitize_line(r["location"]),
            )
            for r in rows
        ]
        print_columns(header, cells)
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


def print_columns(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A table: rich on a terminal, plain aligned columns elsewhere, where no cell is ever
    cut or wrapped (a pipe has no width to fit)."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for column in header:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        Console(highlight=False).print(table)
        return
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)).rstrip())


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
