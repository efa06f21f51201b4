"""Backoff for remote calls (the Voyage API, LLM APIs), shared as a tenacity wait strategy."""

from __future__ import annotations

import random
from typing import Any


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a `Retry-After` header carried by the exception (`.headers`), if any."""
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; rare from APIs, fall back to backoff


class Backoff:
    """tenacity wait strategy: the server's Retry-After when it sends one, else exponential
    backoff with jitter (between half and all of base·2^attempt), capped."""

    def __init__(self, base: float, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap

    def delay(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        hinted = retry_after(exc) if exc else None
        if hinted is not None:
            return min(hinted, self.cap * 2)
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def __call__(self, state: Any) -> float:
        return self.delay(state.attempt_number, state.outcome.exception() if state.outcome else None)
