"""`docsearch sources` and `docsearch remove SOURCE`: the index's sources, listed or dropped."""

from __future__ import annotations

import argparse

from docsearch.cli.common import settings_from
from docsearch.present import json_text, plural, sanitize_line


def run_sources(args: argparse.Namespace) -> int:
    from docsearch.store.tables import read_meta

    settings = settings_from(args)
    sources = read_meta(settings.index).sources
    rows = [
        {
            "name": name,
            "root": src.get("root"),
            "files": src.get("files", 0),
            "fragments": src.get("fragments", 0),
            "include": src.get("include", []),
            "exclude": src.get("exclude", []),
            "follow_symlinks": bool(src.get("follow_symlinks", False)),
            "base_url": src.get("base_url"),
            "url_ext": src.get("url_ext"),
            "updated": src.get("updated"),
        }
        for name, src in sorted(sources.items())
    ]
    if args.json:
        print(json_text({"index": str(settings.index), "sources": rows}))
        return 0
    for r in rows:
        flags = [f"--include {g}" for g in r["include"]] + [f"--exclude {g}" for g in r["exclude"]]
        if r["follow_symlinks"]:
            flags.append("--follow-symlinks")
        if r["base_url"]:
            flags.append(f"--base-url {r['base_url']}")
        if r["url_ext"] is not None:
            flags.append(f"--url-ext '{r['url_ext']}'")
        print(
            f"{sanitize_line(r['name'])}: {plural(r['files'], 'file')}, "
            f"{plural(r['fragments'], 'fragment')} from "
            f"{sanitize_line(str(r['root']))}" + (f"  {sanitize_line(' '.join(flags))}" if flags else "")
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from docsearch.index.sources import remove_source

    settings = settings_from(args)
    removed = remove_source(settings, args.name)
    if args.json:
        print(json_text({"source": args.name, "removed": removed}))
    else:
        print(f"removed source {sanitize_line(args.name)}: {plural(removed, 'fragment')}")
    return 0
