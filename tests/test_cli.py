"""The docsearch command end to end, through a real subprocess."""

import json
from pathlib import Path

import pytest

from docsearch import cli

from .conftest import ROOT, run_docsearch

run = run_docsearch


def test_index_ask_status_json(tmp_path, docs):
    index = tmp_path / "idx"
    p = run("index", docs, "--index", index, "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["files"] == 3 and summary["added"] == summary["fragments"] > 0
    assert set(summary) >= {"changed", "removed", "unchanged", "embedded", "skipped", "seconds"}

    p = run("--index", index, "ask", "exit codes", "--json", "-k", "3")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["query"] == "exit codes" and len(out["results"]) == 3
    first = out["results"][0]
    assert set(first) >= {
        "path",
        "anchor",
        "title",
        "breadcrumb",
        "line",
        "score",
        "scores",
        "text",
        "source",
        "matched_question",
    }
    assert (first["path"], first["anchor"]) == ("cli.md", "exit-codes")
    assert first["breadcrumb"] == ["Command line reference", "Exit codes"]
    assert first["source"] == "docs" and isinstance(first["line"], int)
    assert set(first["scores"]) == {"keyword", "binary", "float", "question", "rerank"}
    assert first["scores"]["rerank"] is None  # the cross-encoder is off by default
    assert first["scores"]["question"] is None and first["matched_question"] is None  # no questions
    assert set(out["timing_ms"]) >= {"embed", "keyword", "binary", "rerank", "total"}

    p = run("status", "--json", env={"DOCSEARCH_INDEX": str(index)})
    assert p.returncode == 0, p.stderr
    status = json.loads(p.stdout)
    assert status["fragments"] == summary["fragments"] and status["compatible"] is True
    assert status["dimension"] == 384 and status["space"] == "minilm-l6-v2"
    assert "docs" in status["sources"] and status["size_bytes"] > 0

    p = run("ask", "exit codes", "--index", index, "--no-summary")
    assert p.returncode == 0 and "cli.md:" in p.stdout and " #exit-codes  (docs)" in p.stdout


def test_human_output_neutralizes_escape_sequences(tmp_path):
    docs = tmp_path / "evil"
    docs.mkdir()
    (docs / "evil.md").write_text(
        "# Evil \x1b]0;pwned\x07title\n\nHarmless text \x1b[2J\x1b[31mred\x1b[0m and a bell \x07 here.\n"
    )
    index = tmp_path / "idx"
    assert run("index", docs, "--index", index).returncode == 0
    p = run("ask", "harmless text", "--index", index)
    assert p.returncode == 0, p.stderr
    assert "Harmless text" in p.stdout
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout
    p = run("ask", "harmless text", "--index", index, "--json")
    assert "\x1b" not in p.stdout and json.loads(p.stdout)["results"][0]["text"].count("\x1b") == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["index", "no/such/folder"], 3, "folder not found"),
        (["ask", "anything"], 4, "docsearch index DIR"),
        (["status"], 4, "docsearch index DIR"),
        (["ask", "x", "--top-k", "0"], 2, "--top-k"),
        (["index", ROOT / "corpus", "--index", "idx", "--model", "no-such-model"], 2, "unknown model"),
        (["--config", "missing.toml", "status"], 2, "config file not found"),
    ],
)
def test_errors_are_one_line_with_exit_codes(tmp_path, args, code, message):
    p = run(*args, cwd=tmp_path)
    assert p.returncode == code, p.stderr
    assert message in p.stderr
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1
    assert "Traceback" not in p.stderr


def test_folder_without_markdown(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    p = run("index", tmp_path / "d", "--index", tmp_path / "idx")
    assert p.returncode == 3 and "no markdown" in p.stderr
    assert not (tmp_path / "idx" / "meta.json").exists()


def test_corrupt_index(tmp_path):
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "meta.json").write_text("{not json")
    p = run("ask", "x", "--index", tmp_path / "idx")
    assert p.returncode == 4 and "is damaged (meta.json is not readable JSON)" in p.stderr


def test_model_mismatch_exit_code(tmp_path, corpus_index, embedder):
    # A model folder with the same ONNX file but declared in another space and dimension.
    from docsearch.embed.models import BUILTIN

    spec = BUILTIN["minilm-l6-v2"]()
    folder = tmp_path / "other-model"
    folder.mkdir()
    (folder / "model.onnx").symlink_to(spec.model_path)
    (folder / "tokenizer.json").symlink_to(spec.tokenizer_path)
    meta = {"name": "other", "space": "other-space", "dim": 384, "output_dim": 256}
    (folder / "docsearch-model.json").write_text(json.dumps(meta))
    p = run("ask", "exit codes", "--index", corpus_index, "--model", folder)
    assert p.returncode == 5, p.stderr
    assert "minilm-l6-v2" in p.stderr and "other" in p.stderr
    p = run("status", "--index", corpus_index, "--model", folder, "--json")
    assert json.loads(p.stdout)["compatible"] is False


