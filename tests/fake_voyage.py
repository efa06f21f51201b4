"""A fake Voyage API on 127.0.0.1 that speaks the real wire protocol of `POST /v1/embeddings`.

Request:  {"input": [...], "model": "...", "input_type": "document"|"query"|null,
           "truncation": true, "output_dimension": 2048|1024|512|256|null, "output_dtype": ...}
Response: {"object": "list", "data": [{"object": "embedding", "embedding": [...], "index": i}],
           "model": "...", "usage": {"total_tokens": N}}
Errors:   {"detail": "..."} with the API's status codes (400, 401, 429 + Retry-After, 5xx).

And of `POST /v1/rerank`:
Request:  {"query": "...", "documents": [...], "model": "rerank-2.5"|"rerank-2.5-lite",
           "top_k": N|null, "truncation": true}
Response: {"object": "list", "data": [{"index": i, "relevance_score": s}] (best first),
           "model": "...", "usage": {"total_tokens": N}}
Its relevance score is the share of the query's words found in the document (`overlap`).

It enforces the real limits (1000 texts, the per-model token budget) and can inject faults
one request at a time: 429 with Retry-After, 500, a slow answer, a dropped connection, the
ECHO_FAULTS that quote the key, and MALFORMED_FAULTS (ragged or string vectors).

Its vectors come from the offline local model, truncated (and re-normalized) or zero-padded to
the requested dimension. So "documents from the API" and "queries from a local model of the
same space" really do share a space here, as voyage-4-large and voyage-4-nano do for real.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

import numpy as np

from tests.local_server import QuietHandler, ServedFake, serve

TOKEN_LIMITS = {"voyage-4-large": 120_000, "voyage-4": 320_000, "voyage-4-lite": 1_000_000}
DIMENSIONS = (256, 512, 1024, 2048)
RERANKERS = ("rerank-2.5", "rerank-2.5-lite")


def overlap(query: str, document: str) -> float:
    """The fake reranker's relevance: the share of the query's words found in the document."""
    words = set(query.lower().split())
    return len(words & set(document.lower().split())) / max(1, len(words))


def count_tokens(text: str) -> int:
    """The fake's tokenizer: about four bytes a token, like real subword tokenizers on English."""
    return max(1, len(text.encode()) // 4)


def hashed_vectors(texts: list[str], dim: int = 384) -> np.ndarray:
    """A cheap deterministic stand-in model for tests about the protocol, not the ranking."""
    import hashlib

    out = np.empty((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        out[i] = np.random.default_rng(seed).standard_normal(dim)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def fit_dimension(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Matryoshka-style: keep the first `dim` components and re-normalize, or pad with zeros."""
    if vectors.shape[1] >= dim:
        cut = vectors[:, :dim]
        return cut / np.linalg.norm(cut, axis=1, keepdims=True)
    return np.pad(vectors, ((0, 0), (0, dim - vectors.shape[1])))


# Each puts the key the client sent ("Bearer KEY") back into the answer, as a careless proxy
# might; docsearch must redact it on every path.
ECHO_FAULTS = (
    "echo-400",  # an error body quoting the key
    "echo-500",  # the same on a retried status, until the retries run out
    "echo-header",  # 429 with the key in the request-id header (voyageai quotes that one)
    "echo-redirect",  # a redirect to a URL carrying the key, whose 404 quotes the URL
    "echo-malformed",  # a 200 whose vectors and token count are the key
)
# A 200 whose answer is wrong in shape: docsearch must say so in one line, never store it.
MALFORMED_FAULTS = (
    "ragged",  # the last vector is one value short
    "string-vectors",  # every vector is a string ("[0.1, 0.2, …]") instead of numbers
    "string-values",  # the numbers are strings ("0.1")
    "short-count",  # one vector fewer than texts
)


@dataclass
class Fault:
    kind: str  # "429", "500", "503", "slow", "drop", or one of ECHO_FAULTS
    seconds: float = 0.0  # Retry-After for 429, delay for "slow"


@dataclass
class Logged:
    model: str
    input_type: str | None
    texts: list[str]
    dim: int | None
    status: int
    started: float
    finished: float = 0.0
    query: str | None = None  # rerank requests


@dataclass
class FakeVoyage(ServedFake):
    embed: Callable[[list[str]], np.ndarray]
    api_key: str = "test-voyage-key"
    delay: float = 0.0  # added to every request
    faults: deque[Fault] = field(default_factory=deque)
    log: list[Logged] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0  # 0: any free port
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return self.endpoint + "/v1"

    def ok(self, input_type: str | None = None) -> list[Logged]:
        """Requests answered 200, optionally of one input type."""
        return [r for r in self.log if r.status == 200 and (input_type is None or r.input_type == input_type)]

    def texts_embedded(self) -> int:
        return sum(len(r.texts) for r in self.ok())

    def start(self) -> FakeVoyage:
        fake = self

        class Handler(QuietHandler):
            counted = False

            def _leave(self) -> None:
                # Leave the in-flight count *before* the answer goes out: once the client has
                # it, its next request may arrive before this thread runs another line.
                with fake._lock:
                    if self.counted:
                        fake._in_flight -= 1
                        self.counted = False

            def _reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                json_type = {"Content-Type": "application/json"}
                self._leave()
                self.send(status, json.dumps(body).encode(), json_type | (headers or {}))

            def _echo(self, kind: str, sent: str, reply: Callable[..., None]) -> None:
                if kind in ("echo-400", "echo-500"):
                    return reply(int(kind[-3:]), {"detail": f"Provided API key {sent} cannot do that"})
                if kind == "echo-header":
                    return reply(429, {"detail": "Rate limit exceeded"}, {"request-id": sent})
                if kind == "echo-redirect":
                    where = f"/v1/login?api_key={sent.replace(' ', '+')}"
                    return reply(307, {"detail": f"Moved to {where}"}, {"Location": where})
                data = [{"object": "embedding", "embedding": sent, "index": 0}]
                return reply(200, {"object": "list", "data": data, "usage": {"total_tokens": sent}})

            def do_POST(self) -> None:
                with fake._lock:
                    fake._in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake._in_flight)
                    self.counted = True
                try:
                    self._handle()
                finally:
                    self._leave()

            def _handle(self) -> None:
                started = time.monotonic()
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                rerank = self.path == "/v1/rerank"
                entry = Logged(
                    model=body.get("model", ""),
                    input_type=body.get("input_type"),
                    texts=list(body.get("documents" if rerank else "input") or []),
                    dim=body.get("output_dimension"),
                    status=0,
                    started=started,
                    query=body.get("query") if rerank else None,
                )
                with fake._lock:
                    fake.log.append(entry)
                    fault = fake.faults.popleft() if fake.faults else None
                if fake.delay:
                    time.sleep(fake.delay)

                def reply(status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                    entry.status = status
                    entry.finished = time.monotonic()
                    self._reply(status, payload, headers)

                if self.path not in ("/v1/embeddings", "/v1/rerank"):
                    return reply(404, {"detail": f"Not Found: {self.path}"})
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    # The real API does not echo keys; this one does, to prove we redact them.
                    sent = self.headers.get("Authorization", "")
                    return reply(401, {"detail": f"Provided API key is invalid: {sent}"})
                sent = self.headers.get("Authorization", "")
                if fault is not None and fault.kind in ECHO_FAULTS:
                    return self._echo(fault.kind, sent, reply)
                if fault is not None:
                    if fault.kind == "429":
                        retry_after = {"Retry-After": str(fault.seconds)}
                        return reply(429, {"detail": "Rate limit exceeded"}, retry_after)
                    if fault.kind in ("500", "503"):
                        return reply(int(fault.kind), {"detail": "Internal server error"})
                    if fault.kind == "drop":
                        entry.status = -1
                        self.close_connection = True
                        return None  # no response at all: the client sees the connection drop
                    if fault.kind == "slow":
                        time.sleep(fault.seconds)
                model = entry.model
                if rerank:
                    if model not in RERANKERS:
                        return reply(400, {"detail": f"Model {model} is not supported."})
                    if not isinstance(entry.query, str) or not entry.texts or len(entry.texts) > 1000:
                        return reply(400, {"detail": "query and 1 to 1000 documents are required."})
                    scored = sorted(
                        ((overlap(entry.query, d), i) for i, d in enumerate(entry.texts)), key=lambda x: -x[0]
                    )
                    top_k = body.get("top_k") or len(scored)
                    tokens = count_tokens(entry.query) * len(entry.texts) + sum(
                        map(count_tokens, entry.texts)
                    )
                    return reply(
                        200,
                        {
                            "object": "list",
                            "data": [{"index": i, "relevance_score": score} for score, i in scored[:top_k]],
                            "model": model,
                            "usage": {"total_tokens": tokens},
                        },
                    )
                if model not in TOKEN_LIMITS:
                    return reply(400, {"detail": f"Model {model} is not supported."})
                texts = entry.texts
                if not texts or len(texts) > 1000:
                    return reply(400, {"detail": "The batch size limit is 1000."})
                tokens = sum(count_tokens(t) for t in texts)
                if tokens > TOKEN_LIMITS[model]:
                    return reply(
                        400,
                        {
                            "detail": f"Request to model '{model}' failed. The max allowed tokens per "
                            f"submitted batch is {TOKEN_LIMITS[model]}. Your batch has {tokens} tokens "
                            "after truncation. Please lower the number of tokens in the batch."
                        },
                    )
                dim = entry.dim or 1024
                if dim not in DIMENSIONS:
                    return reply(400, {"detail": f"output_dimension {dim} is not supported."})
                vectors = fit_dimension(np.asarray(fake.embed(texts), dtype=np.float32), dim)
                rows: list = [v.tolist() for v in vectors]
                kind = fault.kind if fault is not None else ""
                if kind == "ragged":
                    rows[-1] = rows[-1][:-1]
                elif kind == "string-vectors":
                    rows = [json.dumps(r) for r in rows]
                elif kind == "string-values":
                    rows = [[str(x) for x in r] for r in rows]
                elif kind == "short-count":
                    rows = rows[:-1]
                reply(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"object": "embedding", "embedding": r, "index": i} for i, r in enumerate(rows)
                        ],
                        "model": model,
                        "usage": {"total_tokens": tokens},
                    },
                )
                return None

        self._server = serve(Handler, self.port)
        return self


def main() -> None:
    """Run the fake on its own, for demos and manual checks:

    python -m tests.fake_voyage --port 8765 --delay 0.05
    export VOYAGE_API_KEY=test-voyage-key DOCSEARCH_VOYAGE_BASE_URL=http://127.0.0.1:8765/v1
    docsearch index corpus
    """
    import argparse

    from docsearch.embed.models import load_embedder

    parser = argparse.ArgumentParser(description=main.__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--key", default="test-voyage-key")
    args = parser.parse_args()
    model = load_embedder("minilm-l6-v2")
    fake = FakeVoyage(embed=model.embed_documents, api_key=args.key, delay=args.delay, port=args.port).start()
    fake.run_until_interrupted(f"fake Voyage API at {fake.base_url} (key {args.key!r}); Ctrl-C to stop")


if __name__ == "__main__":
    main()
