"""Errors a user can act on. The CLI prints `error: <message>` and exits with `exit_code`.

Exit codes (documented in corpus/cli.md):
  1  unexpected internal error
  2  bad usage or settings (bad flag, bad docsearch.toml)
  3  bad input (folder missing, no markdown found)
  4  no index, or an index that cannot be read ("run `docsearch index DIR` first")
  5  the index was built with a model the query side cannot match
  6  a remote service failed (Voyage API, model download) or a download did not verify
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations


class DocsearchError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SettingsError(DocsearchError):
    exit_code = 2


class InputError(DocsearchError):
    exit_code = 3


class IndexMissingError(DocsearchError):
    exit_code = 4


class IndexDamagedError(IndexMissingError):
    """The committed index cannot be read as committed (meta.json, a table, a file);
    `docsearch index` sets it aside and rebuilds it. `problem` says what is wrong."""

    def __init__(self, message: str, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message


class IndexFormatError(IndexMissingError):
    """The index was written by a docsearch with another storage format; `index` rebuilds it."""

    def __init__(self, message: str, found: int) -> None:
        super().__init__(message)
        self.found = found


class ModelMismatchError(DocsearchError):
    exit_code = 5


class ServiceError(DocsearchError):
    """A remote service (the Voyage API, a model download) failed or returned something wrong."""

    exit_code = 6


def redact(message: str, secret: str) -> str:
    """`message` with `secret` (an API key a server may echo) replaced: keys never reach output."""
    return message.replace(secret, "[redacted]") if secret else message
