"""Hot links from the markdown, and `docsearch suggest`: prefix, typo, semantic, questions."""

from __future__ import annotations

import json

import pytest

from docsearch.index.chunk import chunk
from docsearch.index.hotlinks import hot_links, normalize_name
from docsearch.search.searcher import Searcher
from docsearch.search.suggest import Suggester
from docsearch.store.tables import IndexReader
from tests.conftest import make_settings, run_docsearch

API_PAGE = """# File system

## `fs.readFile(path[, options], callback)`

Reads the entire contents of a file.

## `fs.readFileSync(path[, options])`

Synchronous version.

### Class: `fs.Dir`

A directory stream.

#### Event: `'close'`

Emitted when closed.

## Settings

| key | meaning |
| --- | --- |
| `num-threads-per-search` | threads for one query |
| `--index PATH` | the index folder |
"""


def test_names_are_extracted_from_headings_and_table_keys():
    assert normalize_name("fs.readFile(path[, options], callback)") == "fs.readFile()"
    assert normalize_name("--index PATH") == "--index"
    assert normalize_name("'close'") is None and normalize_name("<div>") is None
    frags = {f.anchor: f for f in chunk(API_PAGE, "fs.md", "node", 512, 48)}
    assert frags["fsreadfilepath-options-callback"].hot_links == ("fs.readFile()",)
    assert frags["class-fsdir"].hot_links == ("fs.Dir",)
    assert frags["event-close"].hot_links == ()
    assert frags["settings"].hot_links == ("num-threads-per-search", "--index")
    assert hot_links("## Plain heading", "no table") == ()


@pytest.fixture(scope="module")
def suggester(corpus_index, embedder):
    settings = make_settings(corpus_index)
    return Suggester(IndexReader(corpus_index), lambda: Searcher(settings, embedder=embedder))


def refs(found):
    return [(s.text, s.ref, s.kind) for s in found]


def test_prefix_finds_hot_links_first(suggester):
    found = suggester.suggest("top", limit=3)
    assert found[0].text == "top_k" and found[0].kind == "hotlink"
    assert found[0].ref == "configuration.md#search-and-indexing-settings"
    assert suggester.suggest("--ind")[0].text == "--index"
    # A heading prefix, in any word order.
    assert ("Crash safety", "storage.md#crash-safety", "heading") in refs(suggester.suggest("crash saf"))
    assert ("Crash safety", "storage.md#crash-safety", "heading") in refs(suggester.suggest("safety cra"))


def test_typos_are_tolerated_for_short_inputs(suggester):
    assert suggester.suggest("topk")[0].text == "top_k"
    assert suggester.suggest("embeding")[0].text.startswith("Embedding")
    assert suggester.suggest("xqzw") == []


def test_longer_inputs_get_semantic_suggestions(suggester):
    found = suggester.suggest("what happens if indexing is interrupted by a crash", limit=3)
    assert found and {s.kind for s in found} == {"semantic"}
    assert any(s.path in ("storage.md", "troubleshooting.md") for s in found)


def test_generated_questions_are_suggested(tmp_path, docs, embedder):
    from docsearch.index.indexer import Indexer
    from tests.fake_llm import FakeLLM
    from tests.test_questions import PLANTED, respond

    llm = FakeLLM(respond=respond, api_key="").start()
    try:
        settings = make_settings(
            tmp_path / "idx",
            cache_dir=tmp_path / "cache",
            llm="openai:local",
            llm_base_url=llm.endpoint + "/v1",
            questions=True,
        )
        Indexer(settings, embedder=embedder).index(docs)
    finally:
        llm.stop()
    found = Suggester(IndexReader(settings.index)).suggest("can a sudden po")
    assert refs(found)[0] == (PLANTED, "storage.md#crash-safety", "question")


def test_cli_suggest(corpus_index):
    p = run_docsearch("suggest", "--index", corpus_index, "--json", "--", "voyage_d")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["suggestions"][0] == {
        "text": "voyage_dimension",
        "kind": "hotlink",
        "path": "configuration.md",
        "anchor": "model-and-api-settings",
        "breadcrumb": ["Configuration", "Settings reference", "Model and API settings"],
    }
    p = run_docsearch("suggest", "topk", "--index", corpus_index, "-n", "1")
    assert p.returncode == 0 and p.stdout.startswith("top_k") and "(hotlink)" in p.stdout
    p = run_docsearch("suggest", "x", "--index", corpus_index, "--limit", "0")
    assert p.returncode == 2
