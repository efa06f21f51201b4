"""Ranking lab: per-candidate signals for every judged query of an index, dumped once, so that
field choices and fusion formulas can be compared in seconds instead of re-indexing.

    python bench/rank_lab.py dump /tmp/nidx bench/qrels/nodejs.tsv /tmp/lab-node.pkl
    python bench/rank_lab.py dump /tmp/vidx bench/qrels/vue.tsv /tmp/lab-vue.pkl

The dump holds, per query, the candidates (union of each keyword field's top 200 and the
cosine top 200 over every fragment), their BM25 score in several single-field indexes built
here from the index's fragments with the product's tokenizer settings, the exact cosine, and
the judged grade of each candidate. This is for diagnosis only: the product computes its
features in docsearch/search/features.py.
"""

from __future__ import annotations

import pickle
import re
import shutil
import sys
from pathlib import Path

import numpy as np

from docsearch.evaluate import doc_ids, first_fragments, load_qrels, ndcg
from docsearch.index.fields import identifier_parts
from docsearch.settings import Settings
from docsearch.store.tables import IndexReader

TOP = 200


def parts(text: str) -> str:
    return " ".join(identifier_parts(text))


def lab_fields(rows: list[dict]) -> dict[str, list[str]]:
    f: dict[str, list[str]] = {k: [] for k in ("all", "allx", "allp", "heading", "title", "text", "crumbs")}
    for r in rows:
        heading = r["heading"] or r["title"]
        f["all"].append(f"{r['title']} - {r['heading']} {r['text']}")
        f["allx"].append(
            f"{r['title']} - {r['heading']} {parts(r['title'] + ' ' + r['heading'])} {r['text']}"
        )
        f["heading"].append(f"{heading} {parts(heading)}")
        path_words = re.sub(r"[/._\-]+", " ", r["path"].rsplit(".", 1)[0])
        f["title"].append(f"{r['title']} {parts(r['title'])} {path_words}")
        f["text"].append(r["text"])
        f["allp"].append(f"{f['allx'][-1]} {path_words}")
        f["crumbs"].append(" ".join(r["breadcrumb"]) + " " + parts(" ".join(r["breadcrumb"])))
    return f


def read_format(index: Path) -> int:
    import json

    return int(json.loads((index / "meta.json").read_text())["format"])


def dump(index: str, qrels: str, out: str) -> None:
    import lancedb
    import pyarrow as pa
    from lance.query import MatchQuery

    import docsearch.store.meta as meta_module
    from docsearch.embed.models import load_query_embedder

    settings = Settings.resolve({"index": index})
    meta_module.FORMAT_VERSION = read_format(Path(index))  # the lab reads older indexes too
    reader = IndexReader(Path(index))
    table = reader.fragments.to_table(
        columns=[
            "id",
            "path",
            "anchor",
            "part",
            "title",
            "heading",
            "breadcrumb",
            "level",
            "text",
            "token_count",
            "line_start",
        ]
    )
    rows = table.to_pylist()
    ids_float = reader.float.to_table(columns=["id"]).column("id").to_numpy()
    assert np.array_equal(ids_float, table.column("id").to_numpy())
    vectors = reader.all_vectors()
    embedder = load_query_embedder(settings, reader.meta.document_model)

    lab = Path("/tmp") / ("lab-db-" + Path(index).name)
    shutil.rmtree(lab, ignore_errors=True)
    db = lancedb.connect(str(lab))
    fields = lab_fields(rows)
    data = pa.table({"pos": np.arange(len(rows)), **fields})
    t = db.create_table("f", data)
    for name in fields:
        t.create_fts_index(name, replace=True, use_tantivy=False, with_position=True)
    ds = t.to_lance()

    firsts = first_fragments(reader)
    queries = []
    for j in load_qrels(Path(qrels)):
        bm: dict[str, dict[int, float]] = {}
        for name in fields:
            try:
                res = ds.to_table(
                    columns=["pos", "_score"], full_text_query=MatchQuery(j.query, name), limit=TOP
                )
                bm[name] = dict(
                    zip(res.column("pos").to_pylist(), res.column("_score").to_pylist(), strict=True)
                )
            except (ValueError, RuntimeError, OSError):
                bm[name] = {}
        q = embedder.embed_query(j.query)
        cos = vectors @ q
        top_cos = np.argsort(-cos)[:TOP]
        cand = sorted(set(top_cos.tolist()).union(*[set(d) for d in bm.values()]))
        grades = []
        for p in cand:
            refs = doc_ids(rows[p]["path"], rows[p]["anchor"], "{path}#{anchor}", firsts)
            grades.append(max((j.grades.get(x, 0) for x in refs), default=0))
        queries.append(
            {
                "qid": j.qid,
                "query": j.query,
                "judged": j.grades,
                "cand": np.array(cand),
                "bm25": {n: np.array([d.get(p, 0.0) for p in cand], np.float32) for n, d in bm.items()},
                "cos": cos[cand].astype(np.float32),
                "grade": np.array(grades),
            }
        )
    meta = [{k: r[k] for k in ("path", "anchor")} for r in rows]
    with open(out, "wb") as f:
        pickle.dump({"rows": meta, "queries": queries}, f)
    print(f"{len(queries)} queries, {len(rows)} fragments -> {out}")


