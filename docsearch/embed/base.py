"""The `Embedder` interface, model identity, and the rule for which models can share an index."""

from __future__ import annotations

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


@runtime_checkable
class Embedder(Protocol):
    @property
    def identity(self) -> ModelIdentity: ...

    @property
    def fingerprint(self) -> str:
        """Changes whenever the model's weights change (sha256 of the model file for ONNX)."""
        ...

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """float32 [n, dim], each row unit-normalized."""
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
    """Refuse a query model whose vectors cannot be compared with the index's, naming the fix."""
    if index_model.space != query_model.space or index_model.dim != query_model.dim:
        raise ModelMismatchError(
            f"the index was built with {index_model.name} ({index_model.space}, {index_model.dim}-d) "
            f"but queries would use {query_model.name} ({query_model.space}, {query_model.dim}-d); "
            f"query with a model of the same space and dimension (--model {index_model.name}) "
            f"or rebuild the index with `docsearch index DIR --model {query_model.name}`"
        )
