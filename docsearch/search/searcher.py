"""The query pipeline: query → SearchResult, each stage timed.

    embed query ─┬─ binary top-k (hamming, in memory) ─┐
                 │                                      ├─ union → float rerank → fuse → top-k
    keyword ─────┴──────────────────────────────────────┘
    (BM25 of one field: title + heading + text)   fuse = learned ranker over features.py's signals
                                                   then, only with `rerank` on: a cross-encoder
                                                   reorders the top sections (rescore.py)

Keyword retrieval runs on a worker thread (LanceDB's search releases the GIL) while the query
is embedded and the binary phase runs. Build a Searcher once and keep it: it holds the open
tables, the packed bits and the embedder.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from docsearch.embed.base import Embedder, check_compatible, pack_sign_bits
from docsearch.links import fragment_links
from docsearch.model import MAX_QUERY_CHARS, Fragment, Hit, SearchResult, Timings
from docsearch.search.binary import BinaryIndex
from docsearch.search.features import Signals
from docsearch.search.fuse import exact_matches, fuse, linear_mix, query_identifiers
from docsearch.search.keyword import KeywordHits, KeywordRetriever, filter_clause
from docsearch.search.questions import QuestionIndex
from docsearch.search.ranker import LinearRanker
from docsearch.search.rerank import FloatReranker
from docsearch.search.rescore import Rescorer, load_rescorer
from docsearch.search.rescore import rescore as rescore_hits
from docsearch.search.rows import FragmentRows
from docsearch.settings import Settings
from docsearch.store.tables import IndexReader


@dataclass(frozen=True, slots=True)
class SearchOptions:
    top_k: int = 10
    rerank_count: int = 2000
    keyword_count: int = 200
    ranker: LinearRanker = field(default_factory=LinearRanker.load)
    use_keyword: bool = True
    use_binary: bool = True
    # Evaluation variants (docsearch eval): "fused" is the product; "keyword" ranks by BM25
    # alone (one field: page title + heading + text), "binary" by hamming similarity alone,
    # "float" by exact cosine over every fragment, "mix" by 0.5 · BM25/max + 0.5 · cosine.
    rank_by: str = "fused"


@dataclass(slots=True)
class Candidates:
    """One query's candidates after retrieval and the float rerank, before ranking."""

    query: str
    positions: np.ndarray  # row positions, ascending
    signals: Signals
    keyword_found: np.ndarray  # bool: found by the main keyword field
    binary: np.ndarray  # hamming similarity, NaN outside the binary top-k
    question_numbers: np.ndarray  # best question's number, -1 where none
    timings: Timings
    corrections: tuple[str, ...] = ()


