"""The compact text each tool returns beside its structured content: what a model reads.

The values come sanitized and cut to the budget from service.py; this only lays them out,
with the call that continues where a result was cut.
"""

from __future__ import annotations

from typing import Any

from docsearch.present import plural


def search_text(out: dict[str, Any]) -> str:
    if not out["results"]:
        return f"No results for {out['query']!r}."
    lines = []
    if out["corrections"]:
        lines.append(f"(also searched for: {' '.join(out['corrections'])})")
    for n, hit in enumerate(out["results"], 1):
        lines.append(f"[{n}] {hit['ref']}  ({hit['source']}, line {hit['line']}, score {hit['score']:.3f})")
        lines.append(f"    {' › '.join(hit['breadcrumb'])}")
        if hit["excerpt"]:
            lines.extend(f"    {line}" if line else "" for line in hit["excerpt"].split("\n"))
            if hit["excerpt_truncated"]:
                lines.append("    …")
        lines.append("")
    if out["omitted"]:
        lines.append(f"({plural(out['omitted'], 'more result')} left out to stay within the token budget)")
    lines.append("read_fragment(ref) returns a whole section; read_page(path, around=anchor) its page.")
    return "\n".join(lines)


def fragment_text(out: dict[str, Any]) -> str:
    head = (
        f"{out['ref']}  ({out['source']}, lines {out['line_start']}–{out['line_end']})\n"
        f"{' › '.join(out['breadcrumb'])}\n\n"
    )
    tail = ""
    if out["truncated"]:
        tail = (
            f"\n\n[… cut at the token budget; the rest: read_page(path={out['path']!r}, "
            f"line={out['continue_at_line']})]"
        )
    return head + out["text"] + tail


def page_text(out: dict[str, Any]) -> str:
    head = (
        f"{out['path']}  ({out['source']}): {out['title']}, lines {out['line_start']}–{out['line_end']} "
        f"of {out['total_lines']}\n\n"
    )
    tail = ""
    if out["next_line"] is not None:
        tail = f"\n\n[… more: read_page(path={out['path']!r}, line={out['next_line']})]"
    return head + out["text"] + tail


def sources_text(out: dict[str, Any]) -> str:
    lines = [
        f"index {out['index']}: {plural(out['fragments'], 'fragment', thousands=True)}, "
        f"updated {out['updated']} "
        f"({_age(out['age_seconds'])} ago)",
        f"models: documents {out['document_model']}, queries {out['query_model']} "
        f"({out['space']}, {out['dimension']}-d)",
    ]
    for s in out["sources"]:
        files, fragments = plural(s["files"], "file"), plural(s["fragments"], "fragment", thousands=True)
        lines.append(f"source {s['name']}: {files}, {fragments} from {s['root']}")
    return "\n".join(lines)


def answer_text(out: dict[str, Any]) -> str:
    if not out["answer"]:
        return f"No documentation found for {out['question']!r}."
    refs = [
        f"[{c['n']}] {c['ref']}" if c["valid"] else f"[{c['n']}] (not among the results)"
        for c in out["citations"]
    ]
    return out["answer"] + ("\n\n" + "\n".join(refs) if refs else "")


def _age(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return ""
