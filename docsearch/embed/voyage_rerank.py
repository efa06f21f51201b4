"""Reranking through the Voyage API (`POST /v1/rerank`) with the `voyageai` client.

Voyage's rerankers are cross-encoders served by the API: one request scores every passage
against the query. Used by search/rescore.py when `rerank = "voyage"` and VOYAGE_API_KEY is
set. Like every Voyage call here, the key stays in the client and any error text that might
echo it is redacted.
"""

from __future__ import annotations

from typing import Any

from docsearch.embed.voyage_api import api_error, is_retryable, require_client
from docsearch.errors import ServiceError, SettingsError, secrets_kept_out
from docsearch.retry import Backoff
from docsearch.settings import check_api_key

# From Voyage's reranker documentation (2026): context length per (query + document) pair.
VOYAGE_RERANKERS = {"rerank-2.5": 32_000, "rerank-2.5-lite": 32_000}
DEFAULT_VOYAGE_RERANKER = "rerank-2.5-lite"


class VoyageReranker:
    def __init__(
        self,
        model: str,
        api_key: str,
        *,
        base_url: str = "",
        max_retries: int = 2,
        timeout: float = 30.0,
        backoff_base: float = 0.5,
    ) -> None:
        if model not in VOYAGE_RERANKERS:
            known = ", ".join(VOYAGE_RERANKERS)
            raise SettingsError(f"unknown Voyage reranker {model!r}: use one of {known}")
        if not api_key:
            raise SettingsError("rerank = voyage runs through the Voyage API: set VOYAGE_API_KEY")
        require_client(f"the reranker {model}")
        check_api_key("VOYAGE_API_KEY", api_key)
        self.name = model
        self._key = api_key
        self._base_url = base_url or None
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.tokens_used = 0
        self._client: Any = None

    def score(self, query: str, passages: list[str]) -> list[float]:
        """The API's relevance score for each passage, in the order given."""
        if not passages:
            return []
        where = self._base_url or "the Voyage API"

        def unreadable(detail: str) -> ServiceError:
            return ServiceError(f"{where} sent an answer docsearch cannot read ({detail})")

        # The same one door as the embedder's: whatever the server said, the key is scrubbed.
        with secrets_kept_out((self._key,), unreadable):
            return self._score(query, passages)

    def _score(self, query: str, passages: list[str]) -> list[float]:
        import voyageai
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        if self._client is None:
            self._client = voyageai.Client(
                api_key=self._key, max_retries=0, timeout=self.timeout, base_url=self._base_url
            )
        try:
            for attempt in Retrying(
                reraise=True,
                stop=stop_after_attempt(self.max_retries + 1),
                wait=Backoff(self.backoff_base, cap=2.0),
                retry=retry_if_exception(is_retryable),
            ):
                with attempt:
                    result = self._client.rerank(query, passages, model=self.name, truncation=True)
        except Exception as exc:
            where = self._base_url or "the Voyage API"
            raise api_error(exc, self._key, where, self.max_retries + 1) from None
        scores = [float("-inf")] * len(passages)
        try:
            for item in result.results:
                scores[int(item.index)] = float(item.relevance_score)
            self.tokens_used += int(result.total_tokens)
        except (AttributeError, IndexError, TypeError, ValueError):
            raise ServiceError("the Voyage API answered the rerank request with malformed results") from None
        return scores
