"""Generator dialects: each fixture under tests/fixtures/dialects/ is a small page written the way
that generator's users write it; anchors must be the ones the site gives, and titles, breadcrumbs
and text must not show the dialect's markup."""

import re
import shutil
from pathlib import Path

import pytest

from docsearch.index.chunk import chunk
from docsearch.index.dialects import rewrite, split_attrs
from docsearch.index.includes import DocsFolder
from docsearch.index.indexer import Indexer

from .conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures" / "dialects"
MARKUP = re.compile(r"^\s*(:::|!!!|\?\?\?|///|===|--8<--|\{\*|\{:|\{\{[<%]|<Tab|</?CodeGroup)", re.M)


def page(root: Path, rel: str) -> tuple[list, list[str]]:
    text = (root / rel).read_text(encoding="utf-8")
    return chunk(text, rel, "s", folder=DocsFolder(root)), text.split("\n")


def by_anchor(frags) -> dict:
    return {f.anchor: f for f in frags if f.part == 0}


def outside_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def assert_clean(frags, source_lines: list[str]) -> None:
    """No markup in headings, breadcrumbs or text (outside code), and each section's first line
    is its heading line in the original file."""
    for f in frags:
        for label in (f.heading, *f.breadcrumb):
            assert "{" not in label and ":::" not in label, (f.ref, label)
        assert not MARKUP.search(outside_fences(f.text)), (f.ref, f.text)
        if f.level and f.part == 0:
            line = source_lines[f.line_start - 1]
            assert f.heading.split()[0] in line, (f.ref, f.line_start, line)


# --- mkdocs-material / Python-Markdown -------------------------------------------------------


@pytest.fixture(scope="module")
def mkdocs():
    return page(FIXTURES / "mkdocs" / "docs", "configuration.md")


def test_mkdocs_attr_lists_give_ids_and_leave_titles(mkdocs):
    frags, lines = mkdocs
    anchors = by_anchor(frags)
    assert anchors["defaults"].heading == "Defaults"  # `## Defaults { #defaults }`
    assert anchors["threads"].heading == "Threads & workers"  # `{#threads .setting data-toc-label=…}`
    assert anchors["plugin-api"].heading == "Plugins"  # `{: #plugin-api }`
    assert anchors["output-format"].heading == "Output format"  # `{ .setting }`: slug of the text
    assert anchors["defaults"].line_start == 5 and lines[4].startswith("## Defaults")
    assert_clean(frags, lines)


def test_mkdocs_site_uses_python_markdown_slugs(mkdocs, tmp_path):
    frags, _ = mkdocs
    anchors = [f.anchor for f in frags if f.part == 0]
    # toc: `&` dropped and the hyphen run collapsed; a repeated heading gets `_1`.
    assert "errors-exit-codes" in anchors
    assert anchors.count("example") == 1 and "example_1" in anchors
    # The same page outside an mkdocs project keeps GitHub's slugs.
    shutil.copy(FIXTURES / "mkdocs" / "docs" / "configuration.md", tmp_path / "configuration.md")
    plain = [f.anchor for f in page(tmp_path, "configuration.md")[0]]
    assert "errors--exit-codes" in plain and "example-1" in plain
    # A custom slugify in mkdocs.yml is code we cannot run: GitHub style.
    (tmp_path / "mkdocs.yml").write_text("markdown_extensions:\n  - toc:\n      slugify: !!python/name:x.y\n")
    assert DocsFolder(tmp_path).slug_style == "github"


def test_admonitions_and_tabs_are_text_not_code(mkdocs):
    frags, _ = mkdocs
    defaults = by_anchor(frags)["defaults"].text
    assert "**Where the file lives**\nThe file is looked up" in defaults  # `!!! note "…"`
    assert "**Tip**\nRun `tool config --show`" in defaults  # `??? tip`: its type as title
    assert "**Deprecated keys**" in defaults  # `???+ warning "…"`
    assert "```toml\n[tool]\nthreads = 4\n```" in defaults  # the fence inside, dedented, intact
    assert not any(line.startswith("    ") for line in defaults.split("\n"))
    threads = by_anchor(frags)["threads"].text
    assert "**tool.toml**" in threads and "Set `TOOL_THREADS=8`" in threads  # `=== "…"` tabs
    assert "**Piping the output**\nUse `json`" in by_anchor(frags)["output-format"].text  # `/// tip |`


