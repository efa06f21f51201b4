"""Errors a user can act on. The CLI prints `error: <message>` and exits with `exit_code`.

Exit codes (documented in corpus/cli.md):
  1  unexpected internal error
  2  bad usage or settings (bad flag, bad docsearch.toml)
  3  bad input (folder missing, no markdown found)
  4  no index, or an index that cannot be read ("run `docsearch index DIR` first")
  5  the index was built with a model the query side cannot match
  6  a remote service failed (Voyage API, model download, LLM) or a download did not verify
  7  the file system refused: a full or read-only disk, or no permission (the index is intact)
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


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


class StorageError(DocsearchError):
    """The file system refused a write (no space, read-only, no permission): none of the other
    codes' fixes (re-run `index`, fix the input, retry the service) helps, so it has its own."""

    exit_code = 7


REDACTED = "[redacted]"

# The exceptions a server's malformed answer raises while it is parsed (int("…"), a missing key,
# a list where a dict was expected). Their text quotes the answer, so it may quote a key.
PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def redact(message: str, *secrets: str) -> str:
    """`message` with every secret (an API key a server may echo) replaced: keys never reach output."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, REDACTED)
    return message


@contextmanager
def secrets_kept_out(secrets: tuple[str, ...], unreadable: Callable[[str], DocsearchError]) -> Iterator[None]:
    """The one door every error of a remote client leaves by: its text is scrubbed of `secrets`.

    Clients build many messages from what a server said (bodies, event payloads, headers
    quoted in exceptions); redacting each one where it is built misses the next one added.
    A `DocsearchError` keeps its type and is redacted in place; an exception from parsing an
    answer becomes `unreadable(its redacted text)`; any other exception is redacted in place,
    so that even a traceback cannot show a key.
    """
    try:
        yield
    except DocsearchError as exc:
        exc.message = redact(exc.message, *secrets)
        exc.args = (exc.message,)
        raise
    except PARSE_ERRORS as exc:
        detail = redact(f"{type(exc).__name__}: {exc}", *secrets)
        raise unreadable(_cut(detail)) from None
    except Exception as exc:
        exc.args = tuple(redact(a, *secrets) if isinstance(a, str) else a for a in exc.args)
        raise


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StreamRedactor:
    """Redacts a secret from text that arrives in pieces, where a key may straddle two pieces.

    A piece's tail that could be the start of the secret is held back until the next piece
    (or `flush`) shows whether it is; text that cannot be part of it goes out at once.
    """

    def __init__(self, *secrets: str) -> None:
        self.secrets = tuple(s for s in secrets if s)
        self._pending = ""

    def feed(self, text: str) -> str:
        if not self.secrets:
            return text
        buffer = redact(self._pending + text, *self.secrets)
        hold = max((_prefix_overlap(buffer, s) for s in self.secrets), default=0)
        self._pending = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold]

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


def _prefix_overlap(text: str, secret: str) -> int:
    """The length of the longest end of `text` that is a proper beginning of `secret`."""
    for n in range(min(len(text), len(secret) - 1), 0, -1):
        if text.endswith(secret[:n]):
            return n
    return 0
