"""The `Embedder` interface, model identity, and the rule for which models can share an index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from docsearch.errors import ModelMismatchError


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """Who made a vector. Two vectors are comparable only within one `space` and `dim`."""

    name: str  # e.g. "minilm-l6-v2"
    space: str  # the embedding space shared by a model family, e.g. "minilm-l6-v2", "voyage-4"
    dim: int  # output dimension (after any Matryoshka truncation)
    normalized: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "space": self.space, "dim": self.dim, "normalized": self.normalized}


@dataclass(frozen=True, slots=True)
class EmbedProgress:
    """Reported by `embed_documents` as work finishes: counts since the previous report."""

    texts: int
    tokens: int = 0  # billed tokens (API models); 0 for local models
    cached: int = 0  # of `texts`, how many came from the embedding cache


ProgressFn = Callable[[EmbedProgress], None]


@runtime_checkable
class Embedder(Protocol):
    @property
    def identity(self) -> ModelIdentity: ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the model's weights change (sha256 of the model file for ONNX)."""
        ...

    def embed_documents(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """float32 [n, dim], each row unit-normalized, in the order of `texts`."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 [dim], unit-normalized."""
        ...


def normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def pack_sign_bits(vectors: np.ndarray) -> np.ndarray:
    """uint8 [n, dim/8]: bit i is 1 where component i is positive (Voyage's `ubinary`)."""
    return np.packbits(np.asarray(vectors) > 0, axis=-1)


def check_compatible(index_model: ModelIdentity, query_model: ModelIdentity) -> None:
    """Refuse a query model whose vectors cannot be compared with the index's, naming the fix.

    Vectors are comparable only within one embedding space, at one dimension, and both
    unit-normalized: anything else would give scores that look fine and mean nothing.
    """
    same = (
        index_model.space == query_model.space
        and index_model.dim == query_model.dim
        and index_model.normalized == query_model.normalized
    )
    if same:
        return
    if index_model.space == "voyage-4":
        fix = (
            f"query with a voyage-4 model at {index_model.dim}-d: install the local one with "
            "`docsearch models pull voyage-4-nano`, or use the API with --query-model voyage-4-lite"
        )
    else:
        fix = f"query with --query-model {index_model.name}"
    raise ModelMismatchError(
        f"query model {query_model.name} ({query_model.space}, {query_model.dim}-d) cannot search this "
        f"index, whose documents were embedded with {index_model.name} ({index_model.space}, "
        f"{index_model.dim}-d): {fix}; or rebuild the index with "
        f"`docsearch index DIR --doc-model {query_model.name}`"
    )
