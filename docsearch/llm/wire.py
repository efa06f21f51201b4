"""The two wire protocols an `LLMClient` speaks: each provider's JSON (request body, headers,
the answer, the stream's events), and nothing of HTTP, retries or keys (client.py).

Anthropic Messages and OpenAI-compatible Chat Completions (which also covers Ollama, llama.cpp
server, vLLM and LM Studio). A new provider is one more `Wire` in `WIRES`. Servers are not
trusted to send what they should: a malformed answer is an `LLMError`, a malformed stream
event a `ValueError` (the client counts and skips it), a usage count that is not one is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from docsearch.errors import ServiceError


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


class LLMError(ServiceError):
    pass


def _tokens(value: Any) -> int:
    """A token count from a server's `usage`; 0 for anything that is not a count. Usage only
    prices a run: a server that sends "n/a" there should not lose the answer it came with."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Wire:
    default_base_url: ClassVar[str]
    path: ClassVar[str]

    def headers(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    def body(self, model: str, system: str, user: str, max_tokens: int, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, data: dict[str, Any]) -> tuple[str, Usage]:
        raise NotImplementedError

    def event(self, name: str, data: dict[str, Any], usage: Usage) -> str:
        """The text a stream event adds (often ""); updates `usage`; raises on an error event."""
        raise NotImplementedError

    def is_end(self, raw: str) -> bool:
        return False

    @staticmethod
    def error_message(data: Any) -> str:
        if isinstance(data, dict):
            err = data.get("error", data)
            if isinstance(err, dict):
                return str(err.get("message") or err.get("type") or err)
            return str(err)
        return str(data)


class AnthropicWire(Wire):
    """POST /v1/messages (Anthropic Messages API, version 2023-06-01)."""

    default_base_url = "https://api.anthropic.com"
    path = "/v1/messages"

    def headers(self, key: str) -> dict[str, str]:
        return {"x-api-key": key, "anthropic-version": "2023-06-01"}

    def body(self, model: str, system: str, user: str, max_tokens: int, stream: bool) -> dict[str, Any]:
        return {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "stream": stream,
        }

    def parse(self, data: dict[str, Any]) -> tuple[str, Usage]:
        content = data.get("content")
        if not isinstance(content, list):
            raise LLMError("the answer has no content list")
        if not all(isinstance(b, dict) for b in content):
            raise LLMError("the answer's content blocks are not objects")
        text = "".join(str(b.get("text", "")) for b in content if b.get("type") == "text")
        u = _dict(data.get("usage"))
        return text, Usage(_tokens(u.get("input_tokens")), _tokens(u.get("output_tokens")))

    def event(self, name: str, data: dict[str, Any], usage: Usage) -> str:
        kind = data.get("type", name)
        if kind == "message_start":
            u = _dict(_dict(data.get("message")).get("usage"))
            usage.input_tokens = _tokens(u.get("input_tokens"))
            usage.output_tokens = _tokens(u.get("output_tokens"))
        elif kind == "content_block_delta":
            delta = data.get("delta")
            if not isinstance(delta, dict):
                raise ValueError("the delta is not an object")  # counted as a malformed event
            if delta.get("type") == "text_delta":
                return str(delta.get("text", ""))
        elif kind == "message_delta":
            u = _dict(data.get("usage"))
            if "output_tokens" in u:
                usage.output_tokens = _tokens(u["output_tokens"])
        elif kind == "error":
            raise LLMError(f"the LLM stream failed: {self.error_message(data)}")
        return ""


class OpenAIWire(Wire):
    """POST {base}/chat/completions, where the base URL ends in /v1 (OpenAI and compatibles)."""

    default_base_url = "https://api.openai.com/v1"
    path = "/chat/completions"

    def headers(self, key: str) -> dict[str, str]:
        # Local servers (Ollama, llama.cpp) need no key; sending none is what they expect.
        return {"Authorization": f"Bearer {key}"} if key else {}

    def body(self, model: str, system: str, user: str, max_tokens: int, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def parse(self, data: dict[str, Any]) -> tuple[str, Usage]:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMError("the answer's choices are not a list of objects")
        text = str(_dict(choices[0].get("message")).get("content") or "")
        u = _dict(data.get("usage"))
        return text, Usage(_tokens(u.get("prompt_tokens")), _tokens(u.get("completion_tokens")))

    def event(self, name: str, data: dict[str, Any], usage: Usage) -> str:
        if "error" in data:
            raise LLMError(f"the LLM stream failed: {self.error_message(data)}")
        u = _dict(data.get("usage"))
        if u:
            usage.input_tokens = _tokens(u.get("prompt_tokens"))
            usage.output_tokens = _tokens(u.get("completion_tokens"))
        choices = data.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise ValueError("choices is not a list")  # counted as a malformed event
        if choices:
            if not isinstance(choices[0], dict):
                raise ValueError("choices[0] is not an object")  # counted as a malformed event
            return str(_dict(choices[0].get("delta")).get("content") or "")
        return ""

    def is_end(self, raw: str) -> bool:
        return raw.strip() == "[DONE]"


WIRES: dict[str, type[Wire]] = {"anthropic": AnthropicWire, "openai": OpenAIWire}
