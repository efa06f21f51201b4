"""Voyage API documents (through the real `voyageai` client, against a fake server) and
asymmetric search with a local query model of the same space."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from docsearch.embed.cache import EmbeddingCache
from docsearch.embed.models import BUILTIN
from docsearch.embed.voyage import VoyageEmbedder
from docsearch.embed.voyage_api import estimate_tokens, pack_requests
from docsearch.errors import ModelMismatchError, ServiceError
from docsearch.index.indexer import Indexer
from docsearch.search.searcher import Searcher
from tests.conftest import CORPUS, make_settings, run_docsearch
from tests.fake_voyage import TOKEN_LIMITS, FakeVoyage, Fault, count_tokens, fit_dimension, hashed_vectors

KEY = "test-voyage-key"


@pytest.fixture
def fake():
    """Protocol tests: vectors from a cheap hash, so that big batches cost nothing."""
    server = FakeVoyage(embed=hashed_vectors, api_key=KEY).start()
    yield server
    server.stop()


@pytest.fixture
def fake_model(embedder):
    """Search tests: vectors from the offline model, the space a stand-in nano shares."""
    server = FakeVoyage(embed=embedder.embed_documents, api_key=KEY).start()
    yield server
    server.stop()


def voyage(fake: FakeVoyage, tmp_path: Path, **kw: object) -> VoyageEmbedder:
    options: dict = {
        "base_url": fake.base_url,
        "cache": EmbeddingCache(tmp_path / "cache.sqlite"),
        "backoff_base": 0.01,
        "timeout": 5.0,
    }
    options.update(kw)
    return VoyageEmbedder("voyage-4-large", int(options.pop("dim", 256)), KEY, **options)


def voyage_settings(fake: FakeVoyage, tmp_path: Path, **kw: object):
    return make_settings(
        tmp_path / "idx",
        voyage_api_key=KEY,
        voyage_base_url=fake.base_url,
        voyage_dimension=256,
        cache_dir=tmp_path / "cache",
        **kw,
    )


def stand_in_nano(folder: Path) -> Path:
    """A local voyage-4-space model for tests: MiniLM's files declared as voyage-4-nano.

    The fake API makes its vectors with MiniLM too, so this pair shares a space exactly as
    the real voyage-4-large and voyage-4-nano do.
    """
    spec = BUILTIN["minilm-l6-v2"]()
    folder.mkdir(parents=True)
    (folder / "model.onnx").symlink_to(spec.model_path)
    (folder / "tokenizer.json").symlink_to(spec.tokenizer_path)
    meta = {"name": "voyage-4-nano", "space": "voyage-4", "dim": 384, "matryoshka_dims": [256]}
    (folder / "docsearch-model.json").write_text(json.dumps(meta))
    return folder


# --- packing -------------------------------------------------------------------------------


def test_pack_requests_respects_both_limits():
    batches = pack_requests([10] * 25, max_texts=10, max_tokens=1000)
    assert [len(b) for b in batches] == [10, 10, 5]
    batches = pack_requests([400, 400, 400, 100, 900], max_texts=1000, max_tokens=1000)
    assert batches == [[0, 1], [2, 3], [4]]
    # A single text over the budget still goes out alone (the API truncates it).
    assert pack_requests([5000, 1], max_texts=10, max_tokens=1000) == [[0], [1]]
    assert [i for b in pack_requests([3] * 7, 3, 100) for i in b] == list(range(7))


def test_token_estimate_is_above_the_servers_count():
    for text in ["short", "ü" * 1000, "x = foo(bar) + baz[0];\n" * 100, "word " * 3000]:
        assert estimate_tokens(text) >= count_tokens(text)


def test_requests_stay_within_api_limits(fake, tmp_path):
    # 2,400 short texts: the 1000-text limit decides; 300 long texts: the token budget does.
    short = [f"note {i}" for i in range(2400)]
    long = [f"{i} " + "lorem ipsum dolor sit amet " * 140 for i in range(300)]
    emb = voyage(fake, tmp_path, batch_size=1000, concurrency=2)
    vectors = emb.embed_documents(short + long)
    assert all(r.status == 200 for r in fake.log)
    assert max(len(r.texts) for r in fake.log) <= 1000
    assert max(sum(count_tokens(t) for t in r.texts) for r in fake.log) <= TOKEN_LIMITS["voyage-4-large"]
    assert sum(len(r.texts) for r in fake.log) == 2700
    assert {r.input_type for r in fake.log} == {"document"} and {r.dim for r in fake.log} == {256}
    # Order is kept across requests that finish out of order.
    expected = fit_dimension(hashed_vectors([short[5], long[-1]]), 256)
    np.testing.assert_allclose(vectors[[5, -1]], expected, atol=1e-5)
    assert emb.tokens_used == sum(count_tokens(t) for t in short + long)


def test_concurrency_is_bounded(fake, tmp_path):
    fake.delay = 0.15
    emb = voyage(fake, tmp_path, batch_size=2, concurrency=3)
    emb.embed_documents([f"text {i}" for i in range(24)])  # 12 requests
    assert len(fake.ok()) == 12
    assert fake.max_in_flight == 3


def test_retries_429_500_drops_and_timeouts(fake, tmp_path):
    fake.faults.extend([Fault("429", 0.4), Fault("500"), Fault("drop"), Fault("slow", 2.0), Fault("503")])
    emb = voyage(fake, tmp_path, timeout=0.8, concurrency=1, max_retries=6)
    vectors = emb.embed_documents(["the same text", "another text"])
    statuses = [r.status for r in fake.log]
    assert statuses[:3] == [429, 500, -1] and statuses[-1] == 200
    assert len(fake.log) == 6
    # Retry-After: 0.4 was honoured: the second attempt started at least 0.4 s after the 429.
    assert fake.log[1].started - fake.log[0].finished >= 0.38
    expected = fit_dimension(hashed_vectors(["the same text", "another text"]), 256)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_gives_up_with_a_clear_error(fake, tmp_path):
    fake.faults.extend([Fault("500")] * 10)
    emb = voyage(fake, tmp_path, max_retries=2)
    with pytest.raises(ServiceError) as err:
        emb.embed_documents(["x"])
    assert "failed after 3 attempts" in err.value.message and "HTTP 500" in err.value.message
    assert err.value.exit_code == 6


def test_bad_key_is_reported_without_the_key(fake, tmp_path):
    emb = VoyageEmbedder("voyage-4-large", 256, "sk-secret-123", base_url=fake.base_url, backoff_base=0.01)
    with pytest.raises(ServiceError) as err:
        emb.embed_documents(["x"])
    assert "rejected the API key" in err.value.message
    assert "sk-secret-123" not in err.value.message
    # The server did echo it (see the fake): the redaction is what kept it out.
    assert len(fake.log) == 1


def test_missing_key_names_the_fix(tmp_path):
    emb = VoyageEmbedder("voyage-4-large", 256, "", cache=None)
    with pytest.raises(Exception) as err:
        emb.embed_documents(["x"])
    assert "VOYAGE_API_KEY" in str(err.value)


def test_query_embedding_uses_the_cache(fake, tmp_path):
    emb = voyage(fake, tmp_path)
    a = emb.embed_query("how do I rebuild the index")
    b = emb.embed_query("how do I rebuild the index")
    assert np.array_equal(a, b) and len(fake.ok("query")) == 1
    # A new process (new embedder) finds it in the persistent cache.
    again = voyage(fake, tmp_path).embed_query("how do I rebuild the index")
    assert np.allclose(a, again) and len(fake.ok("query")) == 1


# --- indexing with Voyage --------------------------------------------------------------------


def test_reindex_never_pays_twice(fake, tmp_path, docs):
    settings = voyage_settings(fake, tmp_path)
    first = Indexer(settings).index(docs)
    assert first.embedded == first.fragments and first.cached == 0
    assert first.tokens == sum(count_tokens(t) for r in fake.ok() for t in r.texts)
    assert first.cost_usd == pytest.approx(first.tokens * 0.12 / 1e6)
    paid = fake.texts_embedded()
    # Delete the index entirely: the vectors come back from the embedding cache.
    shutil.rmtree(settings.index)
    second = Indexer(settings).index(docs)
    assert fake.texts_embedded() == paid
    assert second.cached == second.fragments and second.tokens == 0
    # Change one section: exactly one text goes to the API.
    page = docs / "cli.md"
    page.write_text(page.read_text().replace("## Exit codes", "## Exit codes\n\nOne more sentence."))
    third = Indexer(settings).index(docs)
    assert third.changed == 1 and fake.texts_embedded() == paid + 1


def test_index_records_the_model_and_space(fake, tmp_path, docs):
    settings = voyage_settings(fake, tmp_path)
    Indexer(settings).index(docs)
    from docsearch.store.tables import IndexReader

    meta = IndexReader(settings.index).meta
    assert (meta.document_model.name, meta.document_model.space, meta.document_model.dim) == (
        "voyage-4-large",
        "voyage-4",
        256,
    )
    bits = IndexReader(settings.index).load_binary()[1]
    assert bits.shape[1] == 256 // 8


def test_space_mismatch_is_refused(fake, tmp_path, docs, embedder):
    settings = voyage_settings(fake, tmp_path)
    Indexer(settings).index(docs)
    # No voyage-4 model installed locally: the automatic choice fails with the fix.
    with pytest.raises(ModelMismatchError) as err:
        Searcher(settings)
    assert "docsearch models pull voyage-4-nano" in err.value.message
    assert "--query-model voyage-4-lite" in err.value.message
    # Asking for a model of another space is refused, naming both models.
    with pytest.raises(ModelMismatchError) as err:
        Searcher(make_settings(settings.index, cache_dir=settings.cache_dir, query_model="minilm-l6-v2"))
    assert "minilm-l6-v2" in err.value.message and "voyage-4-large" in err.value.message
    # And an embedder handed in directly is checked the same way.
    with pytest.raises(ModelMismatchError):
        Searcher(settings, embedder=embedder)


def test_asymmetric_search_with_local_query_model(fake_model, tmp_path):
    from docsearch.embed.models import ModelStore, register_folder

    settings = voyage_settings(fake_model, tmp_path)
    Indexer(settings).index(CORPUS, source="corpus")
    register_folder(ModelStore(settings.cache_dir), stand_in_nano(tmp_path / "nano"))
    searcher = Searcher(settings)
    assert searcher.embedder.identity.name == "voyage-4-nano"
    assert searcher.embedder.identity.dim == 256
    before = len(fake_model.log)
    for query, expected in [
        ("which exit code means the index is missing", "cli.md"),
        ("where is the index stored on disk", "storage.md"),
    ]:
        refs = [h.fragment.path for h in searcher.search(query, top_k=3).hits]
        assert expected in refs, (query, refs)
    assert len(fake_model.log) == before  # queries never touched the API


def test_api_query_model(fake, tmp_path, docs):
    settings = voyage_settings(fake, tmp_path)
    Indexer(settings).index(docs)
    api = make_settings(
        settings.index,
        cache_dir=settings.cache_dir,
        voyage_api_key=KEY,
        voyage_base_url=fake.base_url,
        query_model="voyage-4-lite",
    )
    searcher = Searcher(api)
    hits = searcher.search("exit codes", top_k=3).hits
    assert hits and fake.ok("query")[-1].model == "voyage-4-lite"
    searcher.search("exit codes", top_k=3)
    assert len(fake.ok("query")) == 1


# --- the CLI, end to end ---------------------------------------------------------------------


def cli_env(fake: FakeVoyage, cache: Path, **extra: str) -> dict[str, str]:
    return {
        "VOYAGE_API_KEY": KEY,
        "DOCSEARCH_VOYAGE_BASE_URL": fake.base_url,
        "DOCSEARCH_VOYAGE_DIMENSION": "256",
        "DOCSEARCH_CACHE_DIR": str(cache),
        **extra,
    }


docsearch = run_docsearch


def test_cli_asymmetric_index_and_ask(fake_model, tmp_path):
    env = cli_env(fake_model, tmp_path / "cache")
    idx = tmp_path / "idx"
    p = docsearch("index", CORPUS, "--index", idx, "--json", env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["embedded"] == summary["fragments"] and summary["tokens"] > 0
    assert KEY not in p.stdout + p.stderr
    assert KEY not in "".join(f.read_text(errors="replace") for f in idx.glob("*.json"))

    p = docsearch("ask", "exit codes", "--index", idx, env=env)
    assert p.returncode == 5 and "docsearch models pull voyage-4-nano" in p.stderr
    status = json.loads(docsearch("status", "--index", idx, "--json", env=env).stdout)
    assert status["compatible"] is False and status["query_model"] is None
    assert "docsearch models pull voyage-4-nano" in status["problem"]
    p = docsearch("models", "add", stand_in_nano(tmp_path / "nano"), env=env)
    assert p.returncode == 0, p.stderr
    p = docsearch("ask", "which exit code means the index is missing", "--index", idx, "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert "cli.md" in [r["path"] for r in json.loads(p.stdout)["results"][:3]]
    status = json.loads(docsearch("status", "--index", idx, "--json", env=env).stdout)
    assert status["document_model"]["name"] == "voyage-4-large"
    assert status["query_model"]["name"] == "voyage-4-nano" and status["compatible"] is True


def test_cli_resumes_after_kill(fake, tmp_path):
    """SIGKILL mid-index: the batches that finished are kept; the next run embeds only the rest."""
    fake.delay = 0.25
    env = cli_env(fake, tmp_path / "cache", DOCSEARCH_VOYAGE_BATCH_SIZE="4", DOCSEARCH_VOYAGE_CONCURRENCY="1")
    idx = tmp_path / "idx"
    proc = subprocess.Popen(
        [sys.executable, "-m", "docsearch", "index", str(CORPUS), "--index", str(idx)],
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(fake.ok()) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = fake.texts_embedded()
    assert first >= 16 and not (idx / "meta.json").exists()

    fake.delay = 0.0
    p = docsearch("index", CORPUS, "--index", idx, "--json", env=env)
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    second = fake.texts_embedded() - first
    # At most the one request in flight at the kill is paid twice.
    assert summary["fragments"] <= first + second <= summary["fragments"] + 4
    assert summary["cached"] >= first - 4
    p = docsearch("status", "--index", idx, "--json", env=env)
    assert json.loads(p.stdout)["fragments"] == summary["fragments"]
