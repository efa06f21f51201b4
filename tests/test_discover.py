import os

from docsearch.index.discover import discover


def write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def paths(found):
    return [d.path for d in found.documents]


def reasons(found):
    return {s.path: s.reason for s in found.skipped}


def test_finds_markdown_recursively_and_skips_hidden_and_gitignored(tmp_path):
    write(tmp_path / "a.md", "# A")
    write(tmp_path / "b.markdown", "# B")
    write(tmp_path / "sub/c.mdx", "# C")
    write(tmp_path / "notes.txt", "no")
    write(tmp_path / ".hidden/d.md", "# D")
    write(tmp_path / ".secret.md", "# S")
    write(tmp_path / ".gitignore", "build/\n*.draft.md\n")
    write(tmp_path / "build/e.md", "# E")
    write(tmp_path / "x.draft.md", "# X")
    write(tmp_path / "sub/.gitignore", "private.md\n")
    write(tmp_path / "sub/private.md", "# P")
    write(tmp_path / "private.md", "# kept: the nested .gitignore only applies below sub/")
    assert paths(discover(tmp_path)) == ["a.md", "b.markdown", "private.md", "sub/c.mdx"]


def test_include_and_exclude_globs(tmp_path):
    write(tmp_path / "api/x.md", "# X")
    write(tmp_path / "guide/y.md", "# Y")
    write(tmp_path / "guide/drafts/z.md", "# Z")
    assert paths(discover(tmp_path, include=["api/**"])) == ["api/x.md"]
    assert paths(discover(tmp_path, exclude=["drafts/"])) == ["api/x.md", "guide/y.md"]


def test_bad_files_are_counted_not_fatal(tmp_path):
    write(tmp_path / "good.md", "# Good")
    write(tmp_path / "empty.md", "  \n")
    write(tmp_path / "binary.md", b"\x89PNG\x00\x00data")
    write(tmp_path / "big.md", "x" * 5000)
    write(tmp_path / "latin1.md", "# Caf\xe9".encode("latin-1"))
    os.symlink(tmp_path / "missing.md", tmp_path / "dangling.md")
    found = discover(tmp_path, max_file_bytes=1000)
    assert paths(found) == ["good.md", "latin1.md"]
    assert reasons(found) == {
        "empty.md": "empty",
        "binary.md": "binary",
        "big.md": "larger than 1000 bytes",
        "dangling.md": "unreadable",
    }
    assert [w.path for w in found.warnings] == ["latin1.md"]
    assert "\ufffd" in next(d.text for d in found.documents if d.path == "latin1.md")


def test_symlink_loop_does_not_hang(tmp_path):
    write(tmp_path / "docs/a.md", "# A")
    os.symlink(tmp_path / "docs", tmp_path / "docs/loop")
    found = discover(tmp_path)
    assert paths(found) == ["docs/a.md"]
    assert any("symlink loop" in s.reason for s in found.skipped)


def test_symlinks_out_of_the_folder_are_skipped_and_listed(tmp_path):
    """Issue 12.2: a link to a file or folder outside the indexed folder put its text (a
    credentials file, /etc) into the index; now it is skipped unless follow_symlinks."""
    docs, elsewhere = tmp_path / "docs", tmp_path / "elsewhere"
    write(docs / "a.md", "# A")
    write(docs / "inner/b.md", "# B")
    write(elsewhere / "secret.md", "AWSSECRETACCESSKEY=abc")
    write(elsewhere / "tree/c.md", "# C outside")
    os.symlink(elsewhere / "secret.md", docs / "notes.md")
    os.symlink(elsewhere / "tree", docs / "linked")
    os.symlink(docs / "inner/b.md", docs / "alias.md")  # inside: still read
    found = discover(docs)
    assert paths(found) == ["a.md", "alias.md", "inner/b.md"]
    assert reasons(found)["notes.md"] == "symlink out of the folder"
    assert reasons(found)["linked"] == "symlink out of the folder"
    assert all("AWSSECRET" not in d.text for d in found.documents)

    followed = discover(docs, follow_symlinks=True)
    assert {"notes.md", "linked/c.md"} <= set(paths(followed))


def test_only_regular_files_are_read(tmp_path):
    """Issue 12.3: a `.md` symlink to /dev/zero grew memory until the OOM killer, and a FIFO
    hung the run forever. Both are skipped at once now."""
    write(tmp_path / "a.md", "# A")
    os.mkfifo(tmp_path / "pipe.md")
    os.symlink("/dev/zero", tmp_path / "zero.md")
    found = discover(tmp_path, follow_symlinks=True)  # /dev is outside: allowed, still refused
    assert paths(found) == ["a.md"]
    assert reasons(found) == {"pipe.md": "not a regular file", "zero.md": "not a regular file"}
