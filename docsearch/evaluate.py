"""`docsearch eval`: relevance judgments in, nDCG / Recall / MRR / Judged out, per variant.

Judgments are TSV lines `qid <TAB> query <TAB> doc_id <TAB> grade` (2 relevant, 1 partly
relevant, 0 not), the format search.vespa.ai's evaluation uses. A doc id is `path#anchor`
relative to the indexed folder, or any other style through an id template such as
`/en/{stem}.html#{anchor}` ({path}, {stem} and {anchor} are filled in). An id whose anchor is
empty (`page.md#`, or `page.md`) means the page's lead: the page's first fragment.

Metrics, with k the cut-off and grades as judged (unjudged = 0):
    nDCG@k    Σ grade_i / log2(i + 1) over the top k, divided by the same sum for the ideal
              order of all judged grades (linear gain, as trec_eval)
    Recall@k  relevant (grade ≥ 2) found in the top k / all relevant
    MRR@k     1 / rank of the first relevant result in the top k (0 if none)
    Judged@k  share of the top k that has a judgment, any grade: how far to trust the rest
Queries without any relevant judgment are skipped for Recall and MRR.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from docsearch.errors import InputError
from docsearch.search.features import feature_matrix
from docsearch.search.ranker import TrainingQuery
from docsearch.search.searcher import Searcher, SearchOptions
from docsearch.store.tables import IndexReader

RELEVANT = 2


@dataclass(slots=True)
class Judged:
    qid: str
    query: str
    grades: dict[str, int] = field(default_factory=dict)


def load_qrels(path: Path) -> list[Judged]:
    if not path.is_file():
        raise InputError(f"judgments file not found: {path}")
    queries: dict[str, Judged] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row or not "".join(row).strip() or row[0].startswith("#"):
                continue
            if len(row) != 4:
                raise InputError(f"{path}:{n}: expected qid, query, doc id, grade separated by tabs")
            qid, query, doc, grade = (c.strip() for c in row)
            try:
                value = int(grade)
            except ValueError:
                raise InputError(f"{path}:{n}: grade must be 0, 1 or 2, got {grade!r}") from None
            judged = queries.setdefault(qid, Judged(qid, query))
            judged.grades[doc] = max(value, judged.grades.get(doc, 0))
    if not queries:
        raise InputError(f"{path} holds no judgments")
    return list(queries.values())


def synthetic_judgments(reader: IndexReader, sample: int, seed: int = 0) -> list[Judged]:
    """A free relevance set: each fragment's held-out generated question (written by the LLM
    at index time but never indexed) as a query, judged relevant to that fragment alone.
    Doc ids are `path#anchor` (the default id template).

    Fragments whose text is repeated elsewhere in the index are skipped, since their copies
    answer the question just as well. `sample` picks that many at random (seeded, so runs
    compare), 0 takes all.
    """
    import random

    with reader.guard():
        table = reader.fragments.to_table(columns=["path", "anchor", "content_hash", "held_out_question"])
    rows = table.to_pylist()
    hash_count = Counter(row["content_hash"] for row in rows)
    judged: list[Judged] = []
    for row in rows:
        question = row["held_out_question"]
        if not question or hash_count[row["content_hash"]] > 1:
            continue
        ref = f"{row['path']}#{row['anchor']}"
        judged.append(Judged(f"s{len(judged) + 1}", question, {ref: RELEVANT}))
    if not judged:
        raise InputError(
            "this index has no held-out questions: index with --questions (an LLM writes 3 or "
            "more questions per fragment and one is kept out of the index for evaluation)"
        )
    if 0 < sample < len(judged):
        judged = random.Random(seed).sample(judged, sample)
    return judged


def doc_ids(path: str, anchor: str, template: str, firsts: set[tuple[str, str]]) -> set[str]:
    """The ids a fragment answers to: its own, and when it is its page's first fragment (one
    of `firsts`, see first_fragments) or the lead, the ids that mean "this page's lead" too —
    the template with an empty anchor, with or without '#'."""
    stem = str(PurePosixPath(path).with_suffix(""))
    ids = {template.format(path=path, stem=stem, anchor=anchor)}
    if (path, anchor) in firsts or not anchor:
        lead = template.format(path=path, stem=stem, anchor="")
        ids |= {lead, lead.rstrip("#")}
    return ids


def ndcg(grades: Sequence[int], judged: dict[str, int], k: int) -> float:
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(grades[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


@dataclass(slots=True)
class Scores:
    ndcg: float = 0.0
    recall: float = 0.0
    mrr: float = 0.0
    judged: float = 0.0
    queries: int = 0
    latency_ms: float = 0.0  # median search time

    def as_json(self) -> dict[str, float | int]:
        return {
            "ndcg": round(self.ndcg, 4),
            "recall": round(self.recall, 4),
            "mrr": round(self.mrr, 4),
            "judged": round(self.judged, 4),
            "queries": self.queries,
            "latency_ms": round(self.latency_ms, 2),
        }


def score_ranking(
    ranked: Sequence[set[str]], judged: dict[str, int], k: int
) -> tuple[float, float, float, float]:
    """(nDCG, Recall, MRR, Judged) of one ranking; each entry is the ids a result answers to."""
    grades: list[int] = []
    hit_judged = 0
    found: set[str] = set()
    first_relevant = 0
    for rank, ids in enumerate(ranked[:k], 1):
        matches = [d for d in ids if d in judged]
        grade = max((judged[d] for d in matches), default=0)
        grades.append(grade)
        hit_judged += bool(matches)
        if grade >= RELEVANT:
            found.update(d for d in matches if judged[d] >= RELEVANT)
            if not first_relevant:
                first_relevant = rank
    relevant = {d for d, g in judged.items() if g >= RELEVANT}
    recall = len(found & relevant) / len(relevant) if relevant else math.nan
    mrr = (1.0 / first_relevant if first_relevant else 0.0) if relevant else math.nan
    return ndcg(grades, judged, k), recall, mrr, hit_judged / k


def evaluate(
    searcher: Searcher,
    judgments: list[Judged],
    options: SearchOptions,
    k: int,
    template: str,
    rescore: bool = False,
) -> Scores:
    """Mean metrics of `searcher` over `judgments`; `rescore` runs the optional cross-encoder
    stage too (the searcher's `rerank` setting), as `ask --rerank` does."""
    import statistics

    firsts = first_fragments(searcher.reader)
    totals = {"ndcg": [], "recall": [], "mrr": [], "judged": []}
    latencies: list[float] = []
    for j in judgments:
        result = searcher.search(j.query, top_k=k, options=options, rescore=rescore)
        latencies.append(result.timings.total)
        ranked = [doc_ids(h.fragment.path, h.fragment.anchor, template, firsts) for h in result.hits]
        n, r, m, jd = score_ranking(ranked, j.grades, k)
        totals["ndcg"].append(n)
        totals["judged"].append(jd)
        if not math.isnan(r):
            totals["recall"].append(r)
            totals["mrr"].append(m)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return Scores(
        ndcg=mean(totals["ndcg"]),
        recall=mean(totals["recall"]),
        mrr=mean(totals["mrr"]),
        judged=mean(totals["judged"]),
        queries=len(judgments),
        latency_ms=statistics.median(latencies) if latencies else 0.0,
    )


def first_fragments(reader: IndexReader) -> set[tuple[str, str]]:
    """(path, anchor) of each page's first fragment: what a lead judgment (`page#`) means."""
    with reader.guard():
        table = reader.fragments.to_table(columns=["path", "anchor", "line_start", "part"])
    first: dict[str, tuple[int, str]] = {}
    for path, anchor, line, part in zip(
        *(table.column(c).to_pylist() for c in table.column_names), strict=True
    ):
        if part == 0 and (path not in first or line < first[path][0]):
            first[path] = (line, anchor)
    return {(path, anchor) for path, (_, anchor) in first.items()}


def training_queries(
    searcher: Searcher, judgments: list[Judged], options: SearchOptions, template: str
) -> list[TrainingQuery]:
    """Each judged query's candidates as the ranker sees them (features), with the judged
    grade of each (0 when unjudged) and a section number (parts of one section share it)."""
    firsts = first_fragments(searcher.reader)
    with searcher.reader.guard():
        table = searcher.reader.fragments.to_table(columns=["source", "path", "anchor"])
    sources, paths, anchors = (table.column(c).to_pylist() for c in ("source", "path", "anchor"))
    out: list[TrainingQuery] = []
    for j in judgments:
        found = searcher.gather(j.query, options=options)
        gains = np.zeros(len(found.positions), np.float32)
        section_of: dict[tuple[str, str, str], int] = {}
        sections = np.zeros(len(found.positions), np.int64)
        for n, p in enumerate(found.positions.tolist()):
            key = (sources[p], paths[p], anchors[p])
            sections[n] = section_of.setdefault(key, len(section_of))
            ids = doc_ids(paths[p], anchors[p], template, firsts)
            gains[n] = max((j.grades.get(d, 0) for d in ids), default=0)
        out.append(TrainingQuery(feature_matrix(found.signals), gains, sections, list(j.grades.values())))
    return out