# -- offline evaluation of formulas over a dump ------------------------------------------------


def load(path: str) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f)


def ndcg_of(lab: dict, q: dict, score: np.ndarray, k: int = 12) -> float:
    rows = lab["rows"]
    order = np.argsort(-score, kind="stable")
    seen: set[tuple[str, str]] = set()
    gains: list[int] = []
    for i in order:
        r = rows[q["cand"][i]]
        key = (r["path"], r["anchor"])
        if key in seen:
            continue
        seen.add(key)
        gains.append(int(q["grade"][i]))
        if len(gains) == k:
            break
    return ndcg(gains, q["judged"], k)


def mean_ndcg(lab: dict, fn) -> float:
    return float(np.mean([ndcg_of(lab, q, fn(q)) for q in lab["queries"]]))


def norm_max(x: np.ndarray) -> np.ndarray:
    m = float(x.max()) if len(x) else 0.0
    return x / m if m > 0 else x


def norm_minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def rrf(x: np.ndarray, present: np.ndarray | None = None, k: int = 60) -> np.ndarray:
    order = np.argsort(-x, kind="stable")
    rank = np.empty(len(x))
    rank[order] = np.arange(1, len(x) + 1)
    out = 1.0 / (k + rank)
    if present is not None:
        out = np.where(present, out, 0.0)
    return out


def baselines(lab: dict) -> dict[str, float]:
    b = lambda n: lambda q: np.where(q["bm25"][n] > 0, q["bm25"][n], -1)  # noqa: E731
    out = {f"bm25 {n}": mean_ndcg(lab, b(n)) for n in lab["queries"][0]["bm25"]}
    out["cosine"] = mean_ndcg(lab, lambda q: q["cos"])
    out["0.5 bm25all/max + 0.5 cos"] = mean_ndcg(
        lab, lambda q: 0.5 * norm_max(q["bm25"]["all"]) + 0.5 * q["cos"]
    )
    out["0.5 bm25all/max + 0.5 minmax cos"] = mean_ndcg(
        lab, lambda q: 0.5 * norm_max(q["bm25"]["all"]) + 0.5 * norm_minmax(q["cos"])
    )
    out["rrf bm25all + cos"] = mean_ndcg(
        lab, lambda q: rrf(q["bm25"]["all"], q["bm25"]["all"] > 0) + rrf(q["cos"])
    )
    out["multi 3h+1.5c+1t (approx today)"] = mean_ndcg(
        lab,
        lambda q: np.where(
            (s := 3 * q["bm25"]["heading"] + 1.5 * q["bm25"]["title"] + q["bm25"]["text"]) > 0, s, -1
        ),
    )
    return out


if __name__ == "__main__":
    if sys.argv[1] == "dump":
        dump(*sys.argv[2:5])
