"""The index pipeline: discover → chunk → embed → store, incrementally.

A fragment is re-embedded only when its content hash is new under the index's model
fingerprint: unchanged fragments are kept as they are, and text that moved (same hash,
new id) takes its committed vector. A folder is indexed as a named source; re-indexing it
replaces that source's fragments and leaves other sources alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from docsearch.disk import writing
from docsearch.embed.base import Embedder, EmbedProgress, ModelIdentity
from docsearch.errors import DocsearchError, IndexMissingError, InputError, ModelMismatchError, SettingsError
from docsearch.index.chunk import chunk
from docsearch.index.chunk_cache import ChunkCache, chunk_key
from docsearch.index.discover import Document, discover, nothing_to_index, shown, utf8
from docsearch.index.fields import keyword_fields
from docsearch.index.includes import DocsFolder, may_include
from docsearch.index.sources import known_sources, recall
from docsearch.model import Fragment, IndexSummary
from docsearch.settings import Settings
from docsearch.store.tables import IndexWriter, read_meta

if TYPE_CHECKING:
    from docsearch.llm.client import LLMClient

WRITE_BATCH = 4096  # fragments embedded and written per step: bounds memory on huge corpora


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str  # "discover", "chunk", "embed", "write", "done"
    done: int
    total: int
    tokens: int = 0  # embed stage, API models: tokens billed so far in this run
    cost_usd: float | None = None  # embed stage, API models: what those tokens cost
    cached: int = 0  # embed stage: texts that came from the embedding cache


ProgressCallback = Callable[[Progress], None]


class Indexer:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, llm: LLMClient | None = None
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._llm = llm

    def embedder_for(self, existing: ModelIdentity | None) -> Embedder:
        """The document embedder: the one given, else the one settings name (see embed/models.py)."""
        if self._embedder is None:
            from docsearch.embed.models import load_document_embedder

            self._embedder = load_document_embedder(self.settings, existing)
        return self._embedder

    def index(
        self,
        folder: Path | str,
        source: str | None = None,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        progress: ProgressCallback | None = None,
        base_url: str | None = None,
        url_ext: str | None = None,
        follow_symlinks: bool | None = None,
    ) -> IndexSummary:
        """Index `folder` as source `source`. Globs and options left as None are the ones the
        source was last indexed with (index/sources.py); `summary.reused` names them."""
        started = time.perf_counter()
        report = progress or (lambda _p: None)
        root = Path(folder).expanduser()
        if not root.exists():
            raise InputError(f"folder not found: {root}")
        if not root.is_dir():
            raise InputError(f"not a folder: {root}")
        root = root.resolve()
        if not utf8(str(root)):
            raise InputError(f"the folder's path is not valid UTF-8: {shown(str(root))}; rename it")
        name = source or root.name or "docs"
        if not utf8(name):
            raise InputError(f"the source name is not valid UTF-8: {shown(name)}; pass --source NAME")
        summary = IndexSummary(source=name)

        llm = self._question_llm()  # a missing LLM fails before any work is done
        recipe = recall(
            known_sources(self.settings.index).get(name),
            root,
            include,
            exclude,
            follow_symlinks,
            self.settings.follow_symlinks,
        )
        summary.reused = recipe.reused
        found = discover(
            root, recipe.include, recipe.exclude, self.settings.max_file_bytes, recipe.follow_symlinks
        )
        summary.skipped = found.skipped
        summary.warnings = found.warnings
        summary.files = len(found.documents)
        report(Progress("discover", summary.files, summary.files))
        if not found.documents:
            raise InputError(nothing_to_index(root, found.skipped))

        fragments = self._chunk(found.documents, name, report, DocsFolder(root, self.settings.max_file_bytes))
        summary.fragments = len(fragments)
        if len(fragments) != len({f.id for f in fragments}):
            raise DocsearchError("internal error: two fragments share an id")

        embedder = self.embedder_for(_committed_model(self.settings.index))
        identity = embedder.identity
        keep = self.settings.keep_replaced_minutes * 60
        # Optional on an embedder: only a local model whose model file says binary_center.
        center = bool(getattr(embedder, "centers_binary", False))
        # A full or read-only disk: one line, exit 7; the committed index is untouched.
        with (
            writing("the index", self.settings.index, "nothing was committed (the last index is intact)"),
            IndexWriter(self.settings.index, identity, embedder.fingerprint, keep, center) as writer,
        ):
            if writer.repaired is not None:
                self._note_repair(writer, name, summary)
            if writer.meta is not None:
                self._check_model(writer, embedder)
            existing = writer.existing()
            ex_ids = existing.column("id").to_numpy()
            ex_source = existing.column("source").to_pylist()
            ex_hash = existing.column("content_hash").to_pylist()
            mine = {int(i): h for i, s, h in zip(ex_ids, ex_source, ex_hash, strict=True) if s == name}
            hash_owner = {h: int(i) for i, h in zip(ex_ids, ex_hash, strict=True)}

            new_ids = {f.id for f in fragments}
            to_write: list[Fragment] = []
            for f in fragments:
                old = mine.get(f.id)
                if old is None:
                    summary.added += 1
                    to_write.append(f)
                elif old != f.content_hash:
                    summary.changed += 1
                    to_write.append(f)
                else:
                    summary.unchanged += 1
            removed = [i for i in mine if i not in new_ids]
            summary.removed = len(removed)

            # Questions: text that was committed with questions keeps them (same content hash);
            # with --questions, everything else of this source gets some (cache first).
            ex_questions = existing.column("questions").to_pylist()
            ex_held_out = existing.column("held_out_question").to_pylist()
            asked = {
                h: (tuple(q), held or "")
                for h, q, held in zip(ex_hash, ex_questions, ex_held_out, strict=True)
                if q
            }
            to_write = [
                f
                if f.questions or f.content_hash not in asked
                else replace(
                    f, questions=asked[f.content_hash][0], held_out_question=asked[f.content_hash][1]
                )
                for f in to_write
            ]
            if llm is not None:
                unanswered = [
                    f
                    for f in fragments
                    if f.id in mine and mine[f.id] == f.content_hash and f.content_hash not in asked
                ]
                to_write = self._add_questions(llm, to_write, unanswered, summary, report)

            # Committed vectors for text that only moved: read them before anything is deleted.
            reuse = writer.vectors_for(
                sorted({hash_owner[f.content_hash] for f in to_write if f.content_hash in hash_owner})
            )
            # Likewise question vectors, where the committed owner has the very same questions.
            committed_questions = {int(i): tuple(q or ()) for i, q in zip(ex_ids, ex_questions, strict=True)}

            def question_owner(f: Fragment) -> int | None:
                owner = hash_owner.get(f.content_hash)
                same = owner is not None and f.questions and committed_questions.get(owner) == f.questions
                return owner if same else None

            question_reuse = writer.question_vectors_for(
                sorted({o for f in to_write if (o := question_owner(f)) is not None})
            )
            # Delete what goes away or changes, then add new rows batch by batch.
            writer.delete(removed + [f.id for f in to_write if f.id in mine])
            total = len(to_write)
            done = 0
            tokens = 0
            cached = 0
            cost = getattr(embedder, "cost_usd", None)  # API embedders price their tokens

            def on_embedded(p: EmbedProgress) -> None:
                nonlocal done, tokens, cached
                done += p.texts
                tokens += p.tokens
                cached += p.cached
                report(Progress("embed", done, total, tokens, cost(tokens) if cost else None, cached))

            report(Progress("embed", 0, total))
            for start in range(0, total, WRITE_BATCH):
                batch = to_write[start : start + WRITE_BATCH]
                vectors = np.empty((len(batch), identity.dim), dtype=np.float32)
                todo: list[int] = []
                for row, f in enumerate(batch):
                    owner = hash_owner.get(f.content_hash)
                    if owner is not None and owner in reuse:
                        vectors[row] = reuse[owner]
                    else:
                        todo.append(row)
                done += len(batch) - len(todo)
                if todo:
                    vectors[todo] = embedder.embed_documents(
                        [batch[r].embedding_text for r in todo], progress=on_embedded
                    )
                    summary.embedded += len(todo)
                writer.add(
                    batch,
                    [keyword_fields(f) for f in batch],
                    vectors,
                    self._question_vectors(embedder, batch, question_owner, question_reuse, summary),
                )
                report(Progress("embed", done, total, tokens, cost(tokens) if cost else None, cached))
            summary.tokens = tokens
            summary.cost_usd = cost(tokens) if cost else None
            summary.cached = cached

            report(Progress("write", 0, 1))
            sources = dict(writer.meta.sources) if writer.meta else {}
            # A rebuilt damaged index still knows where this source is published.
            known = writer.repaired.sources if writer.repaired else sources
            if base_url is None and name in known:
                base_url = known[name].get("base_url")  # kept until given again
            if url_ext is None and name in known:
                url_ext = known[name].get("url_ext")
            sources[name] = {
                "base_url": base_url,
                "url_ext": url_ext,
                "root": str(root),
                "include": recipe.include,
                "exclude": recipe.exclude,
                "follow_symlinks": recipe.follow_symlinks,
                "files": summary.files,
                "fragments": summary.fragments,
                "updated": time.time(),
            }
            writer.commit(sources, identity)
            report(Progress("write", 1, 1))
        summary.seconds = time.perf_counter() - started
        report(Progress("done", summary.fragments, summary.fragments))
        return summary

    def _chunk(
        self, documents: list[Document], source: str, report: ProgressCallback, folder: DocsFolder
    ) -> list[Fragment]:
        """Every document's fragments: from the chunk cache where the file is as it was
        indexed before, parsed (and remembered) otherwise."""
        tokens, overlap = self.settings.chunk_tokens, self.settings.chunk_overlap
        cache = ChunkCache(self.settings.cache_dir / "chunks.sqlite")
        # A page with includes is parsed every time: its fragments hold other files' text,
        # which its own bytes (the cache key) do not cover.
        style = folder.slug_style
        keys = [
            None if may_include(d.text) else chunk_key(source, d.path, d.text, tokens, overlap, style)
            for d in documents
        ]
        known = cache.get_many([k for k in keys if k is not None])
        fragments: list[Fragment] = []
        parsed: list[tuple[str, list[Fragment]]] = []
        for n, (doc, key) in enumerate(zip(documents, keys, strict=True), 1):
            found = known.get(key) if key is not None else None
            if found is None:
                found = chunk(doc.text, doc.path, source, tokens, overlap, folder)
                if key is not None:
                    parsed.append((key, found))
            fragments.extend(found)
            report(Progress("chunk", n, len(documents)))
        cache.put_many(parsed)
        return fragments

    @staticmethod
    def _question_vectors(
        embedder: Embedder,
        batch: list[Fragment],
        owner_of: Callable[[Fragment], int | None],
        reuse: dict[int, np.ndarray],
        summary: IndexSummary,
    ) -> list[np.ndarray | None]:
        """One vector per question, embedded with the document model (so they share the index's
        space); committed ones are reused when a fragment's text and questions are unchanged."""
        out: list[np.ndarray | None] = [None] * len(batch)
        texts: list[str] = []
        slots: list[tuple[int, int, int]] = []  # (row, first text, count)
        for row, f in enumerate(batch):
            if not f.questions:
                continue
            owner = owner_of(f)
            if owner is not None and owner in reuse:
                out[row] = reuse[owner]
            else:
                slots.append((row, len(texts), len(f.questions)))
                texts.extend(f.questions)
        if texts:
            vectors = embedder.embed_documents(texts)
            for row, first, count in slots:
                out[row] = vectors[first : first + count]
            summary.questions_embedded += len(texts)
        return out

    def _question_llm(self) -> LLMClient | None:
        if not self.settings.questions:
            return None
        if self._llm is None:
            from docsearch.llm.client import client_from_settings

            self._llm = client_from_settings(self.settings)
        if self._llm is None:
            raise SettingsError(
                "--questions needs an LLM: set DOCSEARCH_LLM=openai:MODEL (and DOCSEARCH_LLM_BASE_URL for "
                "a local server) or anthropic:MODEL with ANTHROPIC_API_KEY"
            )
        return self._llm

    def _add_questions(
        self,
        llm: LLMClient,
        to_write: list[Fragment],
        unanswered: list[Fragment],
        summary: IndexSummary,
        report: ProgressCallback,
    ) -> list[Fragment]:
        from docsearch.index.questions import add_questions

        def on_progress(done: int, total: int, tokens: int, cost: float | None) -> None:
            report(Progress("questions", done, total, tokens, cost))

        return add_questions(llm, self.settings, to_write, unanswered, summary, on_progress)

    @staticmethod
    def _note_repair(writer: IndexWriter, name: str, summary: IndexSummary) -> None:
        """What the summary says about a damaged index this run set aside and rebuilds."""
        repair = writer.repaired
        assert repair is not None
        summary.repaired = repair.problems
        summary.set_aside = str(repair.set_aside)
        summary.not_reindexed = [
            (source, str(info.get("root", "?"))) for source, info in repair.sources.items() if source != name
        ]

    def _check_model(self, writer: IndexWriter, embedder: Embedder) -> None:
        meta = writer.meta
        assert meta is not None
        identity = embedder.identity
        same = meta.document_model == identity and meta.fingerprint == embedder.fingerprint
        if not same:
            raise ModelMismatchError(
                f"the index at {self.settings.index} was built with {meta.document_model.name} "
                f"({meta.document_model.dim}-d); this run embeds with {identity.name} "
                f"({identity.dim}-d). Index into a new folder (--index PATH), delete "
                f"{self.settings.index} to rebuild it with the new model, or keep the old one "
                f"with --doc-model {meta.document_model.name}"
            )


def _committed_model(index: Path) -> ModelIdentity | None:
    """The document model of the committed index at `index`, if one can be read: the model a
    rebuild of a damaged index uses too, at the size its stored vectors have (a damaged
    meta.json may say another), so that the embedding cache gives every vector back."""
    from docsearch.store.verify import stored_dimension

    try:
        meta = read_meta(index)
    except IndexMissingError:
        return None
    dim = stored_dimension(index, meta)
    return replace(meta.document_model, dim=dim) if dim else meta.document_model
