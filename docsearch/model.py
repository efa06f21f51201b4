"""The plain values that flow between pipeline stages.

Nothing here does I/O: the index pipeline produces `Fragment`s and an `IndexSummary`,
the query pipeline produces a `SearchResult` made of `Hit`s and `Timings`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The longest query searched: no docs-search query is longer, and every stage's cost grows
# with it (a pasted log file is not a question). `ask`/`suggest` refuse a longer one and the
# TUI's input stops there; the Searcher cuts one, for any other caller.
MAX_QUERY_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Fragment:
    """One linkable piece of a markdown page: a heading section, or a part of a long one."""

    id: int  # stable across runs: derived from source, path, anchor and part
    source: str  # the named folder it came from
    path: str  # relative to the indexed folder, always with "/"
    anchor: str  # "" for the page's lead text
    part: int  # 0 unless a long section was split
    title: str  # the page title
    heading: str  # this section's heading text ("" for the lead fragment)
    breadcrumb: tuple[str, ...]  # page title › H2 › H3 …
    level: int  # heading level, 0 for the lead fragment
    line_start: int  # 1-based, inclusive; the heading line
    line_end: int  # 1-based, inclusive
    text: str  # the markdown between this heading and the next
    token_count: int
    content_hash: str  # sha256 of what is embedded: breadcrumb + text
    questions: tuple[str, ...] = ()  # LLM-written questions this fragment answers (optional)
    hot_links: tuple[str, ...] = ()  # reserved names it defines (`fs.readFile()`, `top_k`)
    # One generated question kept out of the index (not searched, not embedded): a query that
    # is known to be answered by this fragment, for `docsearch eval --synthetic`.
    held_out_question: str = ""

    @property
    def ref(self) -> str:
        """`path#anchor`, the fragment's address."""
        return f"{self.path}#{self.anchor}" if self.anchor else self.path

    @property
    def embedding_text(self) -> str:
        """What the embedder sees: breadcrumb first, so it survives the model's truncation."""
        return " › ".join(self.breadcrumb) + "\n\n" + self.text


@dataclass(frozen=True, slots=True)
class KeywordFields:
    """A fragment's searchable fields, built by the index pipeline (index/fields.py) and
    stored beside its row."""

    kw_all: str
    kw_heading: str
    deprecated: bool


@dataclass(slots=True)
class Timings:
    """Milliseconds spent in each query stage."""

    embed: float = 0.0
    keyword: float = 0.0
    binary: float = 0.0
    rerank: float = 0.0
    fuse: float = 0.0
    rescore: float = 0.0  # the optional cross-encoder stage (search/rescore.py); 0 when off
    total: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


@dataclass(slots=True)
class Hit:
    """A ranked fragment with the scores that placed it."""

    fragment: Fragment
    score: float
    keyword: float | None  # raw BM25 score, None if keyword retrieval did not find it
    binary: float | None  # 1 - hamming/bits, None if outside the binary top-k
    float: float | None  # cosine similarity of the float vectors
    question: float | None = None  # cosine of the best-matching generated question, if any
    matched_question: str | None = None  # that question
    rescore: float | None = None  # the cross-encoder's relevance score, when rerank is on
    # Where the fragment lives (docsearch/links.py): its file, and its page when the source
    # was indexed with a base_url.
    abs_path: str | None = None
    url: str | None = None

    def as_json(self) -> dict[str, object]:
        f = self.fragment
        return {
            "path": f.path,
            "anchor": f.anchor,
            "title": f.title,
            "heading": f.heading,
            "breadcrumb": list(f.breadcrumb),
            "line": f.line_start,
            "score": round(self.score, 6),
            "scores": {
                "keyword": None if self.keyword is None else round(self.keyword, 6),
                "binary": None if self.binary is None else round(self.binary, 6),
                "float": None if self.float is None else round(self.float, 6),
                "question": None if self.question is None else round(self.question, 6),
                "rerank": None if self.rescore is None else round(self.rescore, 6),
            },
            "matched_question": self.matched_question,
            "text": f.text,
            "source": f.source,
            "abs_path": self.abs_path,
            "url": self.url,
        }


@dataclass(slots=True)
class SearchResult:
    query: str
    hits: list[Hit]
    timings: Timings
    corrections: tuple[str, ...] = ()  # indexed words searched for the query's misspelt ones

    def as_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "corrections": list(self.corrections),
            "results": [h.as_json() for h in self.hits],
            "timing_ms": self.timings.as_dict(),
        }


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(slots=True)
class IndexSummary:
    """What one `docsearch index` run did."""

    source: str
    files: int = 0
    fragments: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    cached: int = 0  # of `embedded`, served by the embedding cache instead of the model or API
    tokens: int = 0  # API models: tokens billed in this run
    cost_usd: float | None = None  # API models: what `tokens` cost
    questions_generated: int = 0  # fragments the LLM wrote questions for in this run
    questions_cached: int = 0  # fragments whose questions came from the question cache
    questions_failed: list[Skipped] = field(default_factory=list)  # (path#anchor, why)
    llm_tokens: int = 0
    llm_cost_usd: float | None = None  # when llm_*_usd_per_mtok prices are set
    questions_embedded: int = 0  # question texts embedded (not reused) in this run
    warnings: list[Skipped] = field(default_factory=list)  # read, but with a problem (bad UTF-8)
    skipped: list[Skipped] = field(default_factory=list)  # not read at all
    seconds: float = 0.0
    # Globs and options recalled from the source's last run (index/sources.py), as flags.
    reused: list[str] = field(default_factory=list)
    # A damaged index this run set aside (in `set_aside`) and rebuilt: what was wrong with it,
    # and the other sources it held, (name, folder), which this run did not index again.
    repaired: list[str] = field(default_factory=list)
    set_aside: str = ""
    not_reindexed: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        reasons: dict[str, int] = {}
        for s in self.skipped:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
        return {
            "source": self.source,
            "files": self.files,
            "fragments": self.fragments,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "embedded": self.embedded,
            "cached": self.cached,
            "tokens": self.tokens,
            "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "questions": {
                "generated": self.questions_generated,
                "cached": self.questions_cached,
                "failed": [{"ref": s.path, "reason": s.reason} for s in self.questions_failed],
                "llm_tokens": self.llm_tokens,
                "llm_cost_usd": None if self.llm_cost_usd is None else round(self.llm_cost_usd, 6),
                "embedded": self.questions_embedded,
            },
            "skipped": len(self.skipped),
            "skipped_reasons": reasons,
            "skipped_files": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "warnings": [{"path": w.path, "reason": w.reason} for w in self.warnings],
            "seconds": round(self.seconds, 3),
            "reused": self.reused,
            "repaired": None
            if not self.repaired
            else {
                "problems": self.repaired,
                "set_aside": self.set_aside,
                "not_reindexed": [{"source": n, "root": r} for n, r in self.not_reindexed],
            },
        }
