"""Sources remember how they were built: re-index, `index` with no folder, `sources`, `remove`."""

import json
import shutil

import pytest

from docsearch.store.tables import read_meta

from .conftest import CORPUS, run_docsearch

run = run_docsearch


def paths(index) -> set[str]:
    p = run("ask", "docsearch", "--index", index, "--json", "--no-summary", "-k", "50")
    return {r["path"] for r in json.loads(p.stdout)["results"]}


def test_a_plain_reindex_keeps_the_excludes_and_says_so(tmp_path, docs):
    (docs / "drafts").mkdir()
    shutil.copy(CORPUS / "faq.md", docs / "drafts" / "faq.md")
    index = tmp_path / "idx"
    p = run("index", docs, "--index", index, "--exclude", "drafts/", "--base-url", "https://x.test/")
    assert p.returncode == 0, p.stderr
    source = read_meta(index).sources["docs"]
    assert source["exclude"] == ["drafts/"] and source["include"] == [] and source["root"] == str(docs)
    assert source["base_url"] == "https://x.test/" and source["follow_symlinks"] is False

    p = run("index", docs, "--index", index, "--json")
    summary = json.loads(p.stdout)
    assert summary["reused"] == ["--exclude drafts/"] and summary["added"] == 0 and summary["files"] == 3
    p = run("index", docs, "--index", index)
    assert "docs reuses --exclude drafts/ from its last run" in p.stderr
    assert not any(path.startswith("drafts/") for path in paths(index))

    # New globs replace the stored ones; '' clears them.
    p = run("index", docs, "--index", index, "--exclude", "", "--json")
    assert json.loads(p.stdout)["files"] == 4 and read_meta(index).sources["docs"]["exclude"] == []
    assert "drafts/faq.md" in paths(index)


def test_index_with_no_folder_reindexes_every_source(tmp_path, docs):
    index = tmp_path / "idx"
    guides = tmp_path / "guides"
    guides.mkdir()
    shutil.copy(CORPUS / "faq.md", guides / "faq.md")
    assert run("index", docs, "--index", index).returncode == 0
    assert run("index", guides, "--index", index, "--include", "faq.md").returncode == 0
    (docs / "new.md").write_text("# Brand new page\n\nText about zebras.\n")
    p = run("index", "--index", index, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)["sources"]
    assert [s["source"] for s in out] == ["docs", "guides"]
    assert out[0]["added"] > 0 and out[1]["reused"] == ["--include faq.md"]

    p = run("index", "--index", tmp_path / "empty")
    assert p.returncode == 3 and p.stderr.startswith("error: no folder given")


def test_index_with_no_folder_reports_each_missing_folder_and_indexes_the_rest(tmp_path, docs):
    index = tmp_path / "idx"
    folders = {name: tmp_path / name for name in ("alpha", "guides", "zulu")}
    for folder in folders.values():
        folder.mkdir()
        shutil.copy(CORPUS / "faq.md", folder / "faq.md")
        assert run("index", folder, "--index", index).returncode == 0
    assert run("index", docs, "--index", index).returncode == 0
    shutil.rmtree(folders["alpha"])  # the first source in order: it stopped the whole run
    shutil.rmtree(folders["zulu"])
    (docs / "new.md").write_text("# Brand new page\n\nText about zebras.\n")
    p = run("index", "--index", index, "--json")
    assert p.returncode == 3, p.stderr
    out = json.loads(p.stdout)
    assert [s["source"] for s in out["sources"]] == ["docs", "guides"]
    assert out["sources"][0]["added"] == 1
    assert out["missing"] == [
        {"source": "alpha", "root": str(folders["alpha"])},
        {"source": "zulu", "root": str(folders["zulu"])},
    ]
    errors = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: source {name}: folder not found: {folders[name]}; index it from where it is now "
        f"with `docsearch index DIR --source {name}`, or drop it with `docsearch remove {name}`"
        for name in ("alpha", "zulu")
    ]
    assert "Traceback" not in p.stderr
    p = run("index", "--index", index)  # the text summaries too
    assert p.returncode == 3 and "indexed docs:" in p.stdout and "indexed guides:" in p.stdout


def test_sources_lists_them_and_remove_drops_one_in_one_commit(tmp_path, docs):
    index = tmp_path / "idx"
    guides = tmp_path / "guides"
    guides.mkdir()
    shutil.copy(CORPUS / "faq.md", guides / "faq.md")
    run("index", docs, "--index", index, "--exclude", "storage.md")
    run("index", guides, "--index", index)
    p = run("sources", "--index", index)
    assert p.returncode == 0, p.stderr
    assert "docs: 2 files" in p.stdout and "--exclude storage.md" in p.stdout
    assert "guides: 1 file," in p.stdout and str(guides) in p.stdout
    listed = json.loads(run("sources", "--index", index, "--json").stdout)["sources"]
    assert [s["name"] for s in listed] == ["docs", "guides"] and listed[0]["exclude"] == ["storage.md"]

    before = read_meta(index)
    guide_fragments = before.sources["guides"]["fragments"]
    p = run("remove", "guides", "--index", index, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"source": "guides", "removed": guide_fragments}
    after = read_meta(index)
    assert after.commit == before.commit + 1 and set(after.sources) == {"docs"}
    assert after.count == before.count - guide_fragments
    p = run("ask", "docsearch", "--index", index, "--json", "--no-summary", "--source", "guides")
    assert p.returncode == 3  # gone, and said so
    p = run("status", "--check", "--index", index)
    assert p.returncode == 0, p.stdout  # every table and file as committed

    p = run("remove", "nosuch", "--index", index)
    assert p.returncode == 3 and "its sources: docs (" in p.stderr and p.stderr.count("\n") == 1


def test_an_interrupted_remove_leaves_the_index_as_it_was(tmp_path, docs, monkeypatch):
    """The removal is one commit: killed before meta.json is replaced, nothing changed."""
    from docsearch.index import sources
    from docsearch.store.writer import IndexWriter

    from .conftest import make_settings

    index = tmp_path / "idx"
    run("index", docs, "--index", index)
    before = read_meta(index)

    def crash(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexWriter, "commit", crash)
    with pytest.raises(KeyboardInterrupt):
        sources.remove_source(make_settings(index), "docs")
    assert read_meta(index).commit == before.commit and read_meta(index).count == before.count
    p = run("status", "--check", "--index", index)
    assert p.returncode == 0, p.stdout
    assert len(paths(index)) == 3