def test_long_admonition_body_is_split_like_prose():
    body = "\n\n".join("    " + " ".join([f"word{n}"] * 30) for n in range(6))
    md = f"# T\n\n## Long\n\n!!! note\n{body}\n"
    parts = [f for f in chunk(md, "p.md", "s", max_tokens=80, overlap=0) if f.anchor == "long"]
    assert len(parts) > 2  # an indented code block would be one unsplittable part


def test_nested_admonitions_and_admonition_syntax_as_code():
    md = (
        '# T\n\n1. Install it.\n\n    !!! tip "In a list"\n        Nested.\n\n'
        "        ??? warning\n            Deeper.\n\n"
        "An example, as an indented code block:\n\n    !!! note\n        Literal.\n\n"
        "```md\n!!! note\n    Fenced literal.\n::: tip\n:::\n```\n"
    )
    text = chunk(md, "p.md", "s")[0].text
    assert "**In a list**" in text and "**Warning**\n    Deeper." in text
    assert "    !!! note\n        Literal." in text
    assert "```md\n!!! note\n    Fenced literal.\n::: tip\n:::\n```" in text


def test_snippets_are_included_from_inside_the_folder_only(mkdocs):
    frags, _ = mkdocs
    anchors = by_anchor(frags)
    assert 'format = "json"' in anchors["example"].text  # `--8<-- "snippets/example.toml"`
    plugins = anchors["plugin-api"].text
    # `--8<-- "snippets/plugin.py:register"` inside a fence: that section, markers removed.
    assert '@tool.plugin("greeter")' in plugins and "unrelated" not in plugins and "[start:" not in plugins
    assert "Plugins are loaded in the order" in plugins  # block form; the missing file dropped
    assert "site_name" not in plugins  # `../mkdocs.yml` is outside the indexed folder
    assert plugins.count("Loop text before.") == 1  # a snippet that includes itself
    assert '```markdown\n--8<-- "not/a/real/file.md"\n```' in plugins  # unresolved in a fence: kept
    assert "*[TOML]" not in plugins  # abbreviation definitions are not text
    # Included lines point at the include line.
    assert anchors["example"].line_start == 46 and anchors["example"].line_end == 48


def test_include_depth_is_bounded(tmp_path):
    for n in range(20):
        (tmp_path / f"p{n}.md").write_text(f'level {n}\n\n--8<-- "p{n + 1}.md"\n')
    text = chunk((tmp_path / "p0.md").read_text(), "p0.md", "s", folder=DocsFolder(tmp_path))[0].text
    assert "level 8" in text and "level 12" not in text


def test_snippet_escape_shows_the_line():
    md = '# T\n\nWrite it like this:\n\n;--8<-- "snippets/example.toml"\n'
    assert chunk(md, "p.md", "s", folder=DocsFolder(FIXTURES / "mkdocs" / "docs"))[0].text.endswith(
        '\n--8<-- "snippets/example.toml"'
    )


def test_without_a_folder_includes_are_dropped():
    md = '# T\n\nBefore.\n\n--8<-- "x.md"\n\n{* ../../docs_src/app.py *}\n\nAfter.\n'
    assert chunk(md, "p.md", "s")[0].text == "Before.\n\nAfter."


# --- FastAPI ---------------------------------------------------------------------------------


