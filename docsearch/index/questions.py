"""Index stage (optional): the questions each fragment answers, written by an LLM.

search.vespa.ai's best ranking signal: a user's query is phrased like a question, a fragment
like an answer; generated questions bridge the two. They are searched as keyword text and
(see the store and the searcher) embedded.

Questions are cached in `cache_dir/questions.sqlite` by (LLM, fragment content hash), so
re-indexing never asks again for unchanged text. Requests run a bounded number at a time; a
fragment whose answer cannot be used is retried once and then reported, not fatal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from docsearch.cache import TextStore
from docsearch.errors import DocsearchError
from docsearch.llm.client import LLMAuthError, LLMClient, Usage
from docsearch.llm.summary import escape_fragment, prompt
from docsearch.model import Fragment, IndexSummary, Skipped
from docsearch.settings import Settings

MIN_QUESTIONS, MAX_QUESTIONS = 1, 5
MAX_FRAGMENT_CHARS = 6000  # a section's worth; the rest adds cost, not better questions
_ARRAY_RE = re.compile(r"\[.*\]", re.DOTALL)


@dataclass(frozen=True, slots=True)
class QuestionProgress:
    done: int  # fragments finished (from the cache or the LLM) since the last report
    usage: Usage  # tokens used by the LLM since the last report
    failed: int = 0


@dataclass(slots=True)
class QuestionRun:
    """What one generation run did."""

    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # content hash → questions
    cached: int = 0
    generated: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path#anchor, why)
    usage: Usage = field(default_factory=Usage)


class QuestionCache:
    """Generated questions by (LLM, content hash): text that was asked about once is never
    paid for again, in this index or another."""

    def __init__(self, path: Path) -> None:
        self._store = TextStore(path, "questions", value_column="questions")

    @staticmethod
    def key(llm: str, content_hash: str) -> str:
        return hashlib.sha256(f"{llm}\0{content_hash}".encode()).hexdigest()

    def get(self, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(json.loads(v)) for k, v in self._store.get_many(keys).items()}

    def put(self, key: str, questions: Sequence[str]) -> None:
        self._store.put_many([(key, json.dumps(list(questions)))])


def parse_questions(answer: str) -> list[str]:
    """The questions in an LLM's answer: a JSON array of strings, else lines ending in '?'."""
    candidates: list[str] = []
    match = _ARRAY_RE.search(answer)
    if match:
        try:
            data = json.loads(match.group(0))
            if isinstance(data, list):
                candidates = [str(q) for q in data if isinstance(q, str)]
        except ValueError:
            candidates = []
    if not candidates:
        candidates = [line.strip(" -*•0123456789.)\t\"'") for line in answer.splitlines()]
        candidates = [c for c in candidates if c.endswith("?")]
    out: list[str] = []
    for q in candidates:
        q = " ".join(q.split())
        if 8 <= len(q) <= 300 and q.lower() not in {o.lower() for o in out}:
            out.append(q)
    return out[:MAX_QUESTIONS]


# With at least this many questions for a fragment, the last one is held out of the index.
HOLD_OUT_FROM = 3


