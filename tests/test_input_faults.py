"""Issue 12.8-9: what a user typed or a folder holds, wrong in a way that ended in a traceback,
a silent wrong answer or a half-built folder. Each is one line now (or a listed skip).

Before (main at e68b927), per test: noted in its docstring.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from docsearch.embed.models import _minilm
from docsearch.index.discover import discover
from docsearch.search.fuse import _IDENTIFIER_RE, MAX_IDENTIFIER, query_identifiers
from docsearch.search.ranker import SHIPPED
from tests.conftest import ROOT, run_docsearch


def error_line(stderr: str) -> str:
    """The run's one `error:` line; nothing else of a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    assert "\x1b" not in stderr
    return lines[0]


# --- names and text the folder holds ----------------------------------------------------------


def test_names_that_are_not_utf8_are_skipped_and_listed(tmp_path, docs):
    """Before: `UnicodeEncodeError: 'utf-8' codec can't encode character '\\udcff'` in
    fragment_id: one bad name aborted the whole run (exit 1)."""
    bad_file = os.fsdecode(b"caf\xe9.md")
    bad_dir = os.fsdecode(b"d\xfe")
    shutil.copy(docs / "cli.md", docs / bad_file)
    (docs / bad_dir).mkdir()
    shutil.copy(docs / "storage.md", docs / bad_dir / "s.md")
    p = run_docsearch("index", docs, "--index", tmp_path / "idx", "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["files"] == 3
    skipped = {s["path"]: s["reason"] for s in summary["skipped_files"]}
    assert skipped == {
        "caf\\xe9.md": "file name is not valid UTF-8",
        "d\\xfe": "folder name is not valid UTF-8",
    }
    text = run_docsearch("index", docs, "--index", tmp_path / "idx")
    assert "  caf\\xe9.md: file name is not valid UTF-8" in text.stderr


def test_utf16_files_with_a_bom_are_decoded(tmp_path):
    """Before: skipped as "binary" (their NUL bytes)."""
    text = "# Kayak rental\n\nPaddles are included.\n"
    (tmp_path / "le.md").write_bytes(text.encode("utf-16"))  # BOM + little-endian
    (tmp_path / "be.md").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    (tmp_path / "u32.md").write_bytes(text.encode("utf-32"))
    (tmp_path / "nul.md").write_bytes(b"# x\0\0\0")
    found = discover(tmp_path)
    assert {d.path: d.text for d in found.documents} == {"le.md": text, "be.md": text, "u32.md": text}
    assert {s.path: s.reason for s in found.skipped} == {"nul.md": "binary"}


def test_when_every_file_is_skipped_the_error_says_why(tmp_path):
    """Before: `error: no markdown files (*.md, *.markdown, *.mdx) found in DIR`, with the
    files right there."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_bytes(b"\x00\x01\x02")
    (tmp_path / "docs" / "b.md").write_bytes(b"\x00\x01\x02")
    (tmp_path / "docs" / "c.md").write_text("   \n")
    p = run_docsearch("index", tmp_path / "docs", "--index", tmp_path / "idx")
    assert p.returncode == 3
    line = error_line(p.stderr)
    assert "3 skipped (2 binary, 1 empty)" in line and "first: a.md: binary" in line, line


def test_unreadable_subfolder_is_listed(tmp_path, monkeypatch):
    """Before: os.walk's errors were ignored (onerror=None): the folder's pages were silently
    missing. Root reads every folder, so the refusal is the kernel's own PermissionError,
    raised where os.walk lists the folder."""
    (tmp_path / "open").mkdir()
    (tmp_path / "open" / "a.md").write_text("# A\n")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.md").write_text("# B\n")
    real = os.scandir
    locked = str(tmp_path / "locked")

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = discover(tmp_path)
    assert [d.path for d in found.documents] == ["open/a.md"]
    assert {s.path: s.reason for s in found.skipped} == {"locked": "unreadable folder (Permission denied)"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its mode")
def test_unreadable_subfolder_is_listed_for_real(tmp_path):
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.md").write_text("# B\n")
    (tmp_path / "a.md").write_text("# A\n")
    os.chmod(tmp_path / "locked", 0)
    try:
        found = discover(tmp_path)
    finally:
        os.chmod(tmp_path / "locked", 0o755)
    assert {s.path: s.reason for s in found.skipped} == {"locked": "unreadable folder (Permission denied)"}


def test_proc_file_that_claims_size_zero_is_not_read_past_the_limit(tmp_path):
    """Port: /proc/self/maps stats as an empty regular file but reads as many kilobytes; the
    size limit holds while reading, not only by what stat says."""
    os.symlink("/proc/self/maps", tmp_path / "maps.md")
    assert os.stat(tmp_path / "maps.md").st_size == 0
    found = discover(tmp_path, max_file_bytes=64, follow_symlinks=True)
    assert not found.documents
    assert {s.path: s.reason for s in found.skipped} == {"maps.md": "larger than 64 bytes"}
    assert discover(tmp_path).skipped[0].reason == "symlink out of the folder"  # the default


def test_page_swapped_for_a_fifo_mid_run_does_not_hang(tmp_path, monkeypatch):
    """Port: between the walk's stat and the open, the page becomes a FIFO; the open does not
    wait for a writer (O_NONBLOCK) and fstat sees what was really opened."""
    import threading

    (tmp_path / "a.md").write_text("# A\n")
    (tmp_path / "swap.md").write_text("# Swap\n")
    real_stat = Path.stat

    def stat(self, *args, **kwargs):
        result = real_stat(self, *args, **kwargs)
        if self.name == "swap.md" and not hasattr(stat, "done"):
            stat.done = True
            os.remove(self)
            os.mkfifo(self)
        return result

    monkeypatch.setattr(Path, "stat", stat)
    out: list = []
    worker = threading.Thread(target=lambda: out.append(discover(tmp_path)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "discover hung on a FIFO"
    assert [d.path for d in out[0].documents] == ["a.md"]
    assert {s.path: s.reason for s in out[0].skipped} == {"swap.md": "not a regular file"}


# --- what the user typed -----------------------------------------------------------------------


def test_query_that_is_not_utf8_is_one_line(corpus_index):
    """Before: `TypeError: TextEncodeInput must be Union[…]` from the tokenizer (ask), exit 1."""
    query = os.fsdecode(b"exit \xff codes")
    for command in ("ask", "suggest"):
        p = run_docsearch(command, query, "--index", corpus_index)
        assert p.returncode == 3, (command, p.stderr)
        assert error_line(p.stderr) == (
            "error: the query is not valid UTF-8 (byte 0xff at character 6): "
            "set your terminal to UTF-8 (e.g. LANG=C.UTF-8)"
        )


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_empty_query_is_a_usage_error(corpus_index, query):
    """Before: `No results.` and exit 0, as if the index had nothing."""
    for command in ("ask", "suggest"):
        p = run_docsearch(
            command, query, "--index", corpus_index, "--no-summary" if command == "ask" else "-n1"
        )
        assert p.returncode == 2, (command, p.stdout, p.stderr)
        assert error_line(p.stderr) == "error: the query is empty: give some words to search for"
        assert p.stdout == ""


@pytest.mark.parametrize(
    ("name", "shown"),
    [("a?b", "'?'"), ("a\tb", "control character 0x09"), ("a\x1b[31mb", "control character 0x1b")],
)
def test_index_path_lancedb_cannot_use_is_refused_before_anything_is_made(tmp_path, docs, name, shown):
    """Before: `?` built the tables in another folder (`a`) and then failed to find them
    ("could not be read while updating it"); TAB and ESC ended in lance's `ValueError: Invalid
    input, Failed to parse path` with the raw path (ESC included) on the terminal, leaving a
    half-built folder."""
    parent = tmp_path / "indexes"
    parent.mkdir()
    for args in (("index", docs), ("ask", "exit codes"), ("status",)):
        p = run_docsearch(*args, "--index", parent / name / "idx")
        assert p.returncode == 2, (args, p.stderr)
        assert shown in error_line(p.stderr)
    assert list(parent.iterdir()) == []


def test_api_key_that_is_not_ascii_is_one_line_without_the_key(tmp_path, docs, corpus_index):
    """Before: Voyage retried a UnicodeEncodeError 7 times and called it a connection failure;
    the LLM's was reported as a bad answer from the server."""
    key = "pa-abc\u2019def"  # a typographic apostrophe pasted into the key
    p = run_docsearch("index", docs, "--index", tmp_path / "idx", env={"VOYAGE_API_KEY": key})
    assert p.returncode == 2, p.stderr
    line = error_line(p.stderr)
    assert line.startswith("error: VOYAGE_API_KEY holds a character that is not ASCII (character 7 of 10)")
    env = {
        "DOCSEARCH_LLM": "anthropic:m",
        "ANTHROPIC_API_KEY": key,
        "DOCSEARCH_LLM_BASE_URL": "http://127.0.0.1:9",
    }
    p = run_docsearch("ask", "exit codes", "--index", corpus_index, env=env)
    assert p.returncode == 2
    assert error_line(p.stderr).startswith("error: ANTHROPIC_API_KEY holds a character that is not ASCII")
    assert "abc" not in p.stderr
    env = {
        "DOCSEARCH_LLM": "openai:m",
        "OPENAI_API_KEY": "sk-a b",
        "DOCSEARCH_LLM_BASE_URL": "http://127.0.0.1:9",
    }
    p = run_docsearch("ask", "exit codes", "--index", corpus_index, env=env)
    assert "OPENAI_API_KEY holds a space or control character" in error_line(p.stderr)


# --- eval ----------------------------------------------------------------------------------------


def test_eval_qrels_not_utf8_and_bad_id_templates_are_one_line(tmp_path, corpus_index):
    """Before: UnicodeDecodeError, KeyError, ValueError or IndexError tracebacks (exit 1), and
    `{path.__class__}` was formatted as asked."""
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(b"q1\texit codes\tcli.md#exit-codes\t2\nq2\tcaf\xe9\tcli.md\t1\n")
    p = run_docsearch("eval", latin, "--index", corpus_index)
    assert p.returncode == 3
    assert error_line(p.stderr) == f"error: {latin}:2: not valid UTF-8 (byte 0xe9); save it as UTF-8"
    good = tmp_path / "good.tsv"
    good.write_text("q1\texit codes\tcli.md#exit-codes\t2\n")
    for template, shown in [
        ("{nope}", "not {nope}"),
        ("{path", "is not a template"),
        ("{0}", "not {0}"),
        ("{path.__class__}", "not {path.__class__}"),
        ("{path!r}", "not {path!r}"),
        ("{anchor:>{x}}", "not {anchor:>{x}}"),
        ("static", "names no field"),
    ]:
        p = run_docsearch("eval", good, "--index", corpus_index, "--id-template", template)
        assert p.returncode == 2, (template, p.stderr)
        assert shown in error_line(p.stderr), template


def test_eval_prints_ranker_file_names_sanitized(tmp_path, corpus_index):
    """Port: a ranker file's name is printed as a variant label; ESC in it reached the terminal."""
    ranker = tmp_path / "r\x1b]0;owned\x07\x1b[31m.json"
    shutil.copy(ROOT / "docsearch" / "search" / SHIPPED, ranker)
    good = tmp_path / "good.tsv"
    good.write_text("q1\texit codes\tcli.md#exit-codes\t2\n")
    p = run_docsearch("eval", good, "--index", corpus_index, "--ranker", ranker)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout
    assert re.search(r"^hybrid ranker=r.*\.json +\d", p.stdout, re.MULTILINE), p.stdout


# --- model folders -----------------------------------------------------------------------------


def model_folder(path: Path, name: str, dim: int) -> Path:
    """The bundled MiniLM as a self-exported model folder, metadata saying `dim`."""
    spec = _minilm()
    path.mkdir()
    os.symlink(spec.model_path, path / "model.onnx")
    shutil.copy(spec.tokenizer_path, path / "tokenizer.json")
    meta = {"name": name, "space": name, "dim": dim, "pooling": "mean", "max_length": 256}
    (path / "docsearch-model.json").write_text(json.dumps(meta))
    return path


def test_model_folder_that_lies_about_its_dimension_is_one_line(tmp_path, docs):
    """Before: `ValueError: shape mismatch: value array of shape (12,384) could not be broadcast
    to indexing result of shape (12,256)`, half-way through embedding."""
    folder = model_folder(tmp_path / "liar", "liar", 256)
    p = run_docsearch("index", docs, "--index", tmp_path / "idx", "--doc-model", folder)
    assert p.returncode == 2, p.stderr
    line = error_line(p.stderr)
    assert "liar" in line and "384-d" in line and "256" in line, line


def test_index_built_from_a_model_folder_reindexes_and_answers_by_name(tmp_path, docs):
    """Before: the index recorded the folder's metadata name, which no later command could
    resolve: a plain re-index failed with "unknown model 'my-mini'" and `ask` with "which is
    not installed here"."""
    folder = model_folder(tmp_path / "mine", "my-mini", 384)
    env = {"DOCSEARCH_CACHE_DIR": str(tmp_path / "cache")}
    index = tmp_path / "idx"
    first = run_docsearch("index", docs, "--index", index, "--doc-model", folder, env=env)
    assert first.returncode == 0, first.stderr
    (docs / "extra.md").write_text("# Extra\n\nA page added later.\n")
    again = run_docsearch("index", docs, "--index", index, env=env)
    assert again.returncode == 0, again.stderr
    assert "1 added" in again.stdout
    ask = run_docsearch("ask", "exit codes", "--index", index, "--no-summary", env=env)
    assert ask.returncode == 0 and "Exit codes" in ask.stdout, ask.stderr
    listed = run_docsearch("models", "list", "--json", env=env)
    entry = next(m for m in json.loads(listed.stdout)["models"] if m["name"] == "my-mini")
    assert entry["location"] == str(folder.resolve())
    # A second folder that calls itself by a taken name is refused, not swapped in.
    other = model_folder(tmp_path / "other", "my-mini", 384)
    p = run_docsearch("index", docs, "--index", tmp_path / "idx2", "--doc-model", other, env=env)
    assert p.returncode == 2
    assert "calls itself my-mini, which is already registered from" in error_line(p.stderr)


# --- the identifier scan ------------------------------------------------------------------------


def test_identifier_scan_matches_the_reference_regex_on_random_strings():
    """Port: the per-word scan (bounded words, linear) finds exactly what the pattern finds
    over the whole query, for queries whose words are within MAX_IDENTIFIER, and skips only
    longer words."""
    rng = random.Random(12)
    alphabet = "aAzZ_09.-:/#$()é \t"
    for _ in range(3000):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        expected = [m.lower().removesuffix("()") for m in _IDENTIFIER_RE.findall(query)]
        assert query_identifiers(query) == expected, query
    for _ in range(50):
        long_word = "".join(rng.choice("aZ_.") for _ in range(MAX_IDENTIFIER + rng.randint(1, 400)))
        short = "fs.readFile"
        assert query_identifiers(f"{long_word} {short}") == ["fs.readfile"]
