"""Centred sign bits for a model whose vectors crowd into one narrow cone.

`AnisotropicEmbedder` shifts MiniLM's vectors by a large fixed offset and re-normalizes them:
every vector then shares one dominant direction, as E5-like models' do, so the raw sign bits
are the offset's signs for every text and the binary phase cannot tell texts apart. A model
whose model file says `binary_center` gets its bits taken around the corpus mean instead.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from docsearch.embed.base import Embedder, ModelIdentity, ProgressFn, normalize
from docsearch.embed.models import spec_from_metadata
from docsearch.errors import SettingsError
from docsearch.index.indexer import Indexer
from docsearch.search.searcher import Searcher
from tests.conftest import CORPUS, make_settings

PAGES = ("cli.md", "configuration.md", "indexing.md", "ranking.md", "models.md")


class AnisotropicEmbedder:
    def __init__(self, inner: Embedder, centers_binary: bool) -> None:
        self.inner = inner
        self.centers_binary = centers_binary
        signs = np.where(np.random.default_rng(7).random(inner.identity.dim) < 0.5, -1.0, 1.0)
        self.offset = (0.2 * signs).astype(np.float32)  # each component ~4x MiniLM's spread

    @property
    def identity(self) -> ModelIdentity:
        return self.inner.identity

    @property
    def fingerprint(self) -> str:
        return "anisotropic-" + self.inner.fingerprint

    def embed_documents(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        return normalize(self.inner.embed_documents(texts, progress) + self.offset)

    def embed_query(self, text: str) -> np.ndarray:
        return normalize(self.inner.embed_query(text) + self.offset)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for page in PAGES:
        shutil.copy(CORPUS / page, folder / page)
    return folder


def binary_top(index: Path, embedder: Embedder, query: str, k: int = 5) -> list[str]:
    searcher = Searcher(make_settings(index), embedder=embedder)
    try:
        opts = replace(searcher.options, use_keyword=False, rank_by="binary")
        hits = searcher.search(query, top_k=k, options=opts).hits
        return [f"{h.fragment.path}#{h.fragment.anchor}" for h in hits]
    finally:
        searcher.close()


QUERIES = (
    "exit codes",
    "download a model from hugging face",
    "json output of ask",
    "exclude files from the index",
)


def test_centred_bits_bring_back_the_binary_phase(docs, tmp_path, embedder):
    tops = {}
    for label, model in (
        ("plain", embedder),
        ("raw", AnisotropicEmbedder(embedder, centers_binary=False)),
        ("centred", AnisotropicEmbedder(embedder, centers_binary=True)),
    ):
        index = tmp_path / label
        Indexer(make_settings(index), embedder=model).index(docs, source="docs")
        meta = json.loads((index / "meta.json").read_text(encoding="utf-8"))
        assert ("binary_center" in meta) is (label == "centred")
        tops[label] = [binary_top(index, model, q, k=10) for q in QUERIES]

    # Raw: every fragment's bits are the offset's signs, so the binary ranking is blind: the
    # same list, whatever the query.
    assert all(top == tops["raw"][0] for top in tops["raw"])

    # Centred: the binary phase sees what MiniLM's own bits see: most of the same top 10, far
    # more than the raw bits share with it.
    def shared(label: str) -> float:
        pairs = zip(tops["plain"], tops[label], strict=True)
        return sum(len(set(a) & set(b)) for a, b in pairs) / (10 * len(QUERIES))

    assert shared("centred") >= 0.5 and shared("centred") >= shared("raw") + 0.2, tops


def test_the_centre_is_kept_across_runs_and_rebuilds(docs, tmp_path, embedder):
    model = AnisotropicEmbedder(embedder, centers_binary=True)
    index = tmp_path / "idx"
    Indexer(make_settings(index), embedder=model).index(docs, source="docs")
    first = json.loads((index / "meta.json").read_text(encoding="utf-8"))["binary_center"]
    assert len(first) == embedder.identity.dim and np.linalg.norm(first) > 0.5

    # New rows are taken around the committed centre, never a new one (old bits would not match).
    (docs / "extra.md").write_text("# Extra\n\nA page added later about exit codes.\n", encoding="utf-8")
    summary = Indexer(make_settings(index), embedder=model).index(docs, source="docs")
    assert summary.added >= 1
    again = json.loads((index / "meta.json").read_text(encoding="utf-8"))["binary_center"]
    assert again == first
    assert binary_top(index, model, "A page added later about exit codes")[0] == "extra.md#extra"


def test_binary_center_in_a_model_file_must_be_a_boolean(tmp_path):
    meta = {"name": "m", "dim": 8, "binary_center": True}
    assert spec_from_metadata(tmp_path, tmp_path / "model.onnx", meta, "m.json").binary_center
    assert not spec_from_metadata(tmp_path, tmp_path / "model.onnx", {"dim": 8}, "m.json").binary_center
    with pytest.raises(SettingsError, match="binary_center"):
        spec_from_metadata(tmp_path, tmp_path / "model.onnx", meta | {"binary_center": "yes"}, "m.json")
