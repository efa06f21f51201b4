"""`docsearch eval`: metric definitions against hand-computed values, judgments, variants."""

from __future__ import annotations

import json
import math

import pytest

from docsearch.errors import InputError
from docsearch.evaluate import load_qrels, score_ranking
from tests.conftest import run_docsearch


def test_metrics_match_a_hand_computed_case():
    judged = {"a": 2, "b": 1, "c": 2, "z": 0}
    # Ranked: x (unjudged), a (2), z (0), b (1); c (2) never retrieved.
    ranked = [{"x"}, {"a"}, {"z"}, {"b"}]
    ndcg, recall, mrr, share = score_ranking(ranked, judged, k=4)
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg == pytest.approx(dcg / idcg)
    assert recall == pytest.approx(1 / 2)  # a of {a, c}
    assert mrr == pytest.approx(1 / 2)  # first relevant at rank 2
    assert share == pytest.approx(3 / 4)  # a, z, b are judged
    # A result answering to several ids (a page's lead) counts once, with its best grade.
    assert score_ranking([{"x", "a"}], judged, k=1)[0] == pytest.approx(1.0)  # ideal cut at k too
    # Nothing relevant judged: Recall and MRR are undefined and skipped by the caller.
    _, r, m, _ = score_ranking([{"b"}], {"b": 1}, k=1)
    assert math.isnan(r) and math.isnan(m)


def test_judgments_file(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_text("# comment\nq1\texit codes\tcli.md#exit-codes\t2\nq1\texit codes\tcli.md#\t1\n\n")
    (only,) = load_qrels(path)
    assert only.query == "exit codes" and only.grades == {"cli.md#exit-codes": 2, "cli.md#": 1}
    path.write_text("q1\texit codes\tcli.md#exit-codes\n")
    with pytest.raises(InputError, match=r"q\.tsv:1: expected"):
        load_qrels(path)
    path.write_text("q1\texit codes\tcli.md#exit-codes\trelevant\n")
    with pytest.raises(InputError, match="grade must be"):
        load_qrels(path)
    with pytest.raises(InputError, match="not found"):
        load_qrels(tmp_path / "missing.tsv")


def test_cli_eval_compares_variants(tmp_path, corpus_index):
    qrels = tmp_path / "q.tsv"
    qrels.write_text(
        "q1\tdocsearch exit codes\tcli.md#exit-codes\t2\n"
        "q2\twhere is the index kept on disk\tstorage.md#the-index-on-disk\t2\n"
        # A lead judgment: `storage.md#` is the page's first fragment.
        "q3\tthe index on disk\tstorage.md#\t2\n"
    )
    p = run_docsearch("eval", qrels, "--index", corpus_index, "--json", "--k", "5", "--rerank-counts", "50")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    variants = {v["variant"]: v for v in data["variants"]}
    assert set(variants) == {
        "bm25 (title+heading+text)",
        "binary only",
        "float only (exact)",
        "0.5 bm25/max + 0.5 cosine",
        "hybrid (default)",
        "hybrid rerank_count=50",
    }
    hybrid = variants["hybrid (default)"]
    assert hybrid["queries"] == 3 and hybrid["recall"] == 1.0 and hybrid["mrr"] > 0.6
    assert all(0 <= v["ndcg"] <= 1 for v in data["variants"])
    # A template for other id styles: /en/{stem}.html#{anchor}.
    qrels.write_text("q1\tdocsearch exit codes\t/en/cli.html#exit-codes\t2\n")
    p = run_docsearch(
        "eval", qrels, "--index", corpus_index, "--json", "--id-template", "/en/{stem}.html#{anchor}"
    )
    by_name = {v["variant"]: v for v in json.loads(p.stdout)["variants"]}
    assert by_name["hybrid (default)"]["mrr"] == 1.0
    p = run_docsearch("eval", tmp_path / "nope.tsv", "--index", corpus_index)
    assert p.returncode == 3 and p.stderr.startswith("error: judgments file not found")


def test_cli_eval_fits_a_ranker_and_uses_it(tmp_path, corpus_index):
    qrels = tmp_path / "q.tsv"
    qrels.write_text(
        "q1\tdocsearch exit codes\tcli.md#exit-codes\t2\n"
        "q2\twhere is the index kept on disk\tstorage.md#the-index-on-disk\t2\n"
        "q3\tcrash while indexing\tstorage.md#crash-safety\t2\n"
    )
    model = tmp_path / "ranker.json"
    p = run_docsearch("eval", qrels, "--index", corpus_index, "--json", "--fit", model)
    assert p.returncode == 0, p.stderr
    fitted = json.loads(model.read_text())
    assert fitted["kind"] == "linear" and fitted["trained_on"] == [str(qrels)]
    variants = {v["variant"]: v for v in json.loads(p.stdout)["variants"]}
    # Fitting starts from the shipped model and keeps only changes that raise nDCG.
    assert variants["hybrid fitted (in-sample) ranker.json"]["ndcg"] >= variants["hybrid (default)"]["ndcg"]
    p = run_docsearch("eval", qrels, "--index", corpus_index, "--json", "--ranker", model)
    assert p.returncode == 0, p.stderr
    assert "hybrid ranker=ranker.json" in {v["variant"] for v in json.loads(p.stdout)["variants"]}
    # The setting uses it for every search: ask with DOCSEARCH_RANKER.
    p = run_docsearch(
        "ask", "exit codes", "--index", corpus_index, "--json", env={"DOCSEARCH_RANKER": str(model)}
    )
    assert p.returncode == 0, p.stderr
    (tmp_path / "bad.json").write_text("{}")
    p = run_docsearch("eval", qrels, "--index", corpus_index, "--ranker", tmp_path / "bad.json")
    assert p.returncode != 0 and "not a docsearch ranker model" in p.stderr and "Traceback" not in p.stderr
