from docsearch.index.chunk import chunk, count_tokens


def refs(fragments):
    return [f.ref for f in fragments]


def test_heading_in_code_fence_is_not_a_heading():
    md = "# Title\n\nIntro.\n\n```sh\n# not a heading\necho hi\n```\n\n## Real\n\nBody.\n"
    frags = chunk(md, "a.md", "s")
    assert refs(frags) == ["a.md#title", "a.md#real"]
    assert "# not a heading" in frags[0].text


def test_front_matter_title_and_lead_fragment():
    md = "---\ntitle: 'My Page'\ntags: [x]\n---\n\nLead text here.\n\n## Usage\n\nUse it.\n"
    frags = chunk(md, "dir/page.md", "s")
    lead, usage = frags
    assert lead.anchor == "" and lead.ref == "dir/page.md" and lead.level == 0
    assert lead.text == "Lead text here."
    assert lead.title == "My Page"
    assert usage.breadcrumb == ("My Page", "Usage")
    assert "title:" not in lead.text


def test_title_falls_back_to_h1_then_file_name():
    assert chunk("# Hello\n\ntext\n", "x.md", "s")[0].title == "Hello"
    assert chunk("## Sub\n\ntext\n", "some-file.md", "s")[0].title == "some-file"


def test_duplicate_headings_get_numbered_anchors():
    md = "# T\n\nx\n\n## Example\n\na\n\n## Example\n\nb\n\n## Example\n\nc\n"
    assert refs(chunk(md, "p.md", "s"))[1:] == ["p.md#example", "p.md#example-1", "p.md#example-2"]


def test_github_style_slugs():
    md = "# T\n\nx\n\n## `fs.readFile(path[, options], callback)`\n\ny\n\n## Exit codes & more!\n\nz\n"
    assert [f.anchor for f in chunk(md, "p.md", "s")][1:] == [
        "fsreadfilepath-options-callback",
        "exit-codes--more",
    ]


def test_explicit_ids_win():
    md = (
        "# T\n\nx\n\n"
        "## Curly {#custom-id}\n\na\n\n"
        '## Inline <a id="inline-id"></a> heading\n\nb\n\n'
        '<a id="before-id"></a>\n\n## Preceded\n\nc\n\n'
        '<h2 id="html-id">HTML heading</h2>\n\nd\n'
    )
    frags = chunk(md, "p.md", "s")
    assert [f.anchor for f in frags][1:] == ["custom-id", "inline-id", "before-id", "html-id"]
    assert frags[1].heading == "Curly"
    assert frags[4].heading == "HTML heading"
    # The <a id> line belongs to the heading, not to the previous section's text.
    assert "before-id" not in frags[2].text


def test_breadcrumbs_and_heading_only_sections_fold():
    md = "# Guide\n\nIntro.\n\n## API\n\n### open()\n\nOpens.\n\n### close()\n\nCloses.\n\n## Empty leaf\n"
    frags = chunk(md, "g.md", "s")
    assert refs(frags) == ["g.md#guide", "g.md#open", "g.md#close", "g.md#empty-leaf"]
    assert frags[1].breadcrumb == ("Guide", "API", "open()")
    assert frags[3].text == ""


def test_lines_are_one_based_and_point_at_the_heading():
    md = "# T\n\nx\n\n## Second\n\nline a\nline b\n"
    second = chunk(md, "p.md", "s")[1]
    assert second.line_start == 5
    assert second.line_end == 8


def test_crlf_and_unicode():
    md = "# Café\r\n\r\nÜber naïve text — ok.\r\n\r\n## 日本語\r\n\r\n本文\r\n"
    frags = chunk(md, "u.md", "s")
    assert frags[0].anchor == "café"
    assert frags[0].text == "Über naïve text — ok."
    assert "\r" not in frags[0].text
    assert frags[1].anchor == "日本語"


def test_html_comments_are_not_text():
    md = "# T\n\n<!-- YAML\nadded: v1\n-->\n\nVisible.\n"
    assert chunk(md, "p.md", "s")[0].text == "Visible."


def test_long_section_is_split_but_never_inside_code():
    para = " ".join(["word"] * 60)
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(80)) + "\n```"
    md = "# T\n\n## Long\n\n" + "\n\n".join([para] * 6 + [code] + [para] * 6) + "\n"
    frags = [f for f in chunk(md, "p.md", "s", max_tokens=200, overlap=20) if f.anchor == "long"]
    assert len(frags) > 3
    assert [f.part for f in frags] == list(range(len(frags)))
    assert {f.breadcrumb for f in frags} == {("T", "Long")}
    ids = {f.id for f in frags}
    assert len(ids) == len(frags)
    # The code block appears whole in exactly one part, with both fences.
    with_code = [f for f in frags if "x0 = 0" in f.text]
    assert len(with_code) == 1 and "x79 = 79" in with_code[0].text
    assert with_code[0].text.count("```") == 2
    # Prose parts stay within budget (a code block may exceed it on its own).
    assert all(f.token_count <= 200 + 20 for f in frags if "```" not in f.text)


def test_ids_and_hashes_are_stable():
    md = "# T\n\nx\n\n## A\n\ny\n"
    a, b = chunk(md, "p.md", "s"), chunk(md, "p.md", "s")
    assert [f.id for f in a] == [f.id for f in b]
    assert [f.content_hash for f in a] == [f.content_hash for f in b]
    changed = chunk(md.replace("y", "z"), "p.md", "s")
    assert changed[1].id == a[1].id and changed[1].content_hash != a[1].content_hash
    assert chunk(md, "p.md", "other")[1].id != a[1].id


def test_count_tokens():
    assert count_tokens("fs.readFile(path)") == 6


def test_attribute_lists_are_ids_never_title_text():
    md = "# T\n\nx\n\n## Defaults { #defaults }\n\na\n\n## Output { .setting }\n\nb\n\n## Kram {: #k }\n\nc\n"
    frags = chunk(md, "p.md", "s")
    assert [(f.anchor, f.heading) for f in frags][1:] == [
        ("defaults", "Defaults"),
        ("output", "Output"),
        ("k", "Kram"),
    ]
    assert frags[1].breadcrumb == ("T", "Defaults") and frags[1].line_start == 5


def test_link_reference_definitions_are_not_text():
    # Node's pages end with their link definitions: they must not become the last section's
    # text (BM25 and the embedding would match the link labels), nor a part of their own.
    body = "\n\n".join(f"Paragraph {n} about reading streams line by line." for n in range(40))
    defs = "\n".join(f"[`fs.Thing{n}`]: fs.md#thing-{n}" for n in range(60))
    md = f"# Page\n\nSee [`fs.Thing1`][] and [a label][x].\n\n## Last\n\n{body}\n\n[x]: https://example.com\n{defs}\n"
    fragments = chunk(md, "p.md", "s")
    assert fragments and all("]: " not in f.text for f in fragments)
    assert all(f.text.strip() for f in fragments)
    assert "[`fs.Thing1`][]" in fragments[0].text  # the references themselves stay
    last = max(fragments, key=lambda f: f.line_end)
    assert last.line_end == md.split("\n").index("Paragraph 39 about reading streams line by line.") + 1
