"""LLM-written questions at index time: parsing, caching, incremental runs, failures, ranking."""

from __future__ import annotations

import json
import re

import pytest

from docsearch.errors import SettingsError
from docsearch.index.indexer import Indexer
from docsearch.index.questions import parse_questions
from docsearch.search.searcher import Searcher
from docsearch.store.tables import IndexReader
from tests.conftest import make_settings, run_docsearch
from tests.fake_llm import FakeLLM

# The crash-safety section gets a question in words the manual never uses, so only the
# generated question can lead a query phrased that way to it.
PLANTED = "Can a sudden power cut corrupt the lexicon?"


def respond(system: str, user: str) -> str:
    ref = re.search(r'<fragment path="([^"]+)"', user)
    if ref is None:
        return "[]"
    if ref.group(1) == "storage.md#crash-safety":
        return json.dumps([PLANTED, "What happens when indexing is interrupted?"])
    if "junk" in user:
        return "Sorry, I cannot help with that."
    return f'Here you go: ["What is in {ref.group(1)}?", "How do I use {ref.group(1)}?"]'


@pytest.fixture
def llm():
    server = FakeLLM(respond=respond, api_key="").start()
    yield server
    server.stop()


def settings_for(tmp_path, llm: FakeLLM, index: str = "idx", **kw):
    return make_settings(
        tmp_path / index,
        cache_dir=tmp_path / "cache",
        llm="openai:local",
        llm_base_url=llm.endpoint + "/v1",
        questions=True,
        **kw,
    )


def test_parse_questions():
    assert parse_questions('["How do I a?", "How do I b?"]') == ["How do I a?", "How do I b?"]
    assert parse_questions('Sure! ["What is x?"] Hope this helps.') == ["What is x?"]
    assert parse_questions("1. How do I read a file?\n2. What is a stream?\nThanks") == [
        "How do I read a file?",
        "What is a stream?",
    ]
    many = json.dumps([f"Question number {i}?" for i in range(9)] + ["question number 1?"])
    assert len(parse_questions(many)) == 5
    assert parse_questions("no questions here") == []


def test_questions_are_generated_stored_and_cached(tmp_path, docs, llm, embedder):
    settings = settings_for(tmp_path, llm, llm_input_usd_per_mtok=1.0, llm_output_usd_per_mtok=5.0)
    summary = Indexer(settings, embedder=embedder).index(docs)
    n = summary.fragments
    assert summary.llm_cost_usd is not None and summary.llm_cost_usd > 0
    assert summary.questions_generated == n and summary.questions_cached == 0
    assert len(llm.ok()) == n and summary.llm_tokens > 0
    # The prompt is the shipped resource; the fragment is delimited data.
    assert "JSON array" in llm.ok()[0].system and "<fragment path=" in llm.ok()[0].user
    stored = {f.ref: f.questions for f in IndexReader(settings.index).take_fragments(list(range(n)))}
    assert stored["storage.md#crash-safety"][0] == PLANTED
    assert all(stored.values())

    # Another index, same cache: no LLM request at all.
    again = Indexer(settings_for(tmp_path, llm, index="idx2"), embedder=embedder).index(docs)
    assert again.questions_cached == n and again.questions_generated == 0 and len(llm.ok()) == n

    # One changed section: exactly one new question request.
    page = docs / "storage.md"
    page.write_text(page.read_text().replace("## Size", "## Size\n\nA new sentence about size."))
    third = Indexer(settings, embedder=embedder).index(docs)
    assert third.changed == 1 and third.questions_generated == 1 and len(llm.ok()) == n + 1


def test_questions_reach_keyword_ranking(tmp_path, docs, llm, embedder):
    plain = make_settings(tmp_path / "plain", cache_dir=tmp_path / "cache")
    Indexer(plain, embedder=embedder).index(docs)
    before = [
        h.fragment.ref for h in Searcher(plain, embedder=embedder).search("power cut lexicon", top_k=3).hits
    ]
    assert "storage.md#crash-safety" not in before[:1]

    settings = settings_for(tmp_path, llm)
    Indexer(settings, embedder=embedder).index(docs)
    hits = Searcher(settings, embedder=embedder).search("power cut corrupt the lexicon", top_k=3).hits
    assert hits[0].fragment.ref == "storage.md#crash-safety"
    assert hits[0].keyword is not None and PLANTED in hits[0].fragment.questions


def test_adding_questions_to_an_existing_index_embeds_nothing(tmp_path, docs, llm, counting):
    plain = make_settings(tmp_path / "idx", cache_dir=tmp_path / "cache")
    first = Indexer(plain, embedder=counting).index(docs)
    embedded = len(counting.documents)
    second = Indexer(settings_for(tmp_path, llm), embedder=counting).index(docs)
    assert second.questions_generated == first.fragments and second.unchanged == first.fragments
    # Fragment vectors are reused; what is embedded now is the questions, and only them.
    new_texts = counting.documents[embedded:]
    assert second.embedded == 0
    assert all(t.endswith("?") for t in new_texts) and len(new_texts) == second.questions_embedded > 0
    # A later run without --questions keeps them.
    Indexer(plain, embedder=counting).index(docs)
    frags = IndexReader(plain.index).take_fragments(list(range(first.fragments)))
    assert all(f.questions for f in frags)


