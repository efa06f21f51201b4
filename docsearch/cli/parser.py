"""The argument parser: every command, flag and help text of `docsearch`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from docsearch import __version__

EXAMPLES = """\
examples:
  docsearch index ./docs --exclude drafts/     index a folder (again: only what changed)
  docsearch ask how do I exclude a folder      the best fragments, path:line #anchor
  docsearch ask exit codes --json -k 3         one JSON object, for scripts
  echo "read a file" | docsearch ask           the query from standard input
  docsearch suggest fs.readF                   completions: API names, headings
  docsearch sources                            the indexed folders and their globs
  docsearch status                             fragments, models, size

Plain `docsearch` (no command) opens the interactive search, the TUI, when it runs on a
terminal, and prints this help in a pipe or a script; none of the commands above opens the
TUI. The manual: corpus/index.md in the repository.
"""


class Parser(argparse.ArgumentParser):
    """argparse with docsearch's error form: one line `error: …` (with a "did you mean" for
    a misspelt flag or command) and exit code 2, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}{did_you_mean(self, message)} (see `{self.prog} --help`)\n")


def _all_options(parser: argparse.ArgumentParser) -> list[str]:
    """Every flag of `parser` and of its subcommands, all the way down."""
    found: list[str] = []
    for action in parser._actions:
        found.extend(o for o in action.option_strings if o.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_all_options(sub))
    return sorted(set(found))


def did_you_mean(parser: argparse.ArgumentParser, message: str) -> str:
    """`; did you mean --top-k?` for the closest known flag or choice, or ""."""
    import difflib
    import re

    if message.startswith("unrecognized arguments: "):
        for word in message.removeprefix("unrecognized arguments: ").split():
            if word.startswith("-"):
                flag = word.split("=", 1)[0]
                close = difflib.get_close_matches(flag, _all_options(parser), n=1, cutoff=0.6)
                if close:
                    return f"; did you mean {close[0]}?"
        return ""
    choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if choice:
        options = [c.strip(" '") for c in choice.group(2).split(",")]
        close = difflib.get_close_matches(choice.group(1), options, n=1, cutoff=0.6)
        if close:
            return f"; did you mean {close[0]}?"
    return ""


def build_parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the command. SUPPRESS keeps a subcommand's
    # parser from overwriting a value given before the command with its own default.
    common = Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--index", type=Path, help="index folder (env DOCSEARCH_INDEX, default ./.docsearch)")
    common.add_argument("--config", type=Path, help="settings file (default ./docsearch.toml)")
    common.add_argument("--model", help="embedding model for documents and queries (env DOCSEARCH_MODEL)")
    common.add_argument("--doc-model", dest="doc_model", metavar="MODEL", help="model for documents")
    common.add_argument("--query-model", dest="query_model", metavar="MODEL", help="model for queries")

    parser = Parser(
        prog="docsearch",
        description="Find the exact paragraph of documentation you need.",
        parents=[common],
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", "-V", action="version", version=f"docsearch {__version__}")
    parser.add_argument(
        "--print", action="store_true", help="terminal UI: on Enter, exit and print the result's path:line"
    )
    parser.add_argument(
        "--print-format",
        dest="print_format",
        metavar="FMT",
        help="--print with {path} {line} {anchor} {url} {ref} {source}",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", help="none: the interactive search, on a terminal"
    )

    p = sub.add_parser(
        "index", parents=[common], help="index a folder of markdown (none: every known source)"
    )
    p.add_argument(
        "folder",
        type=Path,
        nargs="?",
        metavar="DIR",
        help="the folder to index; without it, every source of the index is indexed again from its folder",
    )
    p.add_argument("--source", help="name of this folder in the index (default: the folder name)")
    p.add_argument(
        "--include",
        action="append",
        metavar="GLOB",
        help="only matching files (repeatable; default: the source's last ones)",
    )
    p.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help="skip matching files (repeatable; default: the source's last ones; '' clears them)",
    )
    p.add_argument(
        "--dimension", type=int, metavar="N", help="vector size for Voyage models: 2048, 1024, 512 or 256"
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="where this source is published, e.g. https://nodejs.org/api/ (for links)",
    )
    p.add_argument(
        "--url-ext",
        metavar="EXT",
        help="what replaces .md in those links (default .html; '' drops it, .md keeps it)",
    )
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
    p.add_argument(
        "query",
        nargs="*",
        metavar="QUERY",
        help="the words to search for (quotes optional); `-`, or none with a pipe, reads standard input",
    )
    p.add_argument("--top-k", "-k", type=int, dest="top_k", metavar="N", help="number of results")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--no-summary",
        action="store_true",
        default=None,
        help="do not ask an LLM for a summary (setting no_summary)",
    )
    p.add_argument("--verbose", "-v", action="store_true", help="print hints every time, not once")
    p.add_argument("--source", help="only this source (exit 3 if the index has none of that name)")
    p.add_argument("--path-prefix", help="only fragments whose path starts with this (exit 3 if none does)")
    p.add_argument(
        "--rerank",
        choices=("off", "local", "voyage"),
        help="reorder the top sections with a cross-encoder: local (docsearch models pull "
        "ms-marco-minilm-l6) or voyage (VOYAGE_API_KEY); default: the rerank setting, off",
    )

    p = sub.add_parser("suggest", parents=[common], help="complete a partial query (hot links, headings)")
    p.add_argument("partial", metavar="PARTIAL", help="the start of a query, as typed so far")
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
    p.add_argument(
        "--rerank",
        choices=("off", "local", "voyage"),
        help="also run hybrid followed by this cross-encoder (default: the rerank setting, off)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser(
        "sources", parents=[common], help="list the sources of the index and how each was built"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("remove", parents=[common], help="drop a source's fragments from the index")
    p.add_argument("name", metavar="SOURCE", help="the source's name (see `docsearch sources`)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("status", parents=[common], help="describe the index")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--check", action="store_true", help="verify every table and file of the index (exit 4 if damaged)"
    )

    p = sub.add_parser("mcp", parents=[common], help="serve the index to coding agents (MCP over stdio)")
    p.add_argument("--token-budget", type=int, metavar="N", help="most tokens per tool result (default 2000)")

    p = sub.add_parser("models", parents=[common], help="list, download and register embedding models")
    msub = p.add_subparsers(
        dest="models_command", metavar="ACTION", help="list (the default), pull, add or remove"
    )
    m = msub.add_parser("list", parents=[common], help="known and installed models")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m = msub.add_parser("pull", parents=[common], help="download a model (from Hugging Face or HF_ENDPOINT)")
    m.add_argument("name", metavar="NAME", help="a downloadable model from `docsearch models list`")
    m = msub.add_parser("add", parents=[common], help="register a model folder you exported yourself")
    m.add_argument("path", type=Path, metavar="PATH", help="a folder with an ONNX file and tokenizer.json")
    m.add_argument("--name", help="register under this name (default: from its metadata)")
    m.add_argument("--onnx", metavar="FILE", help="the ONNX file inside PATH, if there are several")
    m = msub.add_parser("remove", parents=[common], help="forget an added model or delete a pulled one")
    m.add_argument("name", metavar="NAME", help="the model's name in `docsearch models list`")
    return parser
