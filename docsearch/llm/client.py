"""A small provider-neutral chat client over httpx: Anthropic Messages and OpenAI-compatible
Chat Completions (which also covers Ollama, llama.cpp server, vLLM and LM Studio).

One `LLMClient` does the HTTP, retries and streaming; a `Wire` (wire.py) describes one
provider's JSON (request body, headers, response and stream events). A new provider is one
more `Wire`.

Streaming uses server-sent events through httpx-sse. Requests that fail with 429, 5xx, a
timeout or a dropped connection are retried with backoff (honouring Retry-After); a stream is
retried only until its first token, so text is never shown twice. Keys live in the client:
they are never logged, and everything that leaves it (errors of every kind, and the answer's
own text, in case a server echoes the key into it) is scrubbed of them in `complete` and
`stream`, the client's only two doors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from docsearch.errors import SettingsError, StreamRedactor, redact, secrets_kept_out
from docsearch.llm.wire import WIRES, LLMError, Usage, Wire
from docsearch.present import plural
from docsearch.retry import Backoff
from docsearch.settings import check_api_key

if TYPE_CHECKING:
    from docsearch.settings import Settings

Provider = Literal["anthropic", "openai"]


@dataclass(frozen=True, slots=True)
class LLMSpec:
    provider: Provider
    model: str
    base_url: str
    api_key: str = field(default="", repr=False)

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(slots=True)
class Completion:
    text: str
    usage: Usage
    model: str


class LLMAuthError(LLMError):
    """The server refused the key (HTTP 401/403): every further request would be refused too."""


class _StatusError(Exception):
    """An HTTP error answer; carries the headers so that Backoff can read Retry-After."""

    def __init__(self, status: int, message: str, headers: httpx.Headers) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, _StatusError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, httpx.TransportError)


def parse_llm(value: str, base_url: str = "", anthropic_key: str = "", openai_key: str = "") -> LLMSpec:
    """`anthropic:MODEL` or `openai:MODEL` (settings `llm`) into a spec with its key."""
    provider, sep, model = value.partition(":")
    if not sep or provider not in WIRES or not model:
        raise SettingsError(f"llm must be anthropic:MODEL or openai:MODEL, got {value!r}")
    key = anthropic_key if provider == "anthropic" else openai_key
    if provider == "anthropic" and not key:
        raise SettingsError("llm anthropic:… needs ANTHROPIC_API_KEY in the environment")
    if provider == "openai" and not key and not base_url:
        raise SettingsError("llm openai:… needs OPENAI_API_KEY, or DOCSEARCH_LLM_BASE_URL for a local server")
    check_api_key("ANTHROPIC_API_KEY" if provider == "anthropic" else "OPENAI_API_KEY", key)
    return LLMSpec(provider, model, (base_url or WIRES[provider].default_base_url).rstrip("/"), key)  # type: ignore[arg-type]


class LLMClient:
    def __init__(
        self, spec: LLMSpec, *, timeout: float = 60.0, max_retries: int = 4, backoff_base: float = 0.5
    ) -> None:
        self.spec = spec
        self.wire = WIRES[spec.provider]()
        self.timeout = httpx.Timeout(timeout, connect=10.0)
        self.max_retries = max_retries
        self.backoff = Backoff(backoff_base)
        self.usage = Usage()  # everything this client has used
        self.malformed_events = 0  # stream events that were not JSON: skipped, counted

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def _url(self) -> str:
        return self.spec.base_url + self.wire.path

    def _guard(self) -> Any:
        """Around everything the client does: no error leaves it carrying the key."""
        where = self.spec.base_url

        def unreadable(detail: str) -> LLMError:
            return LLMError(f"{where} sent an answer docsearch cannot read ({detail})")

        return secrets_kept_out((self.spec.api_key,), unreadable)

    def _error(self, exc: BaseException, attempts: int) -> LLMError:
        """Every error leaves the client through here, redacted: a server may echo the key in
        an error body, an SSE error event or anything else it says."""
        where = self.spec.base_url
        if isinstance(exc, LLMError):
            return type(exc)(redact(str(exc), self.spec.api_key))
        if isinstance(exc, _StatusError):
            detail = str(exc)
            if exc.status in (401, 403):
                return LLMAuthError(f"{where} rejected the API key (HTTP {exc.status}): {detail}")
            tries = f" after {plural(attempts, 'attempt')}" if _retryable(exc) else ""
            return LLMError(f"{where} answered HTTP {exc.status}{tries}: {detail}")
        return LLMError(
            f"cannot reach the LLM at {where} after {plural(attempts, 'attempt')} ({type(exc).__name__})"
        )

    def _failed(self, exc: Exception) -> LLMError:
        # Not retried: a bad URL, a redirect loop, a body that does not decode.
        return LLMError(f"the request to {self.spec.base_url} failed ({type(exc).__name__}: {exc})")

    async def _status_error(self, response: httpx.Response) -> _StatusError:
        raw = (await response.aread()).decode("utf-8", "replace")
        try:
            message = Wire.error_message(json.loads(raw))
        except ValueError:
            message = raw
        # Redacted before it is cut: a cut through the key would leave its first half.
        message = redact(message, self.spec.api_key)
        return _StatusError(response.status_code, message[:200], response.headers)

    async def complete(self, system: str, user: str, max_tokens: int = 1024) -> Completion:
        with self._guard():
            done = await self._complete(system, user, max_tokens)
        return Completion(redact(done.text, self.spec.api_key), done.usage, done.model)

    async def stream(
        self, system: str, user: str, max_tokens: int = 1024, usage: Usage | None = None
    ) -> AsyncIterator[str]:
        """Yield the answer's text as it arrives; `usage` (if given) is filled in as events say."""
        redactor = StreamRedactor(self.spec.api_key)
        with self._guard():
            async for text in self._stream(system, user, max_tokens, usage):
                if out := redactor.feed(text):
                    yield out
        if rest := redactor.flush():
            yield rest

    async def _complete(self, system: str, user: str, max_tokens: int) -> Completion:
        body = self.wire.body(self.spec.model, system, user, max_tokens, stream=False)
        headers = self.wire.headers(self.spec.api_key)
        attempt = 0
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                attempt += 1
                try:
                    response = await client.post(self._url, json=body, headers=headers)
                    if response.status_code != 200:
                        raise await self._status_error(response)
                    try:
                        data = response.json()
                    except ValueError:
                        raise LLMError(f"{self.spec.base_url} did not answer valid JSON") from None
                    if not isinstance(data, dict):
                        raise LLMError(f"{self.spec.base_url} answered JSON that is not an object")
                    try:
                        text, usage = self.wire.parse(data)
                    except LLMError as exc:
                        raise LLMError(
                            f"{self.spec.base_url} sent an answer docsearch cannot read ({exc})"
                        ) from None
                    self.usage.add(usage)
                    return Completion(text, usage, self.spec.model)
                except LLMError as exc:
                    raise self._error(exc, attempt) from None
                except (_StatusError, httpx.TransportError) as exc:
                    if not _retryable(exc) or attempt > self.max_retries:
                        raise self._error(exc, attempt) from None
                    await asyncio.sleep(self.backoff.delay(attempt, exc))
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise self._failed(exc) from None

    async def _stream(
        self, system: str, user: str, max_tokens: int, usage: Usage | None
    ) -> AsyncIterator[str]:
        from httpx_sse import SSEError, aconnect_sse

        body = self.wire.body(self.spec.model, system, user, max_tokens, stream=True)
        headers = self.wire.headers(self.spec.api_key)
        usage = usage if usage is not None else Usage()
        attempt = 0
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while True:
                attempt += 1
                started = False
                malformed = self.malformed_events
                try:
                    async with aconnect_sse(client, "POST", self._url, json=body, headers=headers) as source:
                        if source.response.status_code != 200:
                            raise await self._status_error(source.response)
                        async for sse in source.aiter_sse():
                            if self.wire.is_end(sse.data) or not sse.data.strip():
                                continue
                            try:
                                data = json.loads(sse.data)
                            except ValueError:
                                self.malformed_events += 1  # one bad event should not lose the answer
                                continue
                            if not isinstance(data, dict):
                                self.malformed_events += 1
                                continue
                            try:
                                text = self.wire.event(sse.event, data, usage)
                            except ValueError:
                                self.malformed_events += 1
                                continue
                            if text:
                                started = True
                                yield text
                    self.usage.add(usage)
                    if not started and self.malformed_events > malformed:
                        # Nothing but unreadable events: an empty answer would hide that.
                        bad = self.malformed_events - malformed
                        raise LLMError(
                            f"{self.spec.base_url} sent {plural(bad, 'stream event')} docsearch cannot read "
                            "and no text"
                        )
                    return
                except SSEError:
                    raise LLMError(f"{self.spec.base_url} did not answer with an event stream") from None
                except LLMError as exc:  # an error event in the stream
                    raise self._error(exc, attempt) from None
                except (_StatusError, httpx.TransportError) as exc:
                    # Once text has been shown, a retry would show it twice: fail instead.
                    if started or not _retryable(exc) or attempt > self.max_retries:
                        raise self._error(exc, attempt) from None
                    await asyncio.sleep(self.backoff.delay(attempt, exc))
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise self._failed(exc) from None


def client_from_settings(settings: Settings) -> LLMClient | None:
    """The configured LLM, or None when `llm` is not set (everything works without one)."""
    if not settings.llm:
        return None
    spec = parse_llm(settings.llm, settings.llm_base_url, settings.anthropic_api_key, settings.openai_api_key)
    return LLMClient(spec, timeout=settings.llm_timeout, max_retries=settings.llm_max_retries)