def test_a_failing_fragment_is_reported_not_fatal(tmp_path, docs, llm, embedder):
    (docs / "junk.md").write_text("# Junk\n\nThis page is junk for the fake model.\n")
    summary = Indexer(settings_for(tmp_path, llm), embedder=embedder).index(docs)
    assert [f.path for f in summary.questions_failed] == ["junk.md#junk"]
    assert sum("junk" in r.user for r in llm.ok()) == 2  # asked twice, then given up
    assert summary.questions_generated == summary.fragments - 1
    llm.faults.extend([("500", 0.0)] * 20)
    docs.joinpath("more.md").write_text("# More\n\nAnother page.\n")
    later = Indexer(settings_for(tmp_path, llm, llm_max_retries=1), embedder=embedder).index(docs)
    assert any(f.path == "more.md#more" and "HTTP 500" in f.reason for f in later.questions_failed)


def test_questions_need_an_llm(tmp_path, docs):
    settings = make_settings(tmp_path / "idx", cache_dir=tmp_path / "cache", questions=True)
    with pytest.raises(SettingsError, match="--questions needs an LLM"):
        Indexer(settings).index(docs)
    p = run_docsearch("index", docs, "--index", tmp_path / "idx", "--questions")
    assert p.returncode == 2 and "DOCSEARCH_LLM" in p.stderr
    assert not (tmp_path / "idx" / "meta.json").exists()


def test_cli_index_questions_keeps_keys_out_of_the_index(tmp_path, docs, llm):
    llm.api_key = "sk-llm-secret"
    env = {
        "DOCSEARCH_LLM": "anthropic:fake",
        "DOCSEARCH_LLM_BASE_URL": llm.endpoint,
        "ANTHROPIC_API_KEY": "sk-llm-secret",
    }
    p = run_docsearch("index", docs, "--index", tmp_path / "idx", "--questions", "--json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["questions"]["generated"] > 0
    for f in (tmp_path / "idx").rglob("*"):
        if f.is_file():
            assert b"sk-llm-secret" not in f.read_bytes(), f


def test_question_vectors_reach_semantic_ranking(tmp_path, docs, llm, embedder):
    from docsearch.search.searcher import SearchOptions

    settings = settings_for(tmp_path, llm)
    Indexer(settings, embedder=embedder).index(docs)
    searcher = Searcher(settings, embedder=embedder)
    assert len(searcher.questions) == sum(
        len(f.questions) for f in searcher.reader.take_fragments(list(range(len(searcher.binary))))
    )
    # Keyword search off: only the question's vector can carry this query to the fragment.
    semantic_only = SearchOptions(top_k=3, use_keyword=False)
    hit = searcher.search("could a sudden power cut corrupt the lexicon", options=semantic_only).hits[0]
    assert hit.fragment.ref == "storage.md#crash-safety"
    assert hit.matched_question == PLANTED and hit.question is not None and hit.question > 0.9
    # Filters apply to questions as they do to fragments.
    other = searcher.search(
        "could a sudden power cut corrupt the lexicon", path_prefix="cli.md", options=semantic_only
    )
    assert all(h.fragment.path == "cli.md" for h in other.hits)


def test_held_out_questions_make_a_synthetic_relevance_set(tmp_path, docs, embedder):
    def three(system: str, user: str) -> str:
        ref = re.search(r'<fragment path="([^"]+)"', user)
        name = ref.group(1) if ref else "nothing"
        # The third question is held out; it uses the section's own heading words so that
        # a working search finds the fragment for it.
        heading = re.sub(r"[^a-z]+", " ", name.split("#")[-1])
        return json.dumps([f"What is in {name}?", f"How do I use {name}?", f"Tell me about {heading}?"])

    server = FakeLLM(respond=three, api_key="").start()
    try:
        settings = settings_for(tmp_path, server)
        summary = Indexer(settings, embedder=embedder).index(docs)
        reader = IndexReader(settings.index)
        frags = reader.take_fragments(list(range(summary.fragments)))
        crash = next(f for f in frags if f.ref == "storage.md#crash-safety")
        assert crash.questions == (
            "What is in storage.md#crash-safety?",
            "How do I use storage.md#crash-safety?",
        )
        assert crash.held_out_question == "Tell me about crash safety?"
        # Held out means not searchable: not in the keyword field, not embedded.
        kw = reader.fragments.to_table(columns=["kw_all"]).column("kw_all").to_pylist()
        assert any("What is in storage" in k for k in kw)  # the indexed questions are searched
        assert not any("Tell me about" in k for k in kw)
        assert reader.qbinary.count_rows() == 2 * summary.fragments

        # A re-index that reuses the committed questions keeps the held-out one.
        page = docs / "storage.md"
        page.write_text(page.read_text() + "\n## Appendix\n\nMore words.\n")
        Indexer(settings, embedder=embedder).index(docs)
        again = IndexReader(settings.index)
        kept = {f.ref: f.held_out_question for f in again.take_fragments(list(range(again.meta.count)))}
        assert kept["storage.md#crash-safety"] == "Tell me about crash safety?"

        p = run_docsearch("eval", "--synthetic", "--index", settings.index, "--json")
        assert p.returncode == 0, p.stderr
        out = json.loads(p.stdout)
        assert out["synthetic"] is True and out["queries"] == again.meta.count
        hybrid = next(v for v in out["variants"] if v["variant"] == "hybrid (default)")
        assert hybrid["recall"] > 0.5 and 0 < hybrid["ndcg"] <= 1
        sampled = run_docsearch("eval", "--synthetic", "--sample", "3", "--index", settings.index, "--json")
        assert json.loads(sampled.stdout)["queries"] == 3
    finally:
        server.stop()


def test_synthetic_eval_needs_held_out_questions(tmp_path, docs, embedder):
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs)
    p = run_docsearch("eval", "--synthetic", "--index", settings.index)
    assert p.returncode == 3 and "no held-out questions" in p.stderr and "Traceback" not in p.stderr
    both = run_docsearch("eval", "x.tsv", "--synthetic", "--index", settings.index)
    assert both.returncode == 2 and "not both" in both.stderr
