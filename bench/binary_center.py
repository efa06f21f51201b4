"""Does subtracting the corpus mean before taking sign bits help the binary phase?

    python bench/binary_center.py /tmp/nidx4 bench/qrels/nodejs.tsv /tmp/vidx4 bench/qrels/vue.tsv

For each (index, judgments) pair, from the index's committed float vectors:
  binary-only nDCG@12   judged queries ranked by hamming distance alone, sign bits taken
                        raw and after subtracting the mean document vector (from query and
                        documents alike)
  doc→doc recall        for 256 sampled documents used as queries, the share of their 10
                        nearest documents by cosine that the hamming top 20 holds
Anisotropic models (all vectors in a narrow cone, E5's mean cosine is ~0.8) lose most binary
recall raw; this measures whether the offline model does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from docsearch.embed.base import pack_sign_bits
from docsearch.embed.models import load_query_embedder
from docsearch.evaluate import doc_ids, first_fragments, load_qrels, ndcg
from docsearch.settings import Settings
from docsearch.store.tables import IndexReader


def hamming(queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
    a = np.unpackbits(pack_sign_bits(queries), axis=1).astype(np.float32)
    b = np.unpackbits(pack_sign_bits(docs), axis=1).astype(np.float32)
    return a @ (1 - b).T + (1 - a) @ b.T


def binary_ndcg(index: str, qrels: str, center: np.ndarray | None, k: int = 12) -> float:
    reader = IndexReader(Path(index))
    vectors = reader.all_vectors()
    rows = reader.fragments.to_table(columns=["path", "anchor"]).to_pylist()
    firsts = first_fragments(reader)
    embedder = load_query_embedder(Settings.resolve({"index": index}), reader.meta.document_model)
    shift = 0 if center is None else center
    docs = vectors - shift
    scores = []
    for j in load_qrels(Path(qrels)):
        q = (embedder.embed_query(j.query) - shift)[None, :]
        order = np.argsort(hamming(q, docs)[0], kind="stable")
        seen: set[tuple[str, str]] = set()
        gains: list[int] = []
        for i in order:
            r = rows[i]
            if (r["path"], r["anchor"]) in seen:
                continue
            seen.add((r["path"], r["anchor"]))
            ids = doc_ids(r["path"], r["anchor"], "{path}#{anchor}", firsts)
            gains.append(max((j.grades.get(d, 0) for d in ids), default=0))
            if len(gains) == k:
                break
        scores.append(ndcg(gains, j.grades, k))
    return float(np.mean(scores))


def neighbour_recall(
    vectors: np.ndarray, center: np.ndarray | None, k_float: int = 10, k_bin: int = 20
) -> float:
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(len(vectors), min(len(vectors), 4096), replace=False)]
    queries = sample[:256]
    shift = 0 if center is None else center
    dist = hamming(queries - shift, sample - shift)
    cos = queries @ sample.T
    hits = 0
    for i in range(len(queries)):
        nearest = set(np.argsort(-cos[i])[1 : k_float + 1].tolist())  # [0] is the query itself
        hits += len(nearest & set(np.argsort(dist[i], kind="stable")[:k_bin].tolist()))
    return hits / (len(queries) * k_float)


def main() -> int:
    args = sys.argv[1:]
    print("| index | mean-vector norm | binary nDCG@12 raw | centred | doc→doc recall raw | centred |")
    print("|---|---|---|---|---|---|")
    for index, qrels in zip(args[::2], args[1::2], strict=True):
        vectors = IndexReader(Path(index)).all_vectors()
        mean = vectors.mean(0)
        print(
            f"| {index} | {np.linalg.norm(mean):.2f} | {binary_ndcg(index, qrels, None):.3f} | "
            f"{binary_ndcg(index, qrels, mean):.3f} | {neighbour_recall(vectors, None):.3f} | "
            f"{neighbour_recall(vectors, mean):.3f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
