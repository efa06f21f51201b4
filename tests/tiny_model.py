"""Tiny ONNX embedding models shaped like a voyage-4-nano export, built with the onnx helper.

They declare `input_ids`, `attention_mask` and `position_ids` (int64 [batch, seq]) and output
2048-d vectors, either per token (`last_hidden_state` [batch, seq, 2048], pooled by the
embedder) or already pooled (`embeddings` [batch, 2048]). A token's state is
`E[input_id] + P[position]`, so a test can compute the expected vector with numpy and see
that position ids were fed and pooling honoured the mask.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WORDS = [
    "represent",
    "the",
    "query",
    "for",
    "retrieving",
    "supporting",
    "documents:",
    "document",
    "retrieval:",
    "how",
    "do",
    "i",
    "rebuild",
    "index",
    "exit",
    "codes",
    "docsearch",
    "models",
]
VOCAB = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
DIM = 2048
MAX_POSITIONS = 64


def weights(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tokens = rng.standard_normal((len(VOCAB), DIM)).astype(np.float32)
    positions = (0.5 * rng.standard_normal((MAX_POSITIONS, DIM))).astype(np.float32)
    return tokens, positions


def write_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.save(str(path))


def write_model(path: Path, pooled: bool, seed: int = 7) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    tokens, positions = weights(seed)
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    mask = helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])
    pos = helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"])
    nodes = [
        helper.make_node("Gather", ["token_table", "input_ids"], ["tok"]),
        helper.make_node("Gather", ["position_table", "position_ids"], ["posv"]),
        helper.make_node("Add", ["tok", "posv"], ["states"]),
    ]
    if pooled:
        # Masked mean over the sequence, as the real export does inside the graph.
        nodes += [
            helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
            helper.make_node("Mul", ["states", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
            helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
            helper.make_node("Div", ["summed", "count"], ["embeddings"]),
        ]
        output = helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", DIM])
    else:
        nodes.append(helper.make_node("Identity", ["states"], ["last_hidden_state"]))
        output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", DIM])
    initializers = [
        numpy_helper.from_array(tokens, "token_table"),
        numpy_helper.from_array(positions, "position_table"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
    ]
    graph = helper.make_graph(nodes, "tiny-nano", [ids, mask, pos], [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def expected_vector(text: str, dim: int, seed: int = 7) -> np.ndarray:
    """What the embedder must produce for `text` (prefix included) at `dim`."""
    tokens, positions = weights(seed)
    ids = [VOCAB.get(w, 0) for w in text.lower().split()]
    states = tokens[ids] + positions[: len(ids)]
    v = states.mean(axis=0)[:dim]
    return v / np.linalg.norm(v)


def make_folder(folder: Path, pooled: bool, metadata: dict | None = None, seed: int = 7) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_model(folder / "model.onnx", pooled, seed)
    write_tokenizer(folder / "tokenizer.json")
    if metadata is not None:
        (folder / "docsearch-model.json").write_text(json.dumps(metadata))
    return folder
