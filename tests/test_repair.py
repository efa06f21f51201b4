"""Damaged indexes: every corruption in tests/corruptions.py is named by `verify` (what
`docsearch status --check` prints), never crashes a read, and `docsearch index` sets the
damaged index aside and rebuilds it from the embedding cache, with no model work repeated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from docsearch.embed.cache import CachedEmbedder, EmbeddingCache
from docsearch.errors import DocsearchError, IndexMissingError
from docsearch.index.indexer import Indexer
from docsearch.search.searcher import Searcher
from docsearch.search.suggest import Suggester
from docsearch.store.reader import IndexReader
from docsearch.store.verify import verify

from .conftest import CORPUS, CountingEmbedder, make_settings, run_docsearch
from .corruptions import CORRUPTIONS, Corruption, data_file

QUERY = "atomic rename crash safety"


@pytest.fixture(scope="module")
def fixture(tmp_path_factory, embedder):
    """A committed two-page index, built through the embedding cache, and the docs it came from."""
    root = tmp_path_factory.mktemp("repair")
    docs = root / "docs"
    docs.mkdir()
    for name in ("cli.md", "storage.md"):
        shutil.copy(CORPUS / name, docs / name)
    cache = root / "embeddings.sqlite"
    index = root / "pristine"
    summary = Indexer(make_settings(index), embedder=cached(embedder, cache)).index(docs)
    assert summary.embedded == summary.fragments > 10
    return {"root": root, "docs": docs, "cache": cache, "index": index, "count": summary.fragments}


def cached(embedder, cache: Path) -> CachedEmbedder:
    return CachedEmbedder(embedder, EmbeddingCache(cache), recipe="minilm-l6-v2 test")


def damaged_copy(fixture, corruption: Corruption, name: str = "case") -> Path:
    case = fixture["root"] / name
    shutil.rmtree(case, ignore_errors=True)
    shutil.copytree(fixture["index"], case)
    corruption.apply(case)
    return case


def search_or_error(index: Path, embedder) -> tuple[list, DocsearchError | None]:
    """A reader's whole path (open, search, suggest): hits, or the one-line error it gave."""
    try:
        searcher = Searcher(make_settings(index), embedder=embedder)
        hits = searcher.search(QUERY).hits
        Suggester(searcher.reader).suggest("atom")
        searcher.close()
        return hits, None
    except DocsearchError as exc:
        return [], exc


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=[c.name for c in CORRUPTIONS])
def test_corruption_is_found_reported_and_repaired(fixture, corruption, embedder):
    case = damaged_copy(fixture, corruption)

    # status --check names it (or, for files no version reads, finds nothing).
    _, problems = verify(case, "full")
    text = "; ".join(map(str, problems))
    if corruption.harmless:
        assert problems == [], text
    else:
        assert problems and corruption.mentions in text, text

    # A read either works or stops with one error line of the index kind (exit 4): never
    # another exception, and never keyword search quietly finding nothing.
    hits, error = search_or_error(case, embedder)
    if error is not None:
        assert isinstance(error, IndexMissingError) and "\n" not in error.message, error.message
        assert "Traceback" not in error.message and "/home/runner" not in error.message
    elif not corruption.harmless:
        # Only damage that still decodes can be read, and then the keyword side still works.
        assert "bit flip" in corruption.name, f"a damaged index was read: {corruption.name}"
    if corruption.mentions == "full-text":
        assert error is not None, "a missing full-text index must not read as no keyword hits"

    # `docsearch index` repairs it from the embedding cache: no model work at all.
    counting = CountingEmbedder(embedder)
    summary = Indexer(make_settings(case), embedder=cached(counting, fixture["cache"])).index(fixture["docs"])
    if corruption.harmless:
        assert summary.repaired == [] and summary.unchanged == fixture["count"]
    else:
        assert summary.repaired, "the damage went unnoticed by `docsearch index`"
        assert Path(summary.set_aside, "problems.txt").is_file()
        assert summary.added == summary.fragments == fixture["count"]
        assert summary.embedded == summary.cached == fixture["count"]  # what the summary reports
    assert counting.documents == []  # and what the model was actually asked

    _, after = verify(case, "full")
    assert after == [], "; ".join(map(str, after))
    hits, error = search_or_error(case, embedder)
    assert error is None and hits[0].fragment.ref == "storage.md#crash-safety"
    assert hits[0].keyword is not None  # the full-text index answers again
    assert IndexReader(case).meta.count == fixture["count"]


def test_reads_of_a_file_damaged_after_opening_are_one_line(fixture, embedder):
    """A file that goes bad while a searcher has the index open: the next search says what is
    wrong instead of raising lance's error."""
    case = damaged_copy(fixture, Corruption("none", lambda index: None), "late")
    searcher = Searcher(make_settings(case), embedder=embedder)
    data_file(case, "fragments").unlink()
    searcher.rows.clear()
    with pytest.raises(IndexMissingError, match=r"fragments: data file data/\S+ is missing"):
        searcher.search("exit codes")


