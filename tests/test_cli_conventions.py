"""The command line's conventions: one-line usage errors, "did you mean", help, columns."""

import argparse
import json

from docsearch.cli.parser import build_parser

from .conftest import ROOT, run_docsearch

run = run_docsearch


def test_usage_errors_are_one_line_with_did_you_mean():
    cases = [
        (["ask", "x", "--top-kk", "3"], "did you mean --top-k?"),
        (["askk", "x"], "did you mean ask?"),
        (["models", "pul", "x"], "did you mean pull?"),
        (["index", "--excldue", "x"], "did you mean --exclude?"),
        (["status", "--bogus"], ""),
    ]
    for args, hint in cases:
        p = run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1, p.stderr
        assert hint in p.stderr and "usage:" not in p.stderr
        assert p.stdout == ""


def test_a_misspelt_setting_gets_did_you_mean(tmp_path):
    (tmp_path / "docsearch.toml").write_text("tpo_k = 3\n")
    p = run("status", cwd=tmp_path)
    assert p.returncode == 2 and "unknown setting(s): tpo_k (did you mean top_k?)" in p.stderr


def test_version_and_help():
    v = run("-V")
    assert v.returncode == 0 and v.stdout.startswith("docsearch ")
    assert run("--version").stdout == v.stdout
    h = run("--help")
    assert h.returncode == 0 and "examples:" in h.stdout and "docsearch ask " in h.stdout
    assert "interactive search, the TUI" in h.stdout and "none of the commands above opens" in h.stdout


def _parsers(parser: argparse.ArgumentParser, name: str = "docsearch"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {a.dest for a in action._choices_actions if a.help}
            for sub_name, sub in action.choices.items():
                assert sub_name in helped, f"{name} {sub_name} has no help text"
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_command_and_argument_has_help_text():
    seen = 0
    for name, parser in _parsers(build_parser()):
        for action in parser._actions:
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help text"
            seen += 1
    assert seen > 60


def test_models_list_and_status_never_cut_cells_in_a_pipe(corpus_index):
    p = run("models", "list", env={"COLUMNS": "40"})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["model", "kind", "space", "dims", "ready", "where"]
    assert any("docsearch models pull voyage-4-nano" in line for line in lines)  # whole, unwrapped
    assert any("2048,1024,512,256" in line for line in lines)
    assert "…" not in p.stdout
    p = run("status", "--index", corpus_index, env={"COLUMNS": "40"})
    assert p.returncode == 0 and "…" not in p.stdout and str(corpus_index) in p.stdout


def test_json_field_names_agree_on_dim(corpus_index):
    status = json.loads(run("status", "--index", corpus_index, "--json").stdout)
    models = json.loads(run("models", "list", "--json").stdout)["models"]
    minilm = next(m for m in models if m["name"] == "minilm-l6-v2")
    assert status["dim"] == status["document_model"]["dim"] == minilm["dim"] == 384
    assert minilm["dims"] == [384]
    # The deprecated names stay, as the manual says, until a later version drops them.
    assert status["dimension"] == 384 and minilm["dimensions"] == [384]
    assert "deprecated" in (ROOT / "corpus" / "json-output.md").read_text()


def test_getting_started_installs_from_the_repository():
    page = (ROOT / "corpus" / "getting-started.md").read_text()
    assert "pip install docsearch\n" not in page
    for command in ("pip install .", "pipx install .", "uv tool install ."):
        assert command in page


def test_the_index_synopsis_names_every_flag():
    cli = (ROOT / "corpus" / "cli.md").read_text()
    synopsis = cli.split("## docsearch index", 1)[1].split("```", 2)[1]
    parser = dict(_parsers(build_parser()))["docsearch index"]
    for action in parser._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in synopsis, f"{flag} is missing from the index synopsis"


def test_skipped_files_are_listed_as_the_manual_says(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text("# Page\n\nSome text.\n")
    for n in range(12):
        (docs / f"empty{n:02}.md").write_text("")
    p = run("index", docs, "--index", tmp_path / "idx")
    assert p.returncode == 0, p.stderr
    assert "skipped 12 files: 12 empty" in p.stderr
    assert p.stderr.count(": empty\n") == 10 and "… and 2 more (--json lists them all)" in p.stderr
    manual = (ROOT / "corpus" / "indexing.md").read_text()
    assert "the first ten are named" in manual


def test_the_body_identifier_bonus_is_documented_as_it_is():
    from docsearch.search.searcher import BODY_CHECKED, BODY_MENTION

    ranking = (ROOT / "corpus" / "ranking.md").read_text()
    assert f"gets {BODY_MENTION} (the body bonus)" in ranking
    assert f"the {BODY_CHECKED} best keyword hits" in ranking
