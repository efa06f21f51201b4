"""Security faults (issue 12): keys echoed by servers, links out of the indexed folder,
non-regular files, terminal-unsafe output, a query that made the identifier scan quadratic.

Each test here failed on the code before its fix; the note in each says what happened then.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from docsearch.embed.voyage import VoyageEmbedder
from docsearch.errors import DocsearchError, StreamRedactor
from docsearch.llm.client import LLMClient, LLMError, parse_llm
from tests.conftest import run_docsearch
from tests.fake_llm import ECHO_FAULTS as LLM_ECHO_FAULTS
from tests.fake_llm import FakeLLM
from tests.fake_voyage import ECHO_FAULTS as VOYAGE_ECHO_FAULTS
from tests.fake_voyage import FakeVoyage, Fault, hashed_vectors

SECRET = "sk-echo-5f1c9a7e3b2d4c6a8e0f"


def leaks(text: str, secret: str = SECRET) -> bool:
    """Whether any 8 characters of the secret in a row appear: half a key is a leak too."""
    return any(secret[i : i + 8] in text for i in range(len(secret) - 7))


# --- 1. keys a server echoes --------------------------------------------------------------------


@pytest.fixture
def echo_llm():
    server = FakeLLM(respond=lambda system, user: "An answer [1].", api_key=SECRET).start()
    yield server
    server.stop()


def llm_client(server: FakeLLM, provider: str) -> LLMClient:
    base = server.endpoint if provider == "anthropic" else server.endpoint + "/v1"
    spec = parse_llm(f"{provider}:fake-model", base, SECRET, SECRET)
    return LLMClient(spec, timeout=5, max_retries=1, backoff_base=0.01)


def outcome(call) -> str:
    """What a caller gets to see: the answer's text, or the error's message."""
    try:
        return call()
    except LLMError as exc:
        return "error: " + exc.message


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize("fault", LLM_ECHO_FAULTS)
def test_llm_errors_never_carry_an_echoed_key(echo_llm, provider, fault):
    # Before: "echo-event" gave `the LLM stream failed: invalid credentials <key>`, "echo-cut"
    # half the key (cut at 200 characters before redaction), "echo-usage" a ValueError
    # traceback quoting the key, "echo-answer" the key in the answer's text.
    c = llm_client(echo_llm, provider)

    async def streamed() -> str:
        return "".join([t async for t in c.stream("sys", "question")])

    calls = {
        "complete": lambda: asyncio.run(c.complete("sys", "question")).text,
        "stream": lambda: asyncio.run(streamed()),
    }
    for name, call in calls.items():
        echo_llm.faults.clear()
        echo_llm.faults.extend([(fault, 0.0)] * 3)  # enough for every retry
        seen = outcome(call)
        assert not leaks(seen), (fault, name, seen)
        if fault == "echo-answer":
            assert seen.startswith("The key you sent is ") and "[redacted], it seems." in seen
        elif fault == "echo-usage":
            # Token counts that are not numbers are read as 0 (issue 12.8): the answer stands.
            assert seen == "An answer [1]."
        elif fault == "echo-event" and name == "complete":
            assert seen == "An answer [1]."  # only streams have error events
        else:
            assert seen.startswith("error: "), (fault, name, seen)


def test_stream_redactor_catches_a_key_split_across_pieces():
    r = StreamRedactor("sk-abcdef")
    pieces = ["key: s", "k-ab", "cde", "f, sk-x", " done"]
    out = "".join(r.feed(p) for p in pieces) + r.flush()
    assert out == "key: [redacted], sk-x done"
    assert r.feed("plain") == "plain"  # nothing that could start a key is held back


def test_ask_never_prints_a_key_the_llm_stream_echoes(echo_llm, corpus_index):
    # Before: `error: the LLM stream failed: invalid credentials <key>` on stderr, and the same
    # in --json as summary_error (the 3 of 98 fault runs).
    env = {
        "DOCSEARCH_LLM": "anthropic:fake",
        "DOCSEARCH_LLM_BASE_URL": echo_llm.endpoint,
        "ANTHROPIC_API_KEY": SECRET,
    }
    for extra in ((), ("--json",)):
        echo_llm.faults.append(("echo-event", 0.0))
        p = run_docsearch("ask", "exit codes", "--index", corpus_index, *extra, env=env)
        assert p.returncode == 6, p.stderr
        assert "the LLM stream failed: invalid credentials [redacted]" in p.stderr
        assert not leaks(p.stdout + p.stderr)
        if extra:
            assert "[redacted]" in json.loads(p.stdout)["summary_error"]


@pytest.fixture
def echo_voyage():
    server = FakeVoyage(embed=hashed_vectors, api_key=SECRET).start()
    yield server
    server.stop()


@pytest.mark.parametrize("fault", VOYAGE_ECHO_FAULTS)
def test_voyage_errors_never_carry_an_echoed_key(echo_voyage, fault):
    # Before: "echo-malformed" ended in a traceback quoting the key (int() of it).
    emb = VoyageEmbedder(
        "voyage-4-large", 256, SECRET, base_url=echo_voyage.base_url, max_retries=1, backoff_base=0.01
    )
    for call in (lambda: emb.embed_documents(["a text"]), lambda: emb.embed_query("a query")):
        echo_voyage.faults.clear()
        echo_voyage.faults.extend([Fault(fault)] * 4)
        with pytest.raises(DocsearchError) as err:
            call()
        assert err.value.exit_code == 6
        assert not leaks(err.value.message), (fault, err.value.message)