def test_fastapi_code_includes():
    frags, lines = page(FIXTURES / "fastapi", "docs/en/docs/tutorial/first-steps.md")
    anchors = by_anchor(frags)
    lead = anchors["first-steps"].text
    assert lead.startswith("The simplest FastAPI file")
    assert "```python\nfrom fastapi import FastAPI" in lead and 'return {"message": "Hello World"}' in lead
    assert "**Note**\n\nThe command `fastapi dev`" in lead  # `/// note` … `///`
    assert "termy" not in lead  # `<div class="termy">` wrapper line
    step2 = anchors["step-2-create-a-fastapi-instance"]
    assert step2.heading == 'Step 2: create a FastAPI "instance"'
    assert "```python\napp = FastAPI()\n```" in step2.text  # `ln[3:3]`
    assert "missing" not in step2.text and "etc/hostname" not in step2.text
    assert "**Technical Details**" in anchors["step-1-import-fastapi"].text  # `/// note | …`
    assert_clean(frags, lines)


# --- VitePress, VuePress, Docusaurus ---------------------------------------------------------


def test_vitepress_containers_components_and_scripts():
    frags, lines = page(FIXTURES / "vitepress", "guide/reactivity.md")
    anchors = by_anchor(frags)
    assert [f.anchor for f in frags] == [
        "reactivity-basics",
        "declaring-state",
        "installing",
        "writing-containers",
        "setext-headings-work",
        "html-heading",
    ]
    top = anchors["reactivity-basics"]
    assert top.text.startswith("**API Preference**\nThis page shows the Composition API.")
    assert top.text.endswith("at the top of the sidebar.") and top.text.count("\n") == 1
    assert "<script" not in top.text and "import { ref }" not in top.text  # hoisted by VitePress
    state = anchors["declaring-state"]
    assert state.heading == "Declaring State"  # the inline <Badge> and `{#…}` are not title text
    assert "composition-api" not in state.text and "</div>" not in state.text
    assert "**Why refs?**\nRefs make plain values trackable." in state.text  # `::: details …`
    installing = anchors["installing"].text
    assert installing.count("```sh") == 3 and "CodeGroup" not in installing  # `::: code-group`, tags
    containers = anchors["writing-containers"].text
    assert "```md\n::: warning\nThis is a warning.\n:::\n```" in containers  # in a fence: code
    assert containers.endswith("**Caution**\nDo not mutate props.")
    assert anchors["setext-headings-work"].line_start == 75
    assert anchors["html-heading"].text == "Both kinds keep their anchors."
    assert_clean(frags, lines)


def test_html_heading_inside_an_html_block_stays_text():
    # markdown-it keeps `<h3>` inside the `<div>` block as raw HTML: no id on the site, so no
    # anchor here either; the wrapper line is still not text.
    md = '# T\n\n## Rule {#rule}\n\n<div class="style-example">\n<h3>Bad</h3>\n\nBad code.\n\n</div>\n'
    frags = chunk(md, "p.md", "s")
    assert [f.anchor for f in frags] == ["rule"]
    assert frags[0].text == "<h3>Bad</h3>\n\nBad code."


def test_docusaurus_mdx():
    frags, lines = page(FIXTURES / "docusaurus", "docs/installation.mdx")
    anchors = by_anchor(frags)
    lead = anchors[""]
    assert lead.title == "Installation" and lead.line_start == 13
    assert lead.text == "Docusaurus is a static site generator for documentation sites."  # no import/export
    assert "**Use the latest LTS**" in anchors["requirements"].text  # `:::tip[…]`
    scaffold = anchors["scaffold-a-project"].text
    assert "Tabs" not in scaffold and "groupId" not in scaffold and "TabItem" not in scaffold
    assert scaffold.count("```bash") == 2 and "**Note**" in scaffold
    assert_clean(frags, lines)


# --- kramdown / Jekyll, Hugo -----------------------------------------------------------------


def test_kramdown_ials_and_toc():
    frags, lines = page(FIXTURES / "jekyll", "docs/customization.md")
    anchors = by_anchor(frags)
    assert list(anchors) == ["table-of-contents", "color-schemes", "custom-schemes", "callouts"]
    assert anchors["color-schemes"].line_start == 18  # the heading, not its `{: #…}` line
    assert anchors["custom-schemes"].heading == "Custom schemes"  # `{: #custom-schemes}` inline
    assert "TOC" not in anchors["table-of-contents"].text  # `1. TOC` + `{:toc}` placeholder
    assert "Set `color_scheme: dark`" in anchors["color-schemes"].text
    assert "```liquid\n{% include nav.html %}\n```" in anchors["custom-schemes"].text
    assert "{% raw %}" not in anchors["custom-schemes"].text
    assert_clean(frags, lines)


