"""Shared fixtures: the offline model is loaded once, the demo corpus indexed once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from docsearch.embed.base import Embedder, ModelIdentity, ProgressFn
from docsearch.embed.models import load_embedder
from docsearch.index.indexer import Indexer
from docsearch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


class CountingEmbedder:
    """Wraps a real embedder and counts what it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.documents: list[str] = []

    @property
    def identity(self) -> ModelIdentity:
        return self.inner.identity

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    def embed_documents(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        self.documents.extend(texts)
        return self.inner.embed_documents(texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder("minilm-l6-v2", threads=2)


@pytest.fixture
def counting(embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's cache (models, embedding cache) or real services: the
    cache dir is a temporary one, inherited by CLI subprocesses, and API keys are unset."""
    os.environ["DOCSEARCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    for name in ("VOYAGE_API_KEY", "HF_ENDPOINT", "DOCSEARCH_VOYAGE_BASE_URL", "DOCSEARCH_MODEL"):
        os.environ.pop(name, None)


def run_docsearch(
    *args: object, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m docsearch ARGS` in a subprocess. It inherits the test cache dir but none of the
    caller's other DOCSEARCH_* settings; `env` adds to that."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCSEARCH_") or k == "DOCSEARCH_CACHE_DIR"
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "docsearch", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make_settings(index: Path, **overrides: object) -> Settings:
    flags = {"index": index, "cache_dir": os.environ["DOCSEARCH_CACHE_DIR"], **overrides}
    return Settings.resolve(flags, env={}, cwd=index.parent)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The demo corpus, indexed once; tests must not write to it."""
    index = tmp_path_factory.mktemp("corpus-index") / "idx"
    Indexer(make_settings(index), embedder=embedder).index(CORPUS, source="corpus")
    return index


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A small writable copy of part of the corpus."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("cli.md", "configuration.md", "storage.md"):
        shutil.copy(CORPUS / name, folder / name)
    return folder