def test_ctrl_c_exits_130(monkeypatch, tmp_path, capsys):
    from docsearch.index import indexer

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(indexer.Indexer, "index", interrupted)
    assert cli.main(["index", str(tmp_path), "--index", str(tmp_path / "idx")]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_python_api_is_importable_lazily():
    import docsearch

    assert {"Indexer", "Searcher", "Settings"} <= set(docsearch.__all__)
    assert docsearch.Searcher.__name__ == "Searcher"
    assert Path(docsearch.__file__).parent.name == "docsearch"


def test_index_lists_links_out_of_the_folder_and_never_reads_them(tmp_path):
    import os

    docs, elsewhere = tmp_path / "docs", tmp_path / "home"
    docs.mkdir()
    elsewhere.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nHow to deploy the service.\n", encoding="utf-8")
    (elsewhere / "credentials.md").write_text("AWSSECRETACCESSKEY=wJalrXUtnFEMI\n", encoding="utf-8")
    os.symlink(elsewhere / "credentials.md", docs / "notes.md")
    index = tmp_path / "idx"
    p = run_docsearch("index", docs, "--index", index)
    assert p.returncode == 0, p.stderr
    assert "notes.md: symlink out of the folder" in p.stderr
    p = run_docsearch("ask", "AWSSECRETACCESSKEY", "--index", index, "--json")
    assert "wJalrXUtnFEMI" not in p.stdout

    p = run_docsearch("index", docs, "--index", index, "--follow-symlinks")
    assert p.returncode == 0 and "outside" not in p.stderr
    p = run_docsearch("ask", "AWSSECRETACCESSKEY", "--index", index, "--json")
    assert "wJalrXUtnFEMI" in p.stdout  # asked for explicitly


# DEL, C1 CSI and OSC, a right-to-left override, a line separator: raw in UTF-8 output,
# a terminal acts on the first three, and the override disguises text.
UNSAFE = ("\x7f", "\x9b", "\x9d", "\u202e", "\u2028")


def test_no_raw_controls_in_json_names_or_summaries(tmp_path):
    """Issue 12.4: --json kept DEL and C1 controls raw (ensure_ascii=False), the index summary
    printed the source name as given, and bidi overrides and newlines in file names passed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "# Controls\n\nWidget text \x7f with \x9b31m CSI, \x9d0;title OSC, \u202etxt.exe, \u2028 break.\n"
    (docs / "controls.md").write_text(text, encoding="utf-8")
    (docs / "evil\u202egnp.md").write_text("# Widget reversed name\n\nWidget page.\n", encoding="utf-8")
    (docs / "two\nlines.md").write_text("# Widget newline name\n\nWidget page two.\n", encoding="utf-8")
    index = tmp_path / "idx"
    p = run("index", docs, "--index", index, "--source", "src\x1b]0;owned\x07\u202e")
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stdout + p.stderr
    assert not any(c in p.stdout + p.stderr for c in UNSAFE)
    for args in (["ask", "widget text", "--json"], ["suggest", "wid", "--json"], ["status", "--json"]):
        p = run(*args, "--index", index)
        assert p.returncode == 0, (args, p.stderr)
        assert not any(c in p.stdout for c in UNSAFE), args
        json.loads(p.stdout)  # still one valid JSON document
    payload = json.loads(run("ask", "widget text", "--json", "--index", index).stdout)
    assert any("\x9b31m" in r["text"] for r in payload["results"])  # escaped, not lost
    for args in (["ask", "widget"], ["status"]):
        p = run(*args, "--index", index)
        out = p.stdout + p.stderr
        assert p.returncode == 0 and not any(c in out for c in (*UNSAFE, "\x1b", "\x07")), args
    assert "two\\nlines.md" in run("ask", "widget newline name", "--index", index).stdout


def test_a_query_over_the_limit_is_refused_in_one_line(corpus_index):
    for command in ("ask", "suggest"):
        p = run(command, "word " * 300, "--index", corpus_index)
        assert p.returncode == 3 and p.stdout == ""
        assert p.stderr == "error: the query is 1,499 characters long; docsearch searches at most 1,000\n"


def test_counts_agree_with_their_nouns(tmp_path):
    from docsearch.present import plural

    assert [plural(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert plural(1, "query", "queries") == "1 query" and plural(3, "query", "queries") == "3 queries"
    assert plural(1234, "fragment", thousands=True) == "1,234 fragments"
    # One file, one fragment: the summaries said "1 files, 1 fragments".
    docs = tmp_path / "one"
    docs.mkdir()
    (docs / "only.md").write_text("Just a lead paragraph, no headings.\n")
    (docs / "empty.md").write_text("")
    index = tmp_path / "idx"
    p = run_docsearch("index", docs, "--index", index)
    assert p.returncode == 0, p.stderr
    assert "indexed one: 1 file, 1 fragment (1 added," in p.stdout
    assert "skipped 1 file: 1 empty" in p.stderr
    assert "one: 1 file, 1 fragment from" in run_docsearch("sources", "--index", index).stdout
    assert "one: 1 file, 1 fragment from" in run_docsearch("status", "--index", index).stdout
    assert "removed source one: 1 fragment" in run_docsearch("remove", "one", "--index", index).stdout