def test_rebuild_names_the_other_sources_to_index_again(fixture, embedder, tmp_path):
    index = tmp_path / "idx"
    animals = tmp_path / "animals"
    animals.mkdir()
    (animals / "zebra.md").write_text("# Zebras\n\nZebras are striped animals of the savanna.\n")
    settings = make_settings(index)
    Indexer(settings, embedder=cached(embedder, fixture["cache"])).index(fixture["docs"])
    Indexer(settings, embedder=cached(embedder, fixture["cache"])).index(animals, source="animals")
    data_file(index, "float").unlink()

    summary = Indexer(settings, embedder=cached(embedder, fixture["cache"])).index(fixture["docs"])
    root = str(animals.resolve())
    assert summary.not_reindexed == [("animals", root)]
    assert summary.as_json()["repaired"]["not_reindexed"] == [{"source": "animals", "root": root}]
    assert set(IndexReader(index).meta.sources) == {"docs"}


def test_cli_check_ask_and_index_over_a_damaged_index(tmp_path):
    """The commands a user runs, end to end: `status --check` lists the problems (exit 4),
    `ask` says it in one line (exit 4), `index` repairs from the embedding cache."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("cli.md", "storage.md"):
        shutil.copy(CORPUS / name, docs / name)
    index = tmp_path / "idx"
    env = {"DOCSEARCH_CACHE_DIR": str(tmp_path / "cache")}  # a cache of this test's own
    first = run_docsearch("index", docs, "--index", index, "--json", env=env)
    assert first.returncode == 0, first.stderr
    fragments = json.loads(first.stdout)["fragments"]

    healthy = run_docsearch("status", "--check", "--index", index, env=env)
    assert healthy.returncode == 0 and "check      ok" in healthy.stdout, healthy.stdout + healthy.stderr

    shutil.rmtree(next((index / "db" / "fragments.lance" / "_indices").iterdir()))
    broken = data_file(index, "binary")
    broken.write_bytes(broken.read_bytes()[:-7])

    check = run_docsearch("status", "--check", "--index", index, "--json", env=env)
    assert check.returncode == 4, check.stderr
    report = json.loads(check.stdout)
    assert report["ok"] is False and f"docsearch index {docs.resolve()}" in report["fix"]
    assert any("full-text index file" in p for p in report["problems"])
    assert any(p.startswith("binary: data file") and "bytes" in p for p in report["problems"])

    ask = run_docsearch("ask", "exit codes", "--index", index, "--no-summary", env=env)
    assert ask.returncode == 4 and ask.stdout == ""
    errors = [line for line in ask.stderr.splitlines() if not line.startswith("[")]  # lance's log lines
    assert len(errors) == 1 and errors[0].startswith("error: the index at") and "is damaged" in errors[0]

    status = run_docsearch("status", "--index", index, env=env)
    assert status.returncode == 4 and "Traceback" not in status.stderr

    repair = run_docsearch("index", docs, "--index", index, "--json", env=env)
    assert repair.returncode == 0, repair.stderr
    summary = json.loads(repair.stdout)
    assert summary["repaired"]["set_aside"] == str(index / "damaged")
    # The production path caches local vectors too: the rebuild embedded nothing anew.
    assert summary["embedded"] == summary["cached"] == fragments

    again = run_docsearch("status", "--check", "--index", index, env=env)
    assert again.returncode == 0, again.stdout
    ask = run_docsearch("ask", "exit codes", "--index", index, "--no-summary", env=env)
    assert ask.returncode == 0 and "cli.md:" in ask.stdout and " #exit-codes  (" in ask.stdout


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_tui_says_what_is_damaged_instead_of_crashing(fixture, embedder):
    from docsearch.tui.app import DocsearchApp, EmptyIndexScreen

    from .test_tui import SIZE, until

    case = damaged_copy(fixture, Corruption("none", lambda index: None), "tui")
    settings = make_settings(case)
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.searcher is not None)
        # A data file goes while the app is open: the next search is a notification.
        data_file(case, "fragments").unlink()
        app.searcher.rows.clear()
        await pilot.press(*"pelicans")
        await until(pilot, lambda: any("damaged" in n.message for n in app._notifications))
        assert app.is_running
        message = next(n.message for n in app._notifications if "damaged" in n.message)
        assert "fragments: data file" in message and "docsearch index" in message

    # Started on a damaged index: a screen that says so and how to repair it.
    app = DocsearchApp(settings, searcher_factory=lambda: Searcher(settings, embedder=embedder))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EmptyIndexScreen) and app.screen.query("#message"))
        text = str(app.screen.query_one("#message").render())
        assert "The index is damaged" in text and "docsearch index ./docs" in text
