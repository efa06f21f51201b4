"""The optional cross-encoder stage (search/rescore.py): a local ONNX cross-encoder installed
with `docsearch models pull` from a fake Hub, and the Voyage rerank API through the real
`voyageai` client against the fake Voyage server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docsearch.index.indexer import Indexer
from tests import tiny_cross_encoder
from tests.conftest import make_settings, run_docsearch
from tests.fake_hub import FakeHub
from tests.fake_hub import HubFile as ServedFile
from tests.fake_voyage import FakeVoyage, hashed_vectors, overlap

KEY = "test-voyage-key-rerank"
REPO = "cross-encoder/ms-marco-MiniLM-L6-v2"
PAGE = """# File system

## fs.stat(path)

Returns information about a path: its size, its modification time, whether it is a
directory or a file.

## fs.readdir(path)

Reads the contents of a directory and returns the names of the entries in it.

## Files and directories in general

Paths name files and directories; a directory holds files and other directories.
"""


@pytest.fixture
def docs_index(tmp_path: Path, embedder) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "fs.md").write_text(PAGE, encoding="utf-8")
    index = tmp_path / "idx"
    Indexer(make_settings(index), embedder=embedder).index(folder, source="docs")
    return index


@pytest.fixture
def hub(tmp_path: Path):
    model, tokenizer = tiny_cross_encoder.model_bytes(tmp_path / "built")
    served = FakeHub(
        [
            ServedFile(REPO, "onnx/model.onnx", model, True),
            ServedFile(REPO, "tokenizer.json", tokenizer, False),
        ]
    ).start()
    yield served
    served.stop()


def ask(index: Path, cache: Path, *args: str, env: dict[str, str] | None = None):
    return run_docsearch(
        "ask", "list files in a directory", "--index", index, "--json", *args,
        env={"DOCSEARCH_CACHE_DIR": str(cache), **(env or {})},
    )  # fmt: skip


def test_local_cross_encoder_pulled_then_reorders_ask(docs_index, hub, tmp_path):
    cache = tmp_path / "cache"
    p = run_docsearch(
        "models",
        "pull",
        "ms-marco-minilm-l6",
        env={"HF_ENDPOINT": hub.endpoint, "DOCSEARCH_CACHE_DIR": str(cache)},
    )
    assert p.returncode == 0, p.stderr
    listed = json.loads(
        run_docsearch("models", "list", "--json", env={"DOCSEARCH_CACHE_DIR": str(cache)}).stdout
    )
    entry = next(m for m in listed["models"] if m["name"] == "ms-marco-minilm-l6")
    assert entry["installed"] and entry["space"] == "reranker"

    plain = ask(docs_index, cache)
    assert plain.returncode == 0, plain.stderr
    assert all(r["scores"]["rerank"] is None for r in json.loads(plain.stdout)["results"])

    p = ask(docs_index, cache, "--rerank", "local")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    scores = [r["scores"]["rerank"] for r in out["results"]]
    # The tiny model weighs "readdir" 3 and list/files/directory 0.5 each, in the passage only.
    assert out["results"][0]["anchor"] == "fsreaddirpath"
    assert scores == sorted(scores, reverse=True) and scores[0] >= 3.0
    assert out["timing_ms"]["rescore"] > 0

    # The same through the setting, as a user's docsearch.toml would say it.
    p = ask(docs_index, cache, env={"DOCSEARCH_RERANK": "local"})
    assert json.loads(p.stdout)["results"][0]["anchor"] == "fsreaddirpath"

    # A cross-encoder is not an embedding model: one clear line, not a crash.
    p = run_docsearch(
        "ask",
        "x",
        "--index",
        docs_index,
        "--model",
        "ms-marco-minilm-l6",
        env={"DOCSEARCH_CACHE_DIR": str(cache)},
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "reranker" in p.stderr


def test_eval_scores_the_rescore_stage_as_its_own_variant(docs_index, hub, tmp_path):
    cache = tmp_path / "cache"
    env = {"HF_ENDPOINT": hub.endpoint, "DOCSEARCH_CACHE_DIR": str(cache)}
    assert run_docsearch("models", "pull", "ms-marco-minilm-l6", env=env).returncode == 0
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("q1\tlist files in a directory\tfs.md#fsreaddirpath\t2\n", encoding="utf-8")

    p = run_docsearch("eval", qrels, "--index", docs_index, "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert not any("rescore" in v["variant"] for v in json.loads(p.stdout)["variants"])

    p = run_docsearch("eval", qrels, "--index", docs_index, "--json", "--rerank", "local", env=env)
    assert p.returncode == 0, p.stderr
    variants = {v["variant"]: v for v in json.loads(p.stdout)["variants"]}
    # The tiny model puts fs.readdir first, the one judged section: a perfect ranking.
    assert variants["hybrid + rescore ms-marco-minilm-l6"]["ndcg"] == pytest.approx(1.0)
    assert "hybrid (default)" in variants

    p = run_docsearch("eval", qrels, "--index", docs_index, "--rerank", "local", env=env)
    assert p.returncode == 0 and "hybrid + rescore ms-marco-minilm-l6     1.000" in p.stdout


def test_local_rerank_without_the_model_names_the_fix(docs_index, tmp_path):
    p = ask(docs_index, tmp_path / "empty-cache", "--rerank", "local")
    assert p.returncode == 2 and p.stdout == ""
    fix = "run `docsearch models pull ms-marco-minilm-l6`"
    assert p.stderr == f"error: reranker ms-marco-minilm-l6 is not installed: {fix}\n"


def test_bad_rerank_setting_is_one_line(docs_index, tmp_path):
    p = ask(docs_index, tmp_path / "cache", env={"DOCSEARCH_RERANK": "cohere"})
    assert p.returncode == 2 and p.stderr.startswith("error: rerank must be") and p.stderr.count("\n") == 1


@pytest.fixture
def voyage():
    server = FakeVoyage(embed=hashed_vectors, api_key=KEY).start()
    yield server
    server.stop()


def test_voyage_rerank_request_and_order(docs_index, voyage, tmp_path):
    env = {"VOYAGE_API_KEY": KEY, "DOCSEARCH_VOYAGE_BASE_URL": voyage.base_url}
    p = ask(docs_index, tmp_path / "cache", "--rerank", "voyage", env=env)
    assert p.returncode == 0, p.stderr
    (request,) = [r for r in voyage.log if r.query is not None]
    # The real request shape: the query, the presented sections' texts, the default model.
    assert request.status == 200 and request.model == "rerank-2.5-lite"
    assert request.query == "list files in a directory" and 1 <= len(request.texts) <= 30
    assert any(t.startswith("File system › fs.readdir(path)") for t in request.texts)
    results = json.loads(p.stdout)["results"]
    scores = [r["scores"]["rerank"] for r in results]
    assert scores == sorted(scores, reverse=True)
    top = results[0]
    assert scores[0] == pytest.approx(
        overlap(request.query, next(t for t in request.texts if top["heading"] in t))
    )


def test_voyage_rerank_errors_are_one_line_without_the_key(docs_index, voyage, tmp_path):
    wrong = "sk-wrong-key-that-must-not-leak"
    env = {"VOYAGE_API_KEY": wrong, "DOCSEARCH_VOYAGE_BASE_URL": voyage.base_url}
    p = ask(docs_index, tmp_path / "cache", "--rerank", "voyage", env=env)
    assert p.returncode == 6 and p.stderr.count("\n") == 1 and "rejected the API key" in p.stderr
    assert wrong not in p.stdout + p.stderr

    p = ask(
        docs_index,
        tmp_path / "cache",
        "--rerank",
        "voyage",
        env={"DOCSEARCH_VOYAGE_BASE_URL": voyage.base_url},
    )
    assert p.returncode == 2 and "VOYAGE_API_KEY" in p.stderr

    env = {
        "VOYAGE_API_KEY": KEY,
        "DOCSEARCH_VOYAGE_BASE_URL": voyage.base_url,
        "DOCSEARCH_RERANK_MODEL": "rerank-9",
    }
    p = ask(docs_index, tmp_path / "cache", "--rerank", "voyage", env=env)
    assert p.returncode == 2 and "unknown Voyage reranker 'rerank-9'" in p.stderr