# The exact-identifier bonus for a fragment whose body (not heading) contains the identifier.
BODY_MENTION = 0.5
# How many of the best keyword hits get their body checked for the identifier.
BODY_CHECKED = 32


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class Searcher:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.reader = IndexReader(settings.index)
        if embedder is None:
            from docsearch.embed.models import load_query_embedder

            embedder = load_query_embedder(settings, self.reader.meta.document_model)
        check_compatible(self.reader.meta.document_model, embedder.identity)
        self.embedder = embedder
        with self.reader.guard():
            self.binary = BinaryIndex.from_columns(*self.reader.load_binary_columns())
            self.keyword = KeywordRetriever(self.reader)
            self.rerank = FloatReranker(self.reader)
            self.questions = QuestionIndex(self.reader)
        center = self.reader.meta.binary_center  # the index's bits were taken around it
        self._binary_center = None if center is None else np.asarray(center, dtype=np.float32)
        # Each question row's fragment position, for applying fragment filters to questions.
        self._question_positions = self.binary.positions_of(self.questions.fragment_ids)
        self.rows = FragmentRows(self.reader)  # rows by position, cached; sections
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docsearch-keyword")
        self.options = SearchOptions(
            top_k=settings.top_k,
            rerank_count=settings.rerank_count,
            keyword_count=settings.keyword_count,
            ranker=LinearRanker.load(settings.ranker),
        )
        self._rescorer: Rescorer | None = None
        # (page number, token count, deprecated) per row, for the ranker's features.
        self._row_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self.reader.close()  # the writer may retire this commit once it is old enough

    def changed(self) -> bool:
        """Whether `docsearch index` has committed since this searcher opened the index."""
        return self.reader.changed()

    def _row_signals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(page number, token count, deprecated) of every row, read on the first search."""
        if self._row_arrays is None:
            import pyarrow.compute as pc

            table = self.reader.fragments.to_table(columns=["source", "path", "token_count", "deprecated"])
            page = pc.binary_join_element_wise(table.column("source"), table.column("path"), "\0")
            self._row_arrays = (
                page.combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64),
                table.column("token_count").to_numpy(),
                table.column("deprecated").to_numpy(zero_copy_only=False).astype(bool),
            )
        return self._row_arrays

    def section_parts(self, fragment: Fragment) -> list[Fragment]:
        """Every part of the section `fragment` is a part of, in order (rows.py)."""
        return self.rows.section_parts(fragment)

    def fragment_at(self, source: str, path: str, anchor: str) -> Fragment | None:
        """The first part of the section at `path#anchor`, or None (rows.py)."""
        return self.rows.fragment_at(source, path, anchor)

    def _mask(self, source: str | None, path_prefix: str | None) -> np.ndarray | None:
        if not source and not path_prefix:
            return None
        mask = np.ones(len(self.binary), dtype=bool)
        if source:
            mask &= self.rows.column("source") == source
        if path_prefix:
            mask &= np.char.startswith(self.rows.column("path").astype(str), path_prefix)
        return mask

    def search(
        self,
        query: str,
        top_k: int | None = None,
        source: str | None = None,
        path_prefix: str | None = None,
        options: SearchOptions | None = None,
        prefix_last: bool = False,
        rescore: bool = False,
    ) -> SearchResult:
        """`prefix_last`: the last word is still being typed, so the keyword stage also matches
        the indexed words it begins (search as you type); the query vector is unchanged."""
        opts = options or self.options
        k = opts.top_k if top_k is None else top_k
        t_total = time.perf_counter()
        query = " ".join(query.split())[:MAX_QUERY_CHARS]
        if not query or k <= 0 or len(self.binary) == 0:
            timings = Timings(total=_ms(t_total))
            return SearchResult(query, [], timings)
        with self.reader.guard():  # a table that does not read: one line, not a traceback
            found = self._gather(query, source, path_prefix, opts, prefix_last)
            rescorer = self.rescorer() if rescore else None
            if rescorer is None:
                return self._present(found, self._rank(found, opts), k, t_total)
            depth = max(k, self.settings.rerank_depth)
            presented = self._present(found, self._rank(found, opts), depth, t_total)
        return rescore_hits(presented, rescorer, k)

    def rescorer(self) -> Rescorer | None:
        """The cross-encoder `settings.rerank` asks for, loaded on first use; None when off."""
        if self._rescorer is None and self.settings.rerank != "off":
            self._rescorer = load_rescorer(self.settings)
        return self._rescorer

    def gather(
        self,
        query: str,
        source: str | None = None,
        path_prefix: str | None = None,
        options: SearchOptions | None = None,
        prefix_last: bool = False,
    ) -> Candidates:
        """Every stage before the ranking: retrieval by both sides, the float rerank's cosines
        and each candidate's signals (eval --fit learns from these)."""
        with self.reader.guard():
            return self._gather(query, source, path_prefix, options or self.options, prefix_last)

    def _gather(
        self, query: str, source: str | None, path_prefix: str | None, opts: SearchOptions, prefix_last: bool
    ) -> Candidates:
        timings = Timings()
        # Misspelt words get their closest indexed word added, for both retrievers: BM25 needs
        # the right spelling to match at all, and the embedding model reads a misspelt word as
        # meaningless pieces. The original words stay, in case they were meant.
        corrections = self.keyword.corrections(query, prefix_last)

        where = filter_clause(source, path_prefix)
        text = self.keyword.expand(query, prefix_last, corrections)

        def run_keyword() -> tuple[KeywordHits, float]:
            t = time.perf_counter()
            return self.keyword.search(text, opts.keyword_count, where), _ms(t)

        pending = self._pool.submit(run_keyword) if opts.use_keyword else None
        t = time.perf_counter()
        qvec = self.embedder.embed_query(" ".join([query, *corrections]))
        timings.embed = _ms(t)

        t = time.perf_counter()
        mask = self._mask(source, path_prefix)
        qbits = pack_sign_bits(qvec if self._binary_center is None else qvec - self._binary_center)
        if opts.use_binary:
            bin_pos, bin_sim = self.binary.search(qbits, opts.rerank_count, mask)
            question_mask = None if mask is None else mask[self._question_positions]
            from_questions = self.binary.positions_of(
                self.questions.candidates(qbits, opts.rerank_count, question_mask)
            )
        else:
            bin_pos, bin_sim = np.zeros(0, np.int64), np.zeros(0, np.float32)
            from_questions = np.zeros(0, np.int64)
        timings.binary = _ms(t)

        kw = KeywordHits.empty()
        if pending is not None:
            kw, timings.keyword = pending.result()
        kw_pos = self.binary.positions_of(kw.ids)

        # Union of candidates, with each retriever's score where it found the fragment.
        t = time.perf_counter()
        candidates = np.union1d(
            np.union1d(bin_pos, kw_pos[kw_pos >= 0]), from_questions[from_questions >= 0]
        ).astype(np.int64)
        if opts.rank_by == "float":
            # Exact search: every fragment (within the filters) is a candidate.
            everything = np.arange(len(self.binary), dtype=np.int64)
            candidates = everything if mask is None else everything[mask]
        n = len(candidates)
        candidate_ids = self.binary.ids[candidates]
        binary_scores = np.full(n, np.nan, np.float32)
        binary_scores[np.searchsorted(candidates, bin_pos)] = bin_sim
        keyword_scores = np.zeros(n, np.float32)
        keyword_found = np.zeros(n, dtype=bool)
        exact = np.zeros(n, np.float32)
        valid = kw_pos >= 0
        at = np.searchsorted(candidates, kw_pos[valid])
        keyword_scores[at] = kw.scores[valid]
        keyword_found[at] = True
        heading_cover = np.zeros(n, np.float32)
        heading_cover[at] = kw.heading_cover[valid]
        identifiers = query_identifiers(query)
        if identifiers:
            # A typed identifier in the heading names the section; in the body (a settings
            # table row, an error name in prose) it still marks a section about it, against
            # the many that only share its words. Bodies are read only for such queries.
            in_heading = exact_matches(
                identifiers, [h for h, ok in zip(kw.headings, valid, strict=True) if ok]
            )
            # Only the best keyword hits' bodies, through a cache (while a name is typed, the
            # same few fragments lead keystroke after keystroke).
            found_at = kw_pos[valid][:BODY_CHECKED]
            bodies = self.rows.texts([int(p) for p in found_at])
            in_body = np.zeros(len(in_heading), np.float32)
            in_body[: len(found_at)] = exact_matches(identifiers, bodies)
            exact[at] = np.maximum(in_heading, BODY_MENTION * in_body)
        semantic = self.rerank.scores(candidates, candidate_ids, qvec)
        question_scores, question_numbers = self.questions.best(candidate_ids, qvec)
        timings.rerank = _ms(t)

        page_of, tokens, deprecated = self._row_signals()
        signals = Signals(
            bm25=keyword_scores,
            heading_cover=heading_cover,
            cosine=semantic,
            question=question_scores,
            exact=exact,
            page=np.unique(page_of[candidates], return_inverse=True)[1],
            tokens=tokens[candidates],
            deprecated=deprecated[candidates],
        )
        return Candidates(
            query,
            candidates,
            signals,
            keyword_found,
            binary_scores,
            question_numbers,
            timings,
            tuple(corrections),
        )

    @staticmethod
    def _rank(found: Candidates, opts: SearchOptions) -> np.ndarray:
        t = time.perf_counter()
        s = found.signals
        if opts.rank_by == "keyword":
            fused = np.where(found.keyword_found, s.bm25, -np.inf)
        elif opts.rank_by == "binary":
            fused = np.nan_to_num(found.binary, nan=-np.inf)
        elif opts.rank_by == "float":
            fused = s.cosine
        elif opts.rank_by == "mix":
            fused = linear_mix(s.bm25, s.cosine)
        else:
            fused = fuse(s, opts.ranker)
        found.timings.fuse = _ms(t)
        return fused

    def _present(self, found: Candidates, fused: np.ndarray, k: int, t_total: float) -> SearchResult:
        t = time.perf_counter()
        candidates, s = found.positions, found.signals
        order = np.argsort(-fused, kind="stable")
        # Parts of one long section share an address: show the best part only. Read a few
        # more than k (reading rows is the costly part of this stage), and the rest of a
        # longer list only when collapsing parts left fewer than k.
        best = order[: 3 * k + 10]
        first = min(len(best), k + 4)
        by_id = {f.id: f for f in self.rows.fragments([int(candidates[i]) for i in best[:first]])}
        refs = {(f.source, f.path, f.anchor) for f in by_id.values()}
        if len(refs) < k and first < len(best):
            by_id |= {f.id: f for f in self.rows.fragments([int(candidates[i]) for i in best[first:]])}
        hits: list[Hit] = []
        sources = self.reader.meta.sources
        seen: set[tuple[str, str, str]] = set()
        for i in best:
            if not np.isfinite(fused[i]):
                break  # a single-retriever variant: the rest were not found by it
            frag = by_id.get(int(self.binary.ids[candidates[i]]))
            if frag is None or (frag.source, frag.path, frag.anchor) in seen:
                continue
            seen.add((frag.source, frag.path, frag.anchor))
            if len(hits) == k:
                break
            number = int(found.question_numbers[i])
            matched = frag.questions[number] if 0 <= number < len(frag.questions) else None
            abs_path, url = fragment_links(sources, frag.source, frag.path, frag.anchor)
            hits.append(
                Hit(
                    fragment=frag,
                    score=float(fused[i]),
                    keyword=float(s.bm25[i]) if found.keyword_found[i] else None,
                    binary=None if np.isnan(found.binary[i]) else float(found.binary[i]),
                    float=float(s.cosine[i]),
                    question=float(s.question[i]) if matched else None,
                    matched_question=matched,
                    abs_path=abs_path,
                    url=url,
                )
            )
        found.timings.fuse += _ms(t)
        found.timings.total = _ms(t_total)
        return SearchResult(found.query, hits, found.timings, found.corrections)
