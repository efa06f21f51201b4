"""What every command shares: settings from flags, the one-line error, the query limit."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from docsearch.errors import InputError
from docsearch.present import sanitize_line


def settings_from(args: argparse.Namespace, **extra: Any) -> Any:
    from docsearch.settings import Settings

    names = ("index", "model", "doc_model", "query_model")
    flags = {name: getattr(args, name, None) for name in names} | extra
    return Settings.resolve(flags, config_file=getattr(args, "config", None))


def print_error(message: str) -> None:
    # One line whatever the message holds (a server's text, a file name with a newline).
    print(f"error: {sanitize_line(message)}", file=sys.stderr)


def check_query_length(query: str) -> None:
    from docsearch.model import MAX_QUERY_CHARS

    n = len(" ".join(query.split()))
    if n > MAX_QUERY_CHARS:
        raise InputError(
            f"the query is {n:,} characters long; docsearch searches at most {MAX_QUERY_CHARS:,}"
        )
