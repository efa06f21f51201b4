"""`docsearch ask` as a person and a script read it, through a real subprocess."""

import json
import os
import subprocess
import sys

from .conftest import CORPUS, ROOT, run_docsearch

run = run_docsearch


def ask_with_stdin(*args: object, stdin: str, cwd=ROOT) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCSEARCH_") or k == "DOCSEARCH_CACHE_DIR"
    }
    return subprocess.run(
        [sys.executable, "-m", "docsearch", "ask", *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pipe_output_is_unpadded_unwrapped_and_singular(corpus_index):
    p = run("ask", "exit codes", "--index", corpus_index, "-k", "1", "--no-summary")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines)  # no padding to a width
    assert lines[-1].startswith("1 result in ")  # singular
    # path:line relative to the current directory (the repository root here), then the anchor.
    assert lines[1].startswith("    corpus/cli.md:") and " #exit-codes  (corpus)" in lines[1]
    line = int(lines[1].split(":")[1].split()[0])
    # The line of the part shown: inside the Exit codes section (its heading, or a later part).
    page = (CORPUS / "cli.md").read_text().splitlines()
    heading = page.index("## Exit codes") + 1
    following = [n for n, text in enumerate(page, 1) if n > heading and text.startswith("## ")]
    assert heading <= line < (following[0] if following else len(page) + 1)
    p = run("ask", "exit codes", "--index", corpus_index, "-k", "3", "--no-summary")
    assert p.stdout.splitlines()[-1].startswith("3 results in ")


def test_addresses_outside_the_cwd_are_absolute(corpus_index, tmp_path):
    p = run("ask", "exit codes", "--index", corpus_index, "-k", "1", "--no-summary", cwd=tmp_path)
    assert f"    {CORPUS / 'cli.md'}:" in p.stdout


def test_a_table_keeps_its_shape_in_a_pipe(corpus_index):
    p = run("ask", "which environment variable sets top_k", "--index", corpus_index, "--no-summary")
    assert p.returncode == 0, p.stderr
    rows = [line for line in p.stdout.splitlines() if line.startswith("    | ")]
    assert any("`top_k`" in r and "`DOCSEARCH_TOP_K`" in r for r in rows)
    assert any(set(r.strip()) <= set("|- ") for r in rows)  # the header's rule is there too


def test_json_has_abs_path_and_url_from_the_source_base_url(tmp_path, docs):
    index = tmp_path / "idx"
    p = run("index", docs, "--index", index, "--base-url", "https://nodejs.org/api/")
    assert p.returncode == 0, p.stderr
    p = run("ask", "exit codes", "--index", index, "--json", "--no-summary")
    first = json.loads(p.stdout)["results"][0]
    assert first["abs_path"] == str(docs / "cli.md")
    assert first["url"] == "https://nodejs.org/api/cli.html#exit-codes"
    p = run("ask", "exit codes", "--index", index, "--no-summary", "-k", "1")
    assert "https://nodejs.org/api/cli.html#exit-codes" in p.stdout.splitlines()[1]
    # Keep .md in links (a repository browser), or drop the extension (clean URLs).
    run("index", docs, "--index", index, "--url-ext", ".md")
    p = run("ask", "exit codes", "--index", index, "--json", "--no-summary")
    assert json.loads(p.stdout)["results"][0]["url"] == "https://nodejs.org/api/cli.md#exit-codes"


def test_no_url_without_a_base_url(corpus_index):
    p = run("ask", "exit codes", "--index", corpus_index, "--json", "--no-summary")
    first = json.loads(p.stdout)["results"][0]
    assert first["url"] is None and first["abs_path"] == str(CORPUS / "cli.md")


def test_the_llm_hint_is_shown_once_per_cache_dir(corpus_index, tmp_path):
    env = {"DOCSEARCH_CACHE_DIR": str(tmp_path / "cache")}
    first = run("ask", "exit codes", "--index", corpus_index, env=env)
    second = run("ask", "exit codes", "--index", corpus_index, env=env)
    verbose = run("ask", "exit codes", "--index", corpus_index, "--verbose", env=env)
    assert "hint: for a cited summary" in first.stderr
    assert "hint" not in second.stderr
    assert "hint: for a cited summary" in verbose.stderr


def test_no_summary_is_a_setting(corpus_index, tmp_path):
    (tmp_path / "docsearch.toml").write_text(f'index = "{corpus_index}"\nno_summary = true\n')
    p = run("ask", "exit codes", "--verbose", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "hint" not in p.stderr  # no summary wanted: no hint about one either


def test_query_from_stdin_and_unquoted_words(corpus_index):
    for args, stdin in ((["-"], "exit codes\n"), ([], "exit codes")):
        p = ask_with_stdin(*args, "--index", corpus_index, "--json", "--no-summary", stdin=stdin)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["query"] == "exit codes"
    p = run("ask", "exit", "codes", "--index", corpus_index, "--json", "--no-summary")
    out = json.loads(p.stdout)
    assert out["query"] == "exit codes" and out["results"][0]["anchor"] == "exit-codes"


def test_a_filter_matching_nothing_is_an_error_listing_the_sources(corpus_index):
    for flag, value in (("--source", "nosuch"), ("--path-prefix", "nosuch/")):
        p = run("ask", "exit codes", "--index", corpus_index, flag, value, "--no-summary")
        assert p.returncode == 3, p.stderr
        assert p.stderr.count("\n") == 1 and p.stderr.startswith(f"error: {flag} nosuch")
        assert "the index's sources: corpus (" in p.stderr
        assert p.stdout == ""
    p = run("ask", "exit codes", "--index", corpus_index, "--path-prefix", "cli", "--json", "--no-summary")
    assert p.returncode == 0 and json.loads(p.stdout)["results"]


def test_the_readme_showcase_query_answers_with_exclude_first(corpus_index):
    """README's first command: the manual's answer (`--exclude GLOB`) comes first, and the
    paragraph shown is the one that says it."""
    query = "how do I exclude a folder from the index"
    assert query in (ROOT / "README.md").read_text()
    p = run("ask", query, "--index", corpus_index, "--json", "--no-summary")
    first = json.loads(p.stdout)["results"][0]
    assert (first["path"], first["anchor"]) == ("faq.md", "how-do-i-exclude-a-folder-from-the-index")
    assert "--exclude GLOB" in first["text"]
    p = run("ask", query, "--index", corpus_index, "--no-summary", "-k", "1")
    assert "--exclude GLOB" in p.stdout.splitlines()[2]


def test_code_and_lists_keep_their_lines_in_a_pipe(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "api.md").write_text(
        "# API\n\n## zebra.open(path)\n\n```js\nconst z = zebra.open('a');\n\nz.close();\n```\n\n"
        "## zebra.options\n\n* `path` {string} where the zebra lives\n* `mode` {integer} how it opens\n"
        "  * `flags` {string} nested flags\n"
    )
    index = tmp_path / "idx"
    assert run("index", docs, "--index", index).returncode == 0
    p = run("ask", "zebra.open", "--index", index, "--no-summary", "-k", "1")
    lines = p.stdout.splitlines()
    assert lines[2:7] == ["    ```js", "    const z = zebra.open('a');", "", "    z.close();", "    ```"]
    p = run("ask", "zebra options path mode flags", "--index", index, "--no-summary", "-k", "1")
    assert "    * `path` {string} where the zebra lives" in p.stdout.splitlines()
    assert "      * `flags` {string} nested flags" in p.stdout.splitlines()
    assert all(line == line.rstrip() for line in p.stdout.splitlines())


def test_snippets_keep_underscores_inside_names():
    from docsearch.present import snippet

    text = "Set `follow_symlinks = true` to follow them, _emphasis_ aside; see [`fs.ReadStream`][]."
    expected = "Set follow_symlinks = true to follow them, emphasis aside; see fs.ReadStream."
    assert snippet(text, "follow symlinks") == expected


def test_terminal_lines_carry_no_padding_but_code_keeps_its_background(corpus_index):
    """On a terminal rich pads every grid cell to its column; a copied result must not carry
    those blanks, while a code block's painted background stays."""
    import io

    from rich.console import Console

    from docsearch import Searcher
    from docsearch.cli.ask_output import terminal_renderables

    from .conftest import make_settings

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system="standard")
    for query in ("exit codes", "which environment variable sets top_k", "docsearch index command"):
        result = Searcher(make_settings(corpus_index)).search(query)
        for renderable in terminal_renderables(result, color=True):
            console.print(renderable)
    lines = buffer.getvalue().splitlines()
    assert len(lines) > 20
    import re

    background = re.compile(r"\x1b\[(?:[0-9;]*;)?4[0-7](?:;[0-9;]*)?m")
    plain = [line for line in lines if not background.search(line)]  # nothing painted on it
    assert plain and all(line == line.rstrip() for line in plain)
    assert not any(line.endswith(" \x1b[0m") for line in plain)
