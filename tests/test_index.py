"""The index pipeline and store: round trip, incremental updates, interruptions."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from docsearch.errors import InputError, ModelMismatchError
from docsearch.index.indexer import Indexer
from docsearch.search.searcher import Searcher
from docsearch.store.tables import IndexReader, IndexWriter

from .conftest import ROOT, make_settings


def top_ref(settings, embedder, query):
    result = Searcher(settings, embedder=embedder).search(query, top_k=1)
    return result.hits[0].fragment.ref if result.hits else None


def test_round_trip(tmp_path, docs, embedder):
    settings = make_settings(tmp_path / "idx")
    summary = Indexer(settings, embedder=embedder).index(docs)
    assert summary.files == 3 and summary.fragments == summary.added == summary.embedded > 10
    reader = IndexReader(settings.index)
    assert reader.meta.count == summary.fragments
    assert reader.meta.document_model.name == "minilm-l6-v2"
    assert reader.meta.sources["docs"]["files"] == 3
    ids, bits = reader.load_binary()
    assert bits.shape == (summary.fragments, 48) and bits.dtype == np.uint8
    frags = reader.take_fragments([0, 1])
    assert {f.path for f in frags} <= {"cli.md", "configuration.md", "storage.md"}
    # The stored vectors are the model's, to float16 precision, and their bits match.
    pos = int(np.where(ids == frags[0].id)[0][0])
    _, vec = reader.take_vectors(np.array([pos]))
    direct = embedder.embed_documents([frags[0].embedding_text])
    np.testing.assert_allclose(vec[0], direct[0], atol=2e-3)
    assert (np.packbits(direct[0] > 0) == bits[pos]).all()


def test_incremental_reindex(tmp_path, docs, counting):
    settings = make_settings(tmp_path / "idx")
    first = Indexer(settings, embedder=counting).index(docs)
    counting.documents.clear()

    again = Indexer(settings, embedder=counting).index(docs)
    assert (again.added, again.changed, again.removed, again.embedded) == (0, 0, 0, 0)
    assert again.unchanged == first.fragments
    assert counting.documents == []

    # Change one section of one file: exactly that fragment is embedded again.
    text = (docs / "storage.md").read_text()
    (docs / "storage.md").write_text(text.replace("atomic rename", "atomic rename (really)"))
    changed = Indexer(settings, embedder=counting).index(docs)
    assert (changed.added, changed.changed, changed.removed, changed.embedded) == (0, 1, 0, 1)
    assert len(counting.documents) == 1 and "atomic rename (really)" in counting.documents[0]
    assert top_ref(settings, counting, "atomic rename really") == "storage.md#crash-safety"

    # Delete a file: its fragments go, nothing is embedded.
    n_cli = sum(
        1
        for f in IndexReader(settings.index).take_fragments(list(range(first.fragments)))
        if f.path == "cli.md"
    )
    (docs / "cli.md").unlink()
    counting.documents.clear()
    removed = Indexer(settings, embedder=counting).index(docs)
    assert removed.removed == n_cli and removed.embedded == 0
    assert IndexReader(settings.index).meta.count == first.fragments - n_cli


def test_moved_text_reuses_its_vector(tmp_path, docs, counting):
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=counting).index(docs)
    counting.documents.clear()
    (docs / "storage.md").rename(docs / "storage-moved.md")
    summary = Indexer(settings, embedder=counting).index(docs)
    assert summary.added > 0 and summary.removed == summary.added
    assert summary.embedded == 0 and counting.documents == []


def test_two_sources_in_one_index(tmp_path, docs, embedder):
    settings = make_settings(tmp_path / "idx")
    other = tmp_path / "other"
    other.mkdir()
    (other / "zebra.md").write_text("# Zebras\n\nZebras are striped animals of the savanna.\n")
    Indexer(settings, embedder=embedder).index(docs)
    Indexer(settings, embedder=embedder).index(other, source="animals")
    searcher = Searcher(settings, embedder=embedder)
    assert searcher.search("striped savanna animals").hits[0].fragment.source == "animals"
    only_docs = searcher.search("striped savanna animals", source="docs")
    assert only_docs.hits and all(h.fragment.source == "docs" for h in only_docs.hits)
    prefixed = searcher.search("settings", path_prefix="config")
    assert prefixed.hits and all(h.fragment.path.startswith("config") for h in prefixed.hits)
    # Re-indexing one source leaves the other alone.
    again = Indexer(settings, embedder=embedder).index(docs)
    assert again.removed == 0
    assert IndexReader(settings.index).meta.sources.keys() == {"docs", "animals"}


def test_bad_folders(tmp_path, embedder):
    settings = make_settings(tmp_path / "idx")
    with pytest.raises(InputError, match="not found"):
        Indexer(settings, embedder=embedder).index(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("hi")
    with pytest.raises(InputError, match="no markdown"):
        Indexer(settings, embedder=embedder).index(tmp_path / "empty")
    assert not (settings.index / "meta.json").exists()


def test_other_model_is_refused(tmp_path, docs, embedder, monkeypatch):
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs)

    class Other:
        identity = embedder.identity.__class__("other", "other-space", 384)
        fingerprint = "0" * 64

    with pytest.raises(ModelMismatchError, match="other"):
        Indexer(settings, embedder=Other()).index(docs)  # type: ignore[arg-type]
    assert IndexReader(settings.index).meta.document_model.name == "minilm-l6-v2"


def test_interrupted_run_keeps_last_good_index(tmp_path, docs, counting, monkeypatch):
    settings = make_settings(tmp_path / "idx")
    first = Indexer(settings, embedder=counting).index(docs)
    before = top_ref(settings, counting, "crash safety atomic rename")

    (docs / "storage.md").write_text("# Storage\n\nNothing about crashes any more.\n")
    (docs / "new.md").write_text("# Brand new page\n\nPelicans and penguins.\n")

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexWriter, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        Indexer(settings, embedder=counting).index(docs)
    monkeypatch.undo()

    # Every table holds uncommitted writes, but readers see exactly the old index.
    reader = IndexReader(settings.index)
    assert reader.meta.count == first.fragments
    assert top_ref(settings, counting, "crash safety atomic rename") == before
    assert top_ref(settings, counting, "pelicans and penguins") != "new.md#brand-new-page"

    # The next run rolls back the leftovers and finishes the job.
    done = Indexer(settings, embedder=counting).index(docs)
    assert done.added >= 1 and done.removed >= 1
    assert top_ref(settings, counting, "pelicans and penguins") == "new.md#brand-new-page"
    assert IndexReader(settings.index).meta.count == done.fragments


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from docsearch.settings import Settings
    from docsearch.index.indexer import Indexer
    from docsearch.store.tables import IndexWriter
    real_add = IndexWriter.add
    def add_then_die(self, *args, **kwargs):
        real_add(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # like kill -9 between two writes
    IndexWriter.add = add_then_die
    settings = Settings.resolve({"index": Path(sys.argv[1])}, env={})
    Indexer(settings).index(sys.argv[2])
    """
)


