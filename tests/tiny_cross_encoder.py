"""A tiny ONNX cross-encoder shaped like an ms-marco MiniLM export, built with the onnx helper.

Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 [batch, seq]); output `logits`
[batch, 1]. The logit is the sum, over the passage's tokens only (token type 1, unmasked), of
a per-word weight: WEIGHTS below. So a test knows which passage must win, and that the query
and passage went in as a pair (a word in the query counts nothing).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "readdir", "list", "files", "directory", "stat", "size"]
VOCAB = {w: i for i, w in enumerate(WORDS)}
WEIGHTS = {"readdir": 3.0, "list": 0.5, "files": 0.5, "directory": 0.5}


def write_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    # BERT's pair template: the passage's tokens get type id 1.
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", VOCAB["[CLS]"]), ("[SEP]", VOCAB["[SEP]"])],
    )
    tok.save(str(path))


def write_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    table = np.zeros((len(WORDS), 1), np.float32)
    for word, weight in WEIGHTS.items():
        table[VOCAB[word], 0] = weight
    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    ]
    nodes = [
        helper.make_node("Gather", ["weights", "input_ids"], ["per_token"]),  # [b, s, 1]
        helper.make_node("Mul", ["attention_mask", "token_type_ids"], ["passage"]),
        helper.make_node("Cast", ["passage"], ["passage_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["passage_f", "axis2"], ["passage3"]),
        helper.make_node("Mul", ["per_token", "passage3"], ["counted"]),
        helper.make_node("ReduceSum", ["counted", "axis1"], ["logits"], keepdims=0),  # [b, 1]
    ]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1])
    initializers = [
        numpy_helper.from_array(table, "weights"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
    ]
    graph = helper.make_graph(nodes, "tiny-cross-encoder", inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def model_bytes(tmp: Path) -> tuple[bytes, bytes]:
    """(model.onnx, tokenizer.json) as bytes, for the fake hub."""
    tmp.mkdir(parents=True, exist_ok=True)
    write_model(tmp / "model.onnx")
    write_tokenizer(tmp / "tokenizer.json")
    return (tmp / "model.onnx").read_bytes(), (tmp / "tokenizer.json").read_bytes()
