"""Embedding through the Voyage API with the `voyageai` client (voyage_api.py: the models,
the request limits, and what a failed call says).

Documents go out in requests packed up to the API's limits (1000 texts, and a per-model token
budget), a bounded number in flight at once. Rate limits (429), server errors, timeouts and
dropped connections are retried with exponential backoff and jitter, honouring `Retry-After`.
Every finished request is written to the embedding cache before the next one is awaited, so
an interrupted run loses at most the requests that were in flight.

The API key lives in the client only: it is never logged, stored or put in a message. Every
call to the API goes through `_guard`, the one door errors leave by, which scrubs the key from
whatever a server said (bodies, headers quoted in exceptions, a malformed answer).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from docsearch.embed.base import EmbedProgress, ModelIdentity, normalize
from docsearch.embed.cache import EmbeddingCache, cache_key
from docsearch.embed.voyage_api import (
    MAX_TEXTS_PER_REQUEST,
    VOYAGE_MODELS,
    VOYAGE_SPACE,
    api_error,
    estimate_tokens,
    is_retryable,
    pack_requests,
    require_client,
)
from docsearch.errors import DocsearchError, ServiceError, SettingsError, secrets_kept_out
from docsearch.present import plural
from docsearch.retry import Backoff
from docsearch.settings import check_api_key

# The model table is read from here by embed/models.py, as before voyage_api.py held it.
__all__ = ["VOYAGE_MODELS", "VOYAGE_SPACE", "VoyageEmbedder"]


class VoyageEmbedder:
    """An `Embedder` backed by the Voyage API (documents and/or queries)."""

    def __init__(
        self,
        model: str,
        dim: int,
        api_key: str,
        *,
        base_url: str = "",
        cache: EmbeddingCache | None = None,
        batch_size: int = 128,
        concurrency: int = 4,
        max_retries: int = 6,
        timeout: float = 60.0,
        backoff_base: float = 0.5,
    ) -> None:
        if model not in VOYAGE_MODELS:
            raise SettingsError(f"unknown Voyage model {model!r}: use one of {', '.join(VOYAGE_MODELS)}")
        info = VOYAGE_MODELS[model]
        if dim not in info.dimensions:
            raise SettingsError(f"{model} supports dimensions {info.dimensions}, not {dim}")
        require_client(model)
        self.info = info
        self._identity = ModelIdentity(model, info.space, dim)
        self._key = api_key
        self._base_url = base_url or None
        self.cache = cache
        self.batch_size = min(batch_size, MAX_TEXTS_PER_REQUEST)
        self.concurrency = max(1, concurrency)
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.tokens_used = 0  # as reported by the API (usage.total_tokens)
        self.requests_made = 0
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sync_client: Any = None

    @property
    def identity(self) -> ModelIdentity:
        return self._identity

    @property
    def fingerprint(self) -> str:
        # A hosted model has no file to hash: its name and dimension are what we can pin.
        return f"voyage-api:{self._identity.name}:{self._identity.dim}"

    def _require_key(self) -> None:
        # Checked when a request is about to go out, not before: re-indexing unchanged text,
        # or text already in the embedding cache, needs no key.
        if not self._key:
            raise SettingsError(
                f"{self._identity.name} runs through the Voyage API: set VOYAGE_API_KEY "
                "(or use a local model, e.g. --doc-model minilm-l6-v2)"
            )
        check_api_key("VOYAGE_API_KEY", self._key)

    def cost_usd(self, tokens: int) -> float:
        return tokens * self.info.usd_per_million_tokens / 1e6

    # --- documents -------------------------------------------------------------------------

    def embed_documents(
        self, texts: list[str], progress: Callable[[EmbedProgress], None] | None = None
    ) -> np.ndarray:
        dim = self._identity.dim
        out = np.empty((len(texts), dim), dtype=np.float32)
        keys = [cache_key(self._identity.name, "document", dim, t) for t in texts]
        missing = self.cache.fill(keys, out) if self.cache is not None else list(range(len(texts)))
        done = len(texts) - len(missing)
        if progress and done:
            progress(EmbedProgress(texts=done, tokens=0, cached=done))
        if missing:
            with self._guard():
                asyncio.run(self._embed_missing(texts, keys, missing, out, progress))
        return out

    def _guard(self) -> Any:
        where = self._base_url or "the Voyage API"

        def unreadable(detail: str) -> ServiceError:
            return ServiceError(f"{where} sent an answer docsearch cannot read ({detail})")

        return secrets_kept_out((self._key,), unreadable)

    async def _embed_missing(
        self,
        texts: list[str],
        keys: list[bytes],
        missing: list[int],
        out: np.ndarray,
        progress: Callable[[EmbedProgress], None] | None,
    ) -> None:
        import voyageai

        self._require_key()
        client = voyageai.AsyncClient(
            api_key=self._key, max_retries=0, timeout=self.timeout, base_url=self._base_url
        )
        estimates = [estimate_tokens(texts[i]) for i in missing]
        batches = [
            [missing[j] for j in batch]
            for batch in pack_requests(estimates, self.batch_size, self.info.max_request_tokens)
        ]
        gate = asyncio.Semaphore(self.concurrency)

        async def run(batch: list[int]) -> tuple[list[int], np.ndarray, int]:
            async with gate:
                vectors, tokens = await self._embed_batch(client, [texts[i] for i in batch])
                return batch, vectors, tokens

        tasks = [asyncio.ensure_future(run(b)) for b in batches]
        try:
            for finished in asyncio.as_completed(tasks):
                batch, vectors, tokens = await finished
                out[batch] = vectors
                if self.cache is not None:
                    # Persist before anything else: a kill after this line loses nothing paid for.
                    self.cache.put_many(
                        self._identity.name,
                        self._identity.dim,
                        zip((keys[i] for i in batch), vectors, strict=True),
                    )
                if progress:
                    progress(EmbedProgress(texts=len(batch), tokens=tokens))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _embed_batch(self, client: Any, texts: list[str]) -> tuple[np.ndarray, int]:
        """One request, retried; split in two if the API says it holds too many tokens."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt
        from voyageai import error

        try:
            async for attempt in AsyncRetrying(
                reraise=True,
                stop=stop_after_attempt(self.max_retries + 1),
                wait=Backoff(self.backoff_base),
                retry=retry_if_exception(is_retryable),
            ):
                with attempt:
                    result = await client.embed(
                        texts,
                        model=self._identity.name,
                        input_type="document",
                        output_dimension=self._identity.dim,
                        truncation=True,
                    )
        except error.InvalidRequestError as exc:
            if len(texts) > 1 and "token" in str(exc).lower():
                half = len(texts) // 2
                first, t1 = await self._embed_batch(client, texts[:half])
                second, t2 = await self._embed_batch(client, texts[half:])
                return np.concatenate([first, second]), t1 + t2
            raise self._error(exc) from None
        except DocsearchError:
            raise
        except Exception as exc:
            raise self._error(exc) from None
        self.requests_made += 1
        return self._vectors(result, len(texts)), int(result.total_tokens)

    def _vectors(self, result: Any, n: int) -> np.ndarray:
        vectors = self._checked(result.embeddings, n)
        if vectors.shape != (n, self._identity.dim):
            raise ServiceError(
                f"the Voyage API returned vectors of shape {vectors.shape}, "
                f"expected ({n}, {self._identity.dim})"
            )
        self.tokens_used += int(result.total_tokens)
        # The API returns unit vectors; normalizing again costs nothing and guards the
        # dot-product-equals-cosine assumption the rerank relies on.
        return normalize(vectors)

    def _checked(self, embeddings: Any, n: int) -> np.ndarray:
        """The answer's vectors as float32 [n, dim], or a ServiceError that says what is wrong
        with them: too few, rows of different lengths (ragged), values that are not numbers.
        One numpy conversion decides (a per-value Python check cost 277 ms per 128 × 2048
        batch); only a rejected answer is looked at row by row, for the message."""
        dim = self._identity.dim
        if not isinstance(embeddings, list) or len(embeddings) != n:
            got = type(embeddings).__name__
            if isinstance(embeddings, list):
                got = plural(len(embeddings), "vector")
            raise ServiceError(f"the Voyage API returned {got} for {plural(n, 'text')}")
        try:
            vectors = np.asarray(embeddings)  # no dtype: strings stay strings, None makes objects
        except ValueError:
            vectors = None  # ragged rows
        if vectors is None or vectors.shape != (n, dim):
            for row, vector in enumerate(embeddings):
                if not isinstance(vector, list) or len(vector) != dim:
                    size = f"{len(vector)} values" if isinstance(vector, list) else type(vector).__name__
                    raise ServiceError(
                        f"the Voyage API returned a vector of {size} (row {row}), expected {dim}"
                    )
            raise ServiceError(f"the Voyage API returned vectors that are not {n} × {dim} numbers")
        if vectors.dtype.kind not in "fiu":
            raise ServiceError("the Voyage API returned vectors holding values that are not numbers")
        vectors = vectors.astype(np.float32)
        if not np.isfinite(vectors).all():
            raise ServiceError("the Voyage API returned a vector holding NaN or infinite values")
        return vectors

    def _error(self, exc: BaseException) -> DocsearchError:
        return api_error(exc, self._key, self._base_url or "the Voyage API", self.max_retries + 1)

    # --- queries ---------------------------------------------------------------------------

    def embed_query(self, text: str) -> np.ndarray:
        hit = self._queries.get(text)
        if hit is not None:
            self._queries.move_to_end(text)
            return hit
        dim = self._identity.dim
        key = cache_key(self._identity.name, "query", dim, text)
        stored = self.cache.get_many([key], dim).get(key) if self.cache is not None else None
        if stored is not None and len(stored) == dim:
            vector = stored
        else:
            with self._guard():
                vector = self._query_api(text)
            if self.cache is not None:
                self.cache.put_many(self._identity.name, dim, [(key, vector)])
        self._queries[text] = vector
        if len(self._queries) > 512:
            self._queries.popitem(last=False)
        return vector

    def _query_api(self, text: str) -> np.ndarray:
        import voyageai
        from tenacity import Retrying, retry_if_exception, stop_after_attempt

        self._require_key()
        if self._sync_client is None:
            self._sync_client = voyageai.Client(
                api_key=self._key, max_retries=0, timeout=self.timeout, base_url=self._base_url
            )
        # A query is interactive: retry less and for less long than a bulk index run.
        retries = min(self.max_retries, 2)
        try:
            for attempt in Retrying(
                reraise=True,
                stop=stop_after_attempt(retries + 1),
                wait=Backoff(self.backoff_base, cap=2.0),
                retry=retry_if_exception(is_retryable),
            ):
                with attempt:
                    result = self._sync_client.embed(
                        [text],
                        model=self._identity.name,
                        input_type="query",
                        output_dimension=self._identity.dim,
                    )
        except Exception as exc:
            raise self._error(exc) from None
        self.requests_made += 1
        return self._vectors(result, 1)[0]
