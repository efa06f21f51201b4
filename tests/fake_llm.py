"""A fake LLM server on 127.0.0.1 speaking both wire protocols docsearch uses:

- Anthropic Messages: `POST /v1/messages` (key in `x-api-key`), JSON or server-sent events
  (message_start, content_block_delta, message_delta, message_stop);
- OpenAI Chat Completions: `POST /v1/chat/completions` (key as a Bearer token), JSON or
  `data: {chunk}` events ending in `data: [DONE]`, usage in the last chunk.

Answers are deterministic: `respond(system, user)` decides the text. Faults are injected one
request at a time: 429 with Retry-After, 500, a slow stream, a malformed event, and the
`ECHO_FAULTS`, which each put the key the client sent back into the answer somewhere.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.local_server import QuietHandler, ServedFake, serve

# Each puts the key the client sent (the x-api-key, or "Bearer KEY") somewhere in its answer, as
# a careless proxy or server might: docsearch must redact it on every path.
ECHO_FAULTS = (
    "echo-400",  # a JSON error body quoting the key
    "echo-500",  # the same, on a retried status
    "echo-cut",  # a long non-JSON error body with the key at the point a short quote cuts it
    "echo-redirect",  # a redirect to a URL carrying the key, the URL repeated in the body
    "echo-header",  # 429 with the key in Retry-After and X-Request-Id
    "echo-event",  # a stream that starts, then sends an error event quoting the key
    "echo-usage",  # token counts replaced by the key (int() of it fails, quoting it)
    "echo-answer",  # the answer's own text holds the key, streamed 3 characters at a time
)


@dataclass
class LLMRequest:
    path: str
    body: dict
    headers: dict[str, str]
    status: int = 0

    @property
    def user(self) -> str:
        messages = self.body.get("messages", [])
        return next((m["content"] for m in messages if m.get("role") == "user"), "")

    @property
    def system(self) -> str:
        if "system" in self.body:
            return self.body["system"]
        messages = self.body.get("messages", [])
        return next((m["content"] for m in messages if m.get("role") == "system"), "")


@dataclass
class FakeLLM(ServedFake):
    respond: Callable[[str, str], str]
    api_key: str = "test-llm-key"  # "" accepts any request, like a local server
    # ("429"|"500"|"slow"|"malformed"|"echo-500"|"echo-event", seconds). The echo faults put
    # the credentials the client sent into an error (a 500 body, or an error event in the
    # middle of a stream), as a misbehaving proxy might: docsearch must redact them.
    faults: deque[tuple[str, float]] = field(default_factory=deque)
    log: list[LLMRequest] = field(default_factory=list)
    port: int = 0  # 0: any free port
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def ok(self) -> list[LLMRequest]:
        return [r for r in self.log if r.status == 200]

    def start(self) -> FakeLLM:
        fake = self

        class Handler(QuietHandler):
            def _json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                self.send(
                    status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
                )

            def _event(self, data: dict | str, name: str | None = None) -> None:
                raw = data if isinstance(data, str) else json.dumps(data)
                chunk = (f"event: {name}\n" if name else "") + f"data: {raw}\n\n"
                self.wfile.write(chunk.encode())
                self.wfile.flush()

            def _echo_status(self, kind: str, sent: str, request: LLMRequest) -> None:
                if kind in ("echo-400", "echo-500"):
                    request.status = 400 if kind == "echo-400" else 500
                    error = {"type": "invalid_request_error", "message": f"invalid credentials {sent}"}
                    return self._json(request.status, {"error": error})
                if kind == "echo-cut":
                    request.status = 502
                    page = f"<html><body>{'x' * 160} upstream refused {sent} and more</body></html>"
                    return self.send(502, page.encode(), {"Content-Type": "text/html"})
                if kind == "echo-redirect":
                    request.status = 307
                    where = f"{fake.endpoint}/login?api_key={sent}"
                    page = f"Moved to {where}".encode()
                    return self.send(307, page, {"Location": where, "Content-Type": "text/plain"})
                request.status = 429
                headers = {"Retry-After": sent, "X-Request-Id": sent}
                error = {"type": "rate_limit_error", "message": "slow down"}
                return self._json(429, {"error": error}, headers)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                request = LLMRequest(self.path, body, dict(self.headers))
                with fake._lock:
                    fake.log.append(request)
                    fault = fake.faults.popleft() if fake.faults else None
                anthropic = self.path == "/v1/messages"
                if self.path not in ("/v1/messages", "/v1/chat/completions"):
                    request.status = 404
                    return self._json(404, {"error": {"message": "not found"}})
                sent = self.headers.get("x-api-key") if anthropic else self.headers.get("Authorization", "")
                expected = fake.api_key if anthropic else f"Bearer {fake.api_key}"
                if fake.api_key and sent != expected:
                    request.status = 401
                    # Real services do not echo keys; this one does, to prove docsearch redacts them.
                    return self._json(
                        401, {"error": {"type": "authentication_error", "message": f"bad key {sent}"}}
                    )
                kind, seconds = fault or ("", 0.0)
                if kind in ("echo-400", "echo-500", "echo-cut", "echo-redirect", "echo-header"):
                    return self._echo_status(kind, sent, request)
                if kind == "429":
                    request.status = 429
                    return self._json(
                        429,
                        {"error": {"type": "rate_limit_error", "message": "slow down"}},
                        {"Retry-After": str(seconds)},
                    )
                if kind == "500":
                    request.status = 500
                    return self._json(500, {"error": {"type": "api_error", "message": "internal"}})
                if kind == "echo-500":
                    request.status = 500
                    echoed = {"type": "api_error", "message": f"upstream saw {sent}"}
                    return self._json(500, {"error": echoed})
                text = fake.respond(request.system, request.user)
                if kind == "echo-answer":
                    text = f"The key you sent is {sent}, it seems."
                usage_in: int | str = len(request.user.split())
                usage_out: int | str = len(text.split())
                if kind == "echo-usage":
                    usage_in = usage_out = sent
                request.status = 200
                if not body.get("stream"):
                    if anthropic:
                        return self._json(
                            200,
                            {
                                "id": "msg_fake",
                                "type": "message",
                                "role": "assistant",
                                "model": body["model"],
                                "content": [{"type": "text", "text": text}],
                                "stop_reason": "end_turn",
                                "usage": {"input_tokens": usage_in, "output_tokens": usage_out},
                            },
                        )
                    return self._json(
                        200,
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion",
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": text},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {
                                "prompt_tokens": usage_in,
                                "completion_tokens": usage_out,
                                "total_tokens": usage_in + usage_out,
                            },
                        },
                    )
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                pieces = [w + " " for w in text.split(" ")]
                pieces[-1] = pieces[-1][:-1]
                if kind == "echo-answer":
                    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
                if anthropic:
                    self._event(
                        {
                            "type": "message_start",
                            "message": {
                                "id": "msg_fake",
                                "type": "message",
                                "role": "assistant",
                                "model": body["model"],
                                "content": [],
                                "usage": {"input_tokens": usage_in, "output_tokens": 1},
                            },
                        },
                        "message_start",
                    )
                    self._event(
                        {
                            "type": "content_block_start",
                            "index": 0,
                            "content_block": {"type": "text", "text": ""},
                        },
                        "content_block_start",
                    )
                for i, piece in enumerate(pieces):
                    if kind == "slow":
                        time.sleep(seconds)
                    if kind == "echo-event" and i == 1:
                        message = {"type": "authentication_error", "message": f"invalid credentials {sent}"}
                        if anthropic:
                            self._event({"type": "error", "error": message}, "error")
                        else:
                            self._event({"error": message})
                        return None
                    if kind == "malformed" and i == 1:
                        self._event("{this is not json", "content_block_delta" if anthropic else None)
                    if kind == "echo-event" and i == 1:
                        failure = {"type": "overloaded_error", "message": f"invalid credentials {sent}"}
                        if anthropic:
                            self._event({"type": "error", "error": failure}, "error")
                        else:
                            self._event({"error": failure})
                        return None
                    if anthropic:
                        self._event(
                            {
                                "type": "content_block_delta",
                                "index": 0,
                                "delta": {"type": "text_delta", "text": piece},
                            },
                            "content_block_delta",
                        )
                    else:
                        self._event(
                            {
                                "id": "chatcmpl-fake",
                                "object": "chat.completion.chunk",
                                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                            }
                        )
                if anthropic:
                    self._event({"type": "content_block_stop", "index": 0}, "content_block_stop")
                    self._event(
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": "end_turn"},
                            "usage": {"output_tokens": usage_out},
                        },
                        "message_delta",
                    )
                    self._event({"type": "message_stop"}, "message_stop")
                else:
                    self._event(
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion.chunk",
                            "choices": [],
                            "usage": {
                                "prompt_tokens": usage_in,
                                "completion_tokens": usage_out,
                                "total_tokens": usage_in + usage_out,
                            },
                        }
                    )
                    self._event("[DONE]")
                return None

        self._server = serve(Handler, self.port)
        return self



def heuristic_respond(system: str, user: str) -> str:
    """Plausible deterministic answers for demos: questions built from a fragment's heading,
    and a summary that quotes the first sentences of the first two fragments, cited."""
    import re

    if "<fragment path=" in user:  # a question-generation request
        crumbs = re.search(r'breadcrumb="([^"]*)"', user)
        topic = (crumbs.group(1).split(" › ")[-1] if crumbs else "this") or "this"
        return json.dumps([f"What is {topic}?", f"How do I use {topic}?", f"Where is {topic} documented?"])
    bodies = re.findall(r'<fragment n="(\d+)"[^>]*>\n(.*?)\n</fragment>', user, re.DOTALL)
    if not bodies:
        return "I don't know."
    sentences = []
    for n, body in bodies[:2]:
        text = " ".join(line for line in body.splitlines() if line and not line.startswith(("|", "```", "#")))
        first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text.strip() else ""
        if first:
            sentences.append(f"{first} [{n}]")
    return " ".join(sentences) or "I don't know."


def main() -> None:
    """Run the fake on its own, an OpenAI-compatible and Anthropic endpoint for demos:

    python -m tests.fake_llm --port 8777
    export DOCSEARCH_LLM=openai:fake DOCSEARCH_LLM_BASE_URL=http://127.0.0.1:8777/v1
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, default=8777)
    parser.add_argument("--key", default="", help="require this key (default: none, like a local server)")
    args = parser.parse_args()
    fake = FakeLLM(respond=heuristic_respond, api_key=args.key, port=args.port).start()
    fake.run_until_interrupted(f"fake LLM at {fake.endpoint} (OpenAI: {fake.endpoint}/v1); Ctrl-C to stop")


if __name__ == "__main__":
    main()