def test_hugo_shortcodes_and_toml_front_matter():
    frags, lines = page(FIXTURES / "hugo", "content/docs/writing.md")
    anchors = by_anchor(frags)
    assert anchors[""].title == "Writing docs" and "+++" not in anchors[""].text
    callouts = "A note renders as a highlighted box.\n\nShortcodes with `%` delimiters render their inner"
    assert anchors["callouts"].text == callouts + " **markdown**."
    assert anchors["tabs"].text == "Install with your package manager.\n\nInstall with Homebrew."
    links = anchors["links"].text
    assert "[configuration page](configuration.md)" in links and "[the FAQ](/faq)" in links
    assert "`{{< note >}}`" in links  # `{{</* note */>}}` shows the shortcode itself
    assert_clean(frags, lines)


# --- the pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title { #id }", ("Title", "id")),
        ("Title {#id .class}", ("Title", "id")),
        ('Title { .class #id data-x="y z" }', ("Title", "id")),
        ("Title {: #id }", ("Title", "id")),
        ("Title { .class }", ("Title", None)),
        ("Policy {#vue.js-privacy-policy}", ("Policy", "vue.js-privacy-policy")),
        ("Unnumbered {-}", ("Unnumbered", None)),
        ("fs.rmdir(path, { recursive: true })", None),
        ("Sets {a, b}", None),
        ("Mustache {{ count }}", None),
        ("Plain", None),
    ],
)
def test_split_attrs(text, expected):
    assert split_attrs(text) == expected


def test_rewrite_keeps_one_line_per_line():
    for fixture in sorted(FIXTURES.rglob("*.md*")):
        lines = fixture.read_text().split("\n")
        assert len(rewrite(lines)) == len(lines), fixture


def test_indexer_reads_includes(tmp_path, embedder):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "mkdocs" / "docs", docs)
    settings = make_settings(tmp_path / "idx")
    Indexer(settings, embedder=embedder).index(docs)
    from docsearch.store.tables import IndexReader

    reader = IndexReader(settings.index)
    frags = reader.take_fragments(list(range(reader.meta.count)))
    example = next(f for f in frags if f.path == "configuration.md" and f.anchor == "example")
    assert 'format = "json"' in example.text


def test_an_included_file_changing_updates_the_page_that_includes_it(tmp_path, embedder):
    """The page's own bytes did not change, but what it shows did: the chunk cache must not
    hand back its old fragments."""
    from docsearch.store.tables import IndexReader

    docs = tmp_path / "docs"
    (docs / "snippets").mkdir(parents=True)
    (docs / "page.md").write_text('# Page\n\n## Limits\n\n--8<-- "snippets/limits.md"\n', encoding="utf-8")
    (docs / "snippets" / "limits.md").write_text("The limit is seven widgets.\n", encoding="utf-8")
    settings = make_settings(tmp_path / "idx")

    def limits_text() -> str:
        reader = IndexReader(settings.index)
        frags = reader.take_fragments(list(range(reader.meta.count)))
        return next(f.text for f in frags if f.path == "page.md" and f.anchor == "limits")

    Indexer(settings, embedder=embedder).index(docs)
    assert "seven widgets" in limits_text()
    (docs / "snippets" / "limits.md").write_text("The limit is nine gadgets.\n", encoding="utf-8")
    Indexer(settings, embedder=embedder).index(docs)
    assert "nine gadgets" in limits_text() and "seven" not in limits_text()


def test_chunk_defaults_are_the_settings_defaults():
    import inspect

    from docsearch.settings import Settings

    params = inspect.signature(chunk).parameters
    assert (params["max_tokens"].default, params["overlap"].default) == (
        Settings().chunk_tokens,
        Settings().chunk_overlap,
    )
