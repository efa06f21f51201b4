"""Query stage 6 (optional): rescore the best sections with a cross-encoder.

    fused top-N sections ─→ cross-encoder(query, breadcrumb + text) ─→ reordered, cut to k

The retrievers and the learned ranker compare the query with each section through BM25 and a
small embedding model; a cross-encoder reads the two together and tells "the right page" from
"the right section" far better, at the cost of one model run per pair. So it only reorders
the fused top `rerank_depth` sections, and only when asked (`rerank = "local"` with a model
installed by `docsearch models pull ms-marco-minilm-l6`, or `rerank = "voyage"` with
VOYAGE_API_KEY). Off by default: the default search stays offline and within a keystroke's
budget. (The float "rerank" stage of rerank.py is another thing: it rescores the binary
candidates with exact cosines, on every query.)

The results are drawn from those `rerank_depth` sections (top_k of them, or all when top_k
is larger, in which case the depth is top_k): the cross-encoder decides the order of
everything shown.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Protocol

from docsearch.errors import SettingsError
from docsearch.model import SearchResult
from docsearch.settings import Settings

RERANKERS = ("off", "local", "voyage")
DEFAULT_LOCAL_RERANKER = "ms-marco-minilm-l6"
# Characters of a section given to the rescorer: its start says what it is about, and the
# model's window (512 word pieces for MiniLM, ~2,000 characters) cuts the rest anyway.
PASSAGE_CHARS = 2000


class Rescorer(Protocol):
    name: str

    def score(self, query: str, passages: list[str]) -> list[float]:
        """One relevance score per passage, in order; higher is more relevant."""
        ...


def rescore(result: SearchResult, rescorer: Rescorer, k: int) -> SearchResult:
    """`result`'s hits reordered by the rescorer (stable on ties), cut to k."""
    if not result.hits:
        return result
    t = time.perf_counter()
    # The best part of each section, with its breadcrumb: what its embedding was made from.
    texts = [h.fragment.embedding_text[:PASSAGE_CHARS] for h in result.hits]
    scores = rescorer.score(result.query, texts)
    order = sorted(range(len(result.hits)), key=lambda i: -scores[i])
    hits = []
    for i in order[:k]:
        hit = result.hits[i]
        hit.rescore = scores[i]
        hits.append(hit)
    timings = replace(result.timings, rescore=(time.perf_counter() - t) * 1000.0)
    timings.total = result.timings.total + timings.rescore
    return replace(result, hits=hits, timings=timings)


def load_rescorer(settings: Settings) -> Rescorer | None:
    """The rescorer `settings.rerank` names, or None when it is off."""
    choice = settings.rerank
    if choice not in RERANKERS:
        raise SettingsError(f"rerank must be one of {', '.join(RERANKERS)}, got {choice!r}")
    if choice == "off":
        return None
    if choice == "voyage":
        from docsearch.embed.voyage_rerank import DEFAULT_VOYAGE_RERANKER, VoyageReranker

        return VoyageReranker(
            settings.rerank_model or DEFAULT_VOYAGE_RERANKER,
            settings.voyage_api_key,
            base_url=settings.voyage_base_url,
            max_retries=min(settings.voyage_max_retries, 2),
            timeout=settings.voyage_timeout,
        )
    from docsearch.embed.cross_encoder import OnnxCrossEncoder
    from docsearch.embed.models import ModelStore

    name = settings.rerank_model or DEFAULT_LOCAL_RERANKER
    spec = ModelStore(settings.cache_dir).local_spec(name, role="reranker")
    if spec is None:
        raise SettingsError(f"reranker {name} is not installed: run `docsearch models pull {name}`")
    return OnnxCrossEncoder(spec, threads=settings.threads)