def split_held_out(questions: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """(questions to index, the held-out question or ""): with three or more, the last one is
    kept out of the index as a query known to be answered by the fragment (eval --synthetic);
    fewer are all indexed, since they are what ranks the fragment."""
    if len(questions) >= HOLD_OUT_FROM:
        return questions[:-1], questions[-1]
    return questions, ""


def fragment_message(fragment: Fragment) -> str:
    text = escape_fragment(fragment.text[:MAX_FRAGMENT_CHARS])
    crumbs = escape_fragment(" › ".join(fragment.breadcrumb).replace('"', "'"))
    ref = escape_fragment(fragment.ref.replace('"', "'"))
    return f'<fragment path="{ref}" breadcrumb="{crumbs}">\n{text}\n</fragment>'


class QuestionGenerator:
    def __init__(self, client: LLMClient, cache: QuestionCache, concurrency: int = 4) -> None:
        self.client = client
        self.cache = cache
        self.concurrency = max(1, concurrency)

    def generate(
        self, fragments: Sequence[Fragment], progress: Callable[[QuestionProgress], None] | None = None
    ) -> QuestionRun:
        run = QuestionRun()
        unique: dict[str, Fragment] = {}
        for f in fragments:
            unique.setdefault(f.content_hash, f)
        keys = {h: QuestionCache.key(self.client.name, h) for h in unique}
        cached = self.cache.get(list(keys.values()))
        todo: list[Fragment] = []
        for h, f in unique.items():
            if keys[h] in cached:
                run.questions[h] = cached[keys[h]]
            else:
                todo.append(f)
        run.cached = len(unique) - len(todo)
        if progress and run.cached:
            progress(QuestionProgress(run.cached, Usage()))
        if todo:
            asyncio.run(self._generate(todo, keys, run, progress))
        return run

    async def _generate(
        self,
        todo: list[Fragment],
        keys: dict[str, str],
        run: QuestionRun,
        progress: Callable[[QuestionProgress], None] | None,
    ) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        system = prompt("questions")

        async def one(f: Fragment) -> None:
            async with gate:
                usage = Usage()
                questions: list[str] = []
                why = "no usable questions in the answer"
                for _attempt in range(2):  # one more try when the answer cannot be parsed
                    try:
                        done = await self.client.complete(system, fragment_message(f), max_tokens=400)
                    except LLMAuthError:
                        # A refused key refuses every fragment: stop the run (exit 6) instead
                        # of one warning per fragment and exit 0.
                        raise
                    except DocsearchError as exc:
                        why = exc.message  # the client has already retried transient errors
                        break
                    usage.add(done.usage)
                    questions = parse_questions(done.text)
                    if len(questions) >= MIN_QUESTIONS:
                        break
                if len(questions) >= MIN_QUESTIONS:
                    self.cache.put(keys[f.content_hash], questions)
                    run.questions[f.content_hash] = tuple(questions)
                    run.generated += 1
                else:
                    run.failed.append((f.ref, why))
                run.usage.add(usage)
                if progress:
                    progress(QuestionProgress(1, usage, failed=int(f.content_hash not in run.questions)))

        tasks = [asyncio.ensure_future(one(f)) for f in todo]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def add_questions(
    llm: LLMClient,
    settings: Settings,
    to_write: list[Fragment],
    unanswered: list[Fragment],
    summary: IndexSummary,
    report: Callable[[int, int, int, float | None], None],
) -> list[Fragment]:
    """The questions stage of an indexing run: questions for new and changed fragments, and
    for unchanged ones that have none yet (those are rewritten with their committed vector, so
    nothing is embedded again). `report(done, total, LLM tokens, cost)` as answers arrive; the
    run's counts go into `summary`."""
    needing = [f for f in to_write if not f.questions] + unanswered
    total = len(needing)
    done = 0
    used = Usage()
    priced = bool(settings.llm_input_usd_per_mtok or settings.llm_output_usd_per_mtok)

    def cost(u: Usage) -> float | None:
        if not priced:
            return None  # no price configured: a local model, or one we cannot know
        s = settings
        return (u.input_tokens * s.llm_input_usd_per_mtok + u.output_tokens * s.llm_output_usd_per_mtok) / 1e6

    def on_progress(p: QuestionProgress) -> None:
        nonlocal done
        done += p.done
        used.add(p.usage)
        report(done, total, used.input_tokens + used.output_tokens, cost(used))

    report(0, total, 0, None)
    cache = QuestionCache(settings.cache_dir / "questions.sqlite")
    run = QuestionGenerator(llm, cache, settings.llm_concurrency).generate(needing, on_progress)
    summary.questions_generated = run.generated
    summary.questions_cached = run.cached
    summary.questions_failed = [Skipped(ref, why) for ref, why in run.failed]
    summary.llm_tokens = run.usage.input_tokens + run.usage.output_tokens
    summary.llm_cost_usd = cost(run.usage)

    def with_questions(f: Fragment) -> Fragment:
        found = run.questions.get(f.content_hash)
        if not found or f.questions:
            return f
        indexed, held_out = split_held_out(found)
        return replace(f, questions=indexed, held_out_question=held_out)

    rewritten = [with_questions(f) for f in unanswered]
    return [with_questions(f) for f in to_write] + [f for f in rewritten if f.questions]
