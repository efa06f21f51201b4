"""Issue 12.8: a full or read-only disk is one line and exit 7, never a traceback; a cache that
cannot be written is a warning, never fatal. On real file systems: a small tmpfs that runs out
of space, remounted read-only (tests/tmpfs.py; skipped where mounting is impossible).

Before (main at e68b927): a full index disk ended in lance's `RuntimeError: … No space left on
device (os error 28), /root/.cargo/registry/…/commit.rs` traceback (exit 1); a full cache disk
in `sqlite3.OperationalError: disk I/O error` or `database or disk is full` (exit 1), and a
failed COMMIT's ROLLBACK in `cannot rollback - no transaction is active`; a read-only cache dir
stopped `index` with `unable to open database file`.
"""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from docsearch.embed.cache import EmbeddingCache, cache_key
from docsearch.embed.voyage import VoyageEmbedder
from tests.conftest import run_docsearch
from tests.fake_voyage import FakeVoyage, hashed_vectors
from tests.tmpfs import fill, read_only, tmpfs, writable

ONE_LINE = "exactly one error line, and no traceback"


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_full_index_disk_is_one_line_and_keeps_the_last_index(tmp_path, docs):
    with tmpfs(tmp_path / "disk", 8192) as disk:
        index = disk / "idx"
        assert run_docsearch("index", docs, "--index", index).returncode == 0
        (docs / "new.md").write_text("# Zanzibar\n\nA page about zanzibar ferries.\n" * 40)
        filler = fill(disk)
        p = run_docsearch("index", docs, "--index", index)
        assert p.returncode == 7, p.stderr
        (line,) = error_lines(p.stderr)
        assert line.startswith(f"error: cannot write the index at {index}: the disk is full"), line
        assert "nothing was committed" in line and ".cargo" not in line
        # The committed index is untouched and still answers, on the full disk.
        ask = run_docsearch("ask", "exit codes", "--index", index, "--json", "--no-summary")
        assert ask.returncode == 0, ask.stderr
        assert "zanzibar" not in ask.stdout.lower()
        filler.unlink()
        again = run_docsearch("index", docs, "--index", index)
        assert again.returncode == 0, again.stderr
        found = run_docsearch("ask", "zanzibar ferries", "--index", index, "--json", "--no-summary")
        assert '"path": "new.md"' in found.stdout


def test_first_index_on_a_full_disk_is_one_line(tmp_path, docs):
    with tmpfs(tmp_path / "disk", 256) as disk:
        fill(disk)
        p = run_docsearch("index", docs, "--index", disk / "idx")
        assert p.returncode == 7, p.stderr
        (line,) = error_lines(p.stderr)
        assert "the disk is full" in line


def test_eval_fit_onto_a_full_disk_is_exit_7(tmp_path, corpus_index):
    qrels = tmp_path / "q.tsv"
    qrels.write_text("q1\tdocsearch exit codes\tcli.md#exit-codes\t2\n")
    with tmpfs(tmp_path / "disk", 256) as disk:
        fill(disk)
        model = disk / "ranker.json"
        p = run_docsearch("eval", qrels, "--index", corpus_index, "--fit", model)
        assert p.returncode == 7, p.stderr  # was 3, as if the judgments were bad input
        (line,) = error_lines(p.stderr)
        assert line.startswith(f"error: cannot write the fitted ranker at {model}: the disk is full"), line
    # A folder that does not exist is still bad input.
    p = run_docsearch("eval", qrels, "--index", corpus_index, "--fit", tmp_path / "no" / "ranker.json")
    assert p.returncode == 3 and "cannot write" in p.stderr and "Traceback" not in p.stderr


def test_read_only_index_folder_refuses_index_and_still_answers(tmp_path, docs):
    with tmpfs(tmp_path / "disk", 8192) as disk:
        index = disk / "idx"
        assert run_docsearch("index", docs, "--index", index).returncode == 0
        read_only(disk)
        try:
            p = run_docsearch("index", docs, "--index", index)
            assert p.returncode == 7, p.stderr
            (line,) = error_lines(p.stderr)
            assert "the file system is read-only" in line, line
            ask = run_docsearch("ask", "exit codes", "--index", index, "--no-summary")
            assert ask.returncode == 0, ask.stderr
            assert "Exit codes" in ask.stdout
        finally:
            writable(disk)


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_cache_dir_that_cannot_be_written_is_a_warning(tmp_path, docs, fault):
    with tmpfs(tmp_path / "cache", 512) as cache:
        if fault == "full":
            fill(cache)
        else:
            read_only(cache)
        try:
            env = {"DOCSEARCH_CACHE_DIR": str(cache / "docsearch")}
            index = tmp_path / "idx"
            p = run_docsearch("index", docs, "--index", index, env=env)
            assert p.returncode == 0, p.stderr
            assert not error_lines(p.stderr)
            warnings = [line for line in p.stderr.splitlines() if line.startswith("warning: the cache")]
            assert warnings and all("carrying on without it" in w for w in warnings), p.stderr
            assert ("disk is full" if fault == "full" else "read-only") in p.stderr
            ask = run_docsearch("ask", "exit codes", "--index", index, "--no-summary", env=env)
            assert ask.returncode == 0 and "Exit codes" in ask.stdout, ask.stderr
        finally:
            if fault == "read-only":
                writable(cache)


def test_a_write_that_fills_the_cache_disk_is_rolled_back_and_warned(tmp_path, caplog):
    # Before: put_many raised `disk I/O error`, then its ROLLBACK raised "cannot rollback - no
    # transaction is active" (SQLite had rolled back already), hiding the first error.
    with tmpfs(tmp_path / "cache", 1024) as disk:
        cache = EmbeddingCache(disk / "embeddings.sqlite")
        assert cache.put_many("m", 4, [(b"k" * 32, np.ones(4))])
        fill(disk)
        rows = [(cache_key("m", "document", 256, str(i)), np.full(256, i)) for i in range(4000)]
        with caplog.at_level(logging.WARNING, logger="docsearch"):
            assert cache.put_many("m", 256, rows) is False
            assert cache.put_many("m", 256, rows[:1]) is False  # no more tries, no more warnings
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 1 and "cannot be written" in messages[0], messages
        assert len(cache.get_many([b"k" * 32], 4)) == 1  # what was committed is still there


def test_search_with_a_full_cache_disk_still_answers(tmp_path, caplog):
    # A cache write failure is a warning, never fatal to a search: the Voyage query vector
    # cannot be stored, the query is answered anyway.
    server = FakeVoyage(embed=hashed_vectors).start()
    try:
        with tmpfs(tmp_path / "cache", 256) as disk:
            cache = EmbeddingCache(disk / "embeddings.sqlite")
            fill(disk)
            emb = VoyageEmbedder("voyage-4-lite", 256, server.api_key, base_url=server.base_url, cache=cache)
            with caplog.at_level(logging.WARNING, logger="docsearch"):
                vector = emb.embed_query("how do I rebuild the index")
            assert vector.shape == (256,)
            assert any("cannot be written" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_no_space_to_even_open_the_cache_is_a_warning(tmp_path, caplog):
    with tmpfs(tmp_path / "cache", 64) as disk:
        fill(disk)
        with caplog.at_level(logging.WARNING, logger="docsearch"):
            cache = EmbeddingCache(disk / "sub" / "embeddings.sqlite")
        assert cache.get_many([b"x" * 32], 4) == {}
        assert cache.put_many("m", 4, [(b"x" * 32, np.ones(4))]) is False
        assert any("cannot be opened" in r.getMessage() for r in caplog.records)
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
