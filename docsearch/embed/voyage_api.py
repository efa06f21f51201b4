"""What docsearch knows of the Voyage API, apart from any one use of it: the embedding models
and their limits, how documents are packed into requests, whether the optional client is
installed, and which failures are retried and how they read (one line, the key redacted).
Shared by the embedder (voyage.py) and the reranker (voyage_rerank.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from docsearch.errors import PARSE_ERRORS, DocsearchError, ServiceError, SettingsError, redact
from docsearch.present import plural

VOYAGE_SPACE = "voyage-4"
VOYAGE_EXTRA = "pip install 'docsearch[voyage]'"
MAX_TEXTS_PER_REQUEST = 1000


@dataclass(frozen=True, slots=True)
class VoyageModel:
    name: str
    max_request_tokens: int  # the API's limit on the sum of tokens in one request
    usd_per_million_tokens: float
    space: str = VOYAGE_SPACE
    dimensions: tuple[int, ...] = (2048, 1024, 512, 256)
    default_dimension: int = 2048


# From Voyage's embeddings API reference and price list (2026).
VOYAGE_MODELS: dict[str, VoyageModel] = {
    "voyage-4-large": VoyageModel("voyage-4-large", 120_000, 0.12),
    "voyage-4": VoyageModel("voyage-4", 320_000, 0.06),
    "voyage-4-lite": VoyageModel("voyage-4-lite", 1_000_000, 0.02),
}


def estimate_tokens(text: str) -> int:
    """A deliberately high estimate of the API's token count for packing requests.

    Voyage's tokenizers are not available offline. Subword tokenizers average about four
    bytes of English per token and rarely fall below three even for code, so bytes/3 (+ the
    prompt the API prepends) stays above the real count; an over-full request is still
    caught and split in two (see `_embed_batch`).
    """
    return len(text.encode("utf-8", "surrogatepass")) // 3 + 16


def pack_requests(estimates: Sequence[int], max_texts: int, max_tokens: int) -> list[list[int]]:
    """Split positions 0..n-1 into consecutive requests within both limits."""
    batches: list[list[int]] = []
    current: list[int] = []
    tokens = 0
    for i, cost in enumerate(estimates):
        cost = min(cost, max_tokens)  # a single over-long text is truncated by the API
        if current and (len(current) >= max_texts or tokens + cost > max_tokens):
            batches.append(current)
            current, tokens = [], 0
        current.append(i)
        tokens += cost
    if current:
        batches.append(current)
    return batches


def require_client(what: str) -> None:
    """The `voyageai` client is an extra (`docsearch[voyage]`), so that the offline install
    stays light: a Voyage model asked for without it is one line naming the install, before
    any work is done. find_spec, not an import: the client takes a while to import."""
    import importlib.util
    import sys

    if "voyageai" in sys.modules:
        found = sys.modules["voyageai"] is not None
    else:
        try:
            found = importlib.util.find_spec("voyageai") is not None
        except (ImportError, ValueError):
            found = False
    if not found:
        raise SettingsError(
            f"{what} runs through the Voyage API client, which is not installed: {VOYAGE_EXTRA}"
        )


def is_retryable(exc: BaseException) -> bool:
    import aiohttp
    from voyageai import error

    if isinstance(
        exc,
        error.RateLimitError
        | error.ServiceUnavailableError
        | error.ServerError
        | error.Timeout
        | error.APIConnectionError
        | error.TryAgain
        | aiohttp.ClientError
        | asyncio.TimeoutError
        | ConnectionError,
    ):
        return True
    status = getattr(exc, "http_status", None)
    return isinstance(status, int) and status >= 500


def api_error(exc: BaseException, key: str, where: str, attempts: int) -> DocsearchError:
    """A failed Voyage call as one line, the key redacted from whatever the server said."""
    from voyageai import error

    status = getattr(exc, "http_status", None)
    detail = redact(str(getattr(exc, "user_message", None) or exc) or type(exc).__name__, key)
    if len(detail) > 300:  # voyageai quotes whole bodies and header lists for some statuses
        detail = detail[:299] + "…"
    if isinstance(exc, PARSE_ERRORS):
        # Raised inside the client while it read a malformed answer.
        return ServiceError(f"{where} sent an answer docsearch cannot read ({type(exc).__name__}: {detail})")
    if isinstance(exc, error.AuthenticationError):
        return ServiceError(f"{where} rejected the API key (HTTP 401): check VOYAGE_API_KEY")
    if is_retryable(exc):
        return ServiceError(
            f"{where} failed after {plural(attempts, 'attempt')} "
            f"({'HTTP ' + str(status) if status else type(exc).__name__}: {detail}); "
            "run the same command again to continue where it stopped"
        )
    code = f"HTTP {status}: " if status else ""
    return ServiceError(f"{where} refused the request ({code}{detail})")
