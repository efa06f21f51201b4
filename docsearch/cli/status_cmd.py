"""`docsearch status`: what the index holds, whether queries can search it, `--check`."""

from __future__ import annotations

import argparse
from pathlib import Path

from docsearch.cli.common import settings_from
from docsearch.errors import SettingsError
from docsearch.present import json_text, plural, sanitize, sanitize_line


def run_status(args: argparse.Namespace) -> int:
    from docsearch.embed.base import check_compatible
    from docsearch.embed.models import query_identity
    from docsearch.errors import ModelMismatchError
    from docsearch.store.tables import IndexReader

    settings = settings_from(args)
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
        "dim": doc.dim,  # as in document_model.dim and `models list --json`
        "dimension": doc.dim,  # deprecated: the old name of `dim`
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
            f"source     {sanitize_line(name)}: {plural(src.get('files', 0), 'file')}, "
            f"{plural(src.get('fragments', 0), 'fragment')} from {sanitize_line(str(src.get('root', '?')))}"
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
