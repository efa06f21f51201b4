"""Embedding with an ONNX model through onnxruntime and a `tokenizer.json` through tokenizers.

The embedder adapts to what the ONNX file declares: it feeds `input_ids`, `attention_mask`,
`token_type_ids` (zeros) and `position_ids` (0..n-1) only when the graph asks for them, and pools
per-token outputs ([b, s, d]) as configured, or takes an already pooled output ([b, d]) as is.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Encoding

from docsearch.embed.base import EmbedProgress, ModelIdentity, ProgressFn, normalize

Pooling = Literal["mean", "cls", "last"]

# Padded tokens per batch. Peak memory follows the largest batch's padded size (activations
# and, in the int8 graph, attention scores grow with batch × length²): 32 texts of 256 word
# pieces peaked at 1.7 GB while indexing. A token budget keeps long texts in small batches
# and short ones in large batches (BENCHMARKS.md, "memory while indexing").
BATCH_TOKENS = 2048


def cpu_session(model_path: Path, threads: int) -> Any:
    """An onnxruntime session on the CPU, quiet, with `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Two cores: one query runs fastest on all of them; no inter-op parallelism to gain.
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])


def token_batches(lengths: list[int], max_texts: int, max_tokens: int) -> list[list[int]]:
    """Positions grouped into batches, shortest texts first, each within `max_texts` texts and
    `max_tokens` padded tokens (count × longest); a text longer than the budget goes alone."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so this text is the longest of the batch it would join.
        if current and (len(current) >= max_texts or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass(frozen=True, slots=True)
class OnnxModelSpec:
    name: str
    space: str
    model_path: Path
    tokenizer_path: Path
    dim: int  # what the model outputs
    output_dim: int | None = None  # Matryoshka truncation, then re-normalization
    pooling: Pooling = "mean"
    max_length: int = 512
    query_prefix: str = ""
    document_prefix: str = ""
    output_name: str | None = None  # default: the first output
    # Dimensions the model was trained to be truncated to (Matryoshka); empty: none.
    matryoshka_dims: tuple[int, ...] = ()
    # "embedding" (vectors), or "reranker" (a cross-encoder: embed/cross_encoder.py, whose
    # `dim` is its number of output logits).
    role: str = "embedding"
    # Sign bits taken around the corpus mean (store/writer.py): for a model whose vectors all
    # crowd into one narrow cone, where raw signs are nearly the same for every text (E5-like
    # models lose most of their binary recall without it). Off for MiniLM, where it was
    # measured to cost query→document ranking (BENCHMARKS.md).
    binary_center: bool = False

    def at_dimension(self, dim: int) -> OnnxModelSpec | None:
        """This model truncated to `dim`, if it supports that dimension; else None."""
        if dim == self.dim:
            return replace(self, output_dim=None)
        if dim in self.matryoshka_dims and dim < self.dim:
            return replace(self, output_dim=dim)
        return None

    @property
    def identity(self) -> ModelIdentity:
        return ModelIdentity(self.name, self.space, self.output_dim or self.dim)


class OnnxEmbedder:
    def __init__(
        self,
        spec: OnnxModelSpec,
        threads: int = 2,
        batch_size: int = 32,
        query_cache_size: int = 256,
        batch_tokens: int = BATCH_TOKENS,
    ) -> None:
        from tokenizers import Tokenizer

        self.spec = spec
        self.batch_size = max(1, batch_size)
        self.batch_tokens = max(1, batch_tokens)
        self._session = cpu_session(spec.model_path, threads)
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids"} - self._inputs
        if missing:
            raise ValueError(f"{spec.model_path}: the model declares no input_ids input")
        self._output = spec.output_name or self._session.get_outputs()[0].name
        self._tokenizer = Tokenizer.from_file(str(spec.tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=spec.max_length)
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size

    @property
    def identity(self) -> ModelIdentity:
        return self.spec.identity

    @property
    def centers_binary(self) -> bool:
        """Whether this model's sign bits should be taken around the corpus mean."""
        return self.spec.binary_center

    @cached_property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with open(self.spec.model_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def _run(self, texts: list[str]) -> np.ndarray:
        return self._run_encoded(self._tokenizer.encode_batch(texts))

    def _run_encoded(self, encodings: list[Encoding]) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed: dict[str, np.ndarray] = {"input_ids": ids}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = mask
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        if "position_ids" in self._inputs:
            feed["position_ids"] = np.broadcast_to(np.arange(length, dtype=np.int64), ids.shape).copy()
        (out,) = self._session.run([self._output], feed)
        out = np.asarray(out, dtype=np.float32)
        if out.ndim == 3:
            out = self._pool(out, mask)
        if self.spec.output_dim:
            out = out[:, : self.spec.output_dim]
        return normalize(out)

    def _pool(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.spec.pooling == "cls":
            return states[:, 0]
        if self.spec.pooling == "last":
            last = mask.sum(axis=1) - 1
            return states[np.arange(len(states)), last]
        weights = mask[:, :, None].astype(np.float32)
        return (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def embed_documents(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([self.spec.document_prefix + t for t in texts])
        out = np.empty((len(texts), self.identity.dim), dtype=np.float32)
        for chunk in token_batches([len(e.ids) for e in encodings], self.batch_size, self.batch_tokens):
            out[chunk] = self._run_encoded([encodings[i] for i in chunk])
            if progress:
                progress(EmbedProgress(texts=len(chunk)))
        return out

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        vector = self._run([self.spec.query_prefix + text])[0]
        self._query_cache[text] = vector
        if len(self._query_cache) > self._query_cache_size:
            self._query_cache.popitem(last=False)
        return vector
