"""The `docsearch` command: argument parsing and output formatting only.

All the work happens in `Indexer` and `Searcher`. Heavy modules (lancedb, onnxruntime, rich)
are imported inside the command that needs them, so `docsearch ask` pays only for its own.
One module per command (`index_cmd`, `ask_cmd` with `suggest`, `eval_cmd`, `status_cmd`,
`models_cmd`, `mcp_cmd`); `parser` holds every flag and `common` what they share.
"""

from __future__ import annotations

import argparse
import os
import sys

from docsearch.cli.ask_cmd import run_ask, run_suggest
from docsearch.cli.common import print_error, settings_from
from docsearch.cli.eval_cmd import run_eval
from docsearch.cli.index_cmd import run_index
from docsearch.cli.mcp_cmd import run_mcp
from docsearch.cli.models_cmd import run_models
from docsearch.cli.parser import build_parser
from docsearch.cli.sources_cmd import run_remove, run_sources
from docsearch.cli.status_cmd import run_status
from docsearch.disk import os_error_message
from docsearch.errors import DocsearchError, StorageError
from docsearch.present import sanitize_line, warnings_to_stderr

EXIT_INTERRUPTED = 130

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    warnings_to_stderr()  # a cache that cannot be written: `warning: …`, and the run goes on
    commands = {
        "index": run_index,
        "ask": run_ask,
        "status": run_status,
        "models": run_models,
        "suggest": run_suggest,
        "eval": run_eval,
        "mcp": run_mcp,
        "sources": run_sources,
        "remove": run_remove,
    }
    try:
        if args.command in commands:
            return commands[args.command](args)
        # The UI draws on stderr's terminal, so `vim $(docsearch --print)` works like fzf.
        wants_print = getattr(args, "print", False) or getattr(args, "print_format", None)
        if sys.stdin.isatty() and (sys.stdout.isatty() or (wants_print and sys.stderr.isatty())):
            return run_tui(args)
        parser.print_help()
        return 0
    except DocsearchError as exc:
        print_error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `docsearch ask … | head`: the reader left; not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        message = os_error_message(exc)  # a full or read-only disk that no narrower handler named
        if message is None:
            raise
        print_error(message)
        return StorageError.exit_code


def run_tui(args: argparse.Namespace) -> int:
    from docsearch.llm.client import client_from_settings
    from docsearch.tui.app import DocsearchApp
    from docsearch.tui.output import DEFAULT_FORMAT, check_format

    fmt = getattr(args, "print_format", None)
    if fmt is None and getattr(args, "print", False):
        fmt = DEFAULT_FORMAT
    print_format = check_format(fmt) if fmt is not None else None
    settings = settings_from(args)
    chosen = DocsearchApp(settings, llm=client_from_settings(settings), print_format=print_format).run()
    if print_format is None:
        return 0
    if not chosen:
        return EXIT_INTERRUPTED  # left without choosing: 130, as fzf does
    print(sanitize_line(chosen))
    return 0