def test_killed_process_keeps_last_good_index(tmp_path, docs, embedder):
    settings = make_settings(tmp_path / "idx")
    first = Indexer(settings, embedder=embedder).index(docs)
    (docs / "new.md").write_text("# Brand new page\n\nPelicans and penguins.\n")
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(settings.index), str(docs)], cwd=ROOT, capture_output=True
    )
    assert proc.returncode == -9, proc.stderr.decode()
    assert IndexReader(settings.index).meta.count == first.fragments
    assert Searcher(settings, embedder=embedder).search("pelicans").hits
    done = Indexer(settings, embedder=embedder).index(docs)
    assert done.added == 1 and done.unchanged == first.fragments
    assert IndexReader(settings.index).meta.count == first.fragments + 1


def test_damaged_meta_is_rebuilt_by_the_next_index_run(tmp_path, docs, embedder):
    settings = make_settings(tmp_path / "idx")
    first = Indexer(settings, embedder=embedder).index(docs)
    (settings.index / "meta.json").write_text("{truncated")
    again = Indexer(settings, embedder=embedder).index(docs)
    assert again.added == first.fragments
    assert IndexReader(settings.index).meta.count == first.fragments
    assert (settings.index / "damaged" / "meta.json").read_text() == "{truncated"  # kept, aside
    assert again.repaired == ["meta.json is not readable JSON"]


def test_index_of_another_format_is_refused_by_search_and_rebuilt_by_index(tmp_path, docs, embedder):
    import json

    from docsearch.errors import IndexMissingError

    settings = make_settings(tmp_path / "idx")
    first = Indexer(settings, embedder=embedder).index(docs)
    meta_path = settings.index / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = 2
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(IndexMissingError, match="has format 2, this docsearch reads format"):
        IndexReader(settings.index)
    again = Indexer(settings, embedder=embedder).index(docs)
    assert again.added == first.fragments
    assert IndexReader(settings.index).meta.count == first.fragments
    assert (settings.index / "meta.json.format-2").exists()


def test_unchanged_files_are_not_parsed_again(tmp_path, docs, embedder, monkeypatch):
    import docsearch.index.indexer as indexer_module

    settings = make_settings(tmp_path / "idx", cache_dir=tmp_path / "cache")
    parsed: list[str] = []
    real_chunk = indexer_module.chunk

    def counting_chunk(text, path, *args):
        parsed.append(path)
        return real_chunk(text, path, *args)

    monkeypatch.setattr(indexer_module, "chunk", counting_chunk)
    first = Indexer(settings, embedder=embedder).index(docs)
    files = len(parsed)
    assert files == first.files > 1
    before = IndexReader(settings.index).take_fragments(list(range(first.fragments)))

    again = Indexer(settings, embedder=embedder).index(docs)
    assert len(parsed) == files and again.unchanged == first.fragments  # read from the cache
    page = docs / "storage.md"
    page.write_text(page.read_text() + "\n## Appendix\n\nMore words.\n")
    third = Indexer(settings, embedder=embedder).index(docs)
    assert parsed[files:] == ["storage.md"] and third.added == 1
    # Other chunk settings are other fragments: everything is parsed again.
    other = make_settings(tmp_path / "idx2", cache_dir=tmp_path / "cache", chunk_tokens=64)
    Indexer(other, embedder=embedder).index(docs)
    assert len(parsed) == 2 * files + 1
    # What the cache gives back is what parsing gave.
    monkeypatch.setattr(indexer_module, "chunk", real_chunk)
    fresh = make_settings(tmp_path / "idx3", cache_dir=tmp_path / "other-cache")
    Indexer(fresh, embedder=embedder).index(docs)
    cached = make_settings(tmp_path / "idx4", cache_dir=tmp_path / "cache")
    Indexer(cached, embedder=embedder).index(docs)
    a = IndexReader(fresh.index).take_fragments(list(range(first.fragments + 1)))
    b = IndexReader(cached.index).take_fragments(list(range(first.fragments + 1)))
    assert sorted(a, key=lambda f: f.id) == sorted(b, key=lambda f: f.id)
    assert {f.id for f in before} <= {f.id for f in a}
