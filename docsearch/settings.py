"""Every setting, resolved in one place: flags > environment > docsearch.toml > defaults.

Each field of `Settings` is one setting. Its environment variable is `DOCSEARCH_<NAME>` and its
docsearch.toml key is the field name (top level). A flag given on the command line wins over both.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from docsearch.errors import SettingsError

CONFIG_FILE = "docsearch.toml"
ENV_PREFIX = "DOCSEARCH_"
log = logging.getLogger("docsearch.settings")


@dataclass(frozen=True, slots=True)
class Settings:
    # Where the index lives.
    index: Path = Path(".docsearch")
    # Embedding models (see docsearch/embed/models.py for how "" = automatic is resolved).
    # `model` sets both sides at once (offline mode); `doc_model` and `query_model` set one side.
    # Each is a known name (`minilm-l6-v2`, `voyage-4-large`, `voyage-4-nano`, …), a name
    # registered with `docsearch models add`, or a model folder.
    model: str = ""
    doc_model: str = ""
    query_model: str = ""
    # Voyage API (documents with voyage-4-large; queries too if query_model is an API model).
    voyage_dimension: int = 0  # 0: the existing index's dimension, else 2048
    voyage_base_url: str = ""  # "" = the voyageai client's default
    voyage_batch_size: int = 128  # texts per request (the API allows at most 1000)
    voyage_concurrency: int = 4  # requests in flight at once
    voyage_max_retries: int = 6  # per request, on 429 / 5xx / timeouts / dropped connections
    voyage_timeout: float = 60.0  # seconds per request
    # Model downloads (`docsearch models pull`): Hugging Face or a mirror of it.
    hf_endpoint: str = "https://huggingface.co"
    # LLM (optional): "anthropic:MODEL" or "openai:MODEL"; "" = none. llm_base_url points the
    # OpenAI protocol at a local server (Ollama, llama.cpp, vLLM: http://localhost:11434/v1).
    llm: str = ""
    llm_base_url: str = ""
    llm_concurrency: int = 4  # question-generation requests in flight at once
    llm_timeout: float = 60.0
    llm_max_retries: int = 4
    # Prices per million tokens, for the cost estimate in progress and summaries (0: unknown).
    llm_input_usd_per_mtok: float = 0.0
    llm_output_usd_per_mtok: float = 0.0
    questions: bool = False  # generate questions per fragment when indexing (needs llm)
    summary_fragments: int = 5  # top fragments given to the LLM for a cited summary
    no_summary: bool = False  # `ask --no-summary`: no LLM summary, even with an LLM set
    summary_pause: float = 0.0  # TUI: stream a summary after this many idle seconds; 0 = only on Ctrl+S
    # `docsearch mcp`: the most tokens one tool result holds (agents pay for context); longer
    # sections and pages are cut there and say where to continue.
    mcp_token_budget: int = 2000
    # Downloaded models, the model registry and the embedding cache.
    cache_dir: Path = field(default_factory=lambda: _default_cache_dir())
    # Query side.
    top_k: int = 10
    rerank_count: int = 2000  # binary-phase candidates kept for the float rerank
    keyword_count: int = 200  # BM25 candidates kept for the float rerank
    # Long-lived processes (the TUI, eval) hold the float vectors in memory up to this size.
    float_memory_mb: int = 256
    # Optional cross-encoder over the fused top sections (search/rescore.py): "off", "local"
    # (an installed cross-encoder, `docsearch models pull ms-marco-minilm-l6`) or "voyage"
    # (the Voyage rerank API, needs VOYAGE_API_KEY). rerank_model "" = that kind's default.
    rerank: str = "off"
    rerank_model: str = ""
    rerank_depth: int = 30  # sections the cross-encoder reorders
    # The ranker's model file (docsearch eval --fit writes one); None: the shipped model.
    ranker: Path | None = None
    # Index side.
    # Parts fit the offline model's window: all-MiniLM-L6-v2 reads 256 word pieces, and the
    # breadcrumb comes first, so a 512-token part was half unread (BENCHMARKS.md, "passages").
    chunk_tokens: int = 192
    chunk_overlap: int = 32
    max_file_bytes: int = 2_000_000
    # Follow symlinks whose target is outside the indexed folder (off: such links are skipped
    # and listed, so that a link cannot put a file from elsewhere into the index).
    follow_symlinks: bool = False
    # A replaced index version stays on disk this long after the commit that replaced it (and as
    # long as a process still reads it), so a TUI or a running `ask` never loses its files.
    keep_replaced_minutes: float = 10.0
    batch_size: int = 32
    threads: int = field(default_factory=lambda: min(os.cpu_count() or 1, 4))
    # Where settings came from, for `docsearch status` and error messages.
    config_file: Path | None = None
    # Secrets come from the environment only (VOYAGE_API_KEY), never from docsearch.toml,
    # and are kept out of repr() so that printing settings cannot leak them.
    voyage_api_key: str = field(default="", repr=False)
    anthropic_api_key: str = field(default="", repr=False)
    openai_api_key: str = field(default="", repr=False)

    @classmethod
    def resolve(
        cls,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        cwd: Path | None = None,
    ) -> Settings:
        """Build the settings for one run. `flags` holds only the flags the user actually gave."""
        env = os.environ if env is None else env
        cwd = Path.cwd() if cwd is None else cwd
        if config_file is None and env.get("DOCSEARCH_CONFIG"):
            config_file = Path(env["DOCSEARCH_CONFIG"])
        explicit = config_file is not None
        if config_file is None:
            config_file = cwd / CONFIG_FILE
        values: dict[str, Any] = {}
        if config_file.is_file():
            values.update(_from_toml(config_file))
            values["config_file"] = config_file
        elif explicit:
            raise SettingsError(f"config file not found: {config_file}")
        _check_env_names(env)
        values.update(_from_env(env))
        for name, variable in _SECRET_VARIABLES.items():
            if env.get(variable):
                values[name] = env[variable]
        if env.get("HF_ENDPOINT"):
            # The Hugging Face ecosystem's own variable, so that a mirror set up for other
            # tools works here too; DOCSEARCH_HF_ENDPOINT wins when both are set.
            values.setdefault("hf_endpoint", env["HF_ENDPOINT"])
        values.update({k: v for k, v in (flags or {}).items() if v is not None})
        settings = cls()
        coerced = {name: _coerce(name, value) for name, value in values.items()}
        resolved = replace(settings, **coerced)
        _validate(resolved)
        return resolved


VOYAGE_DIMENSIONS = (256, 512, 1024, 2048)
# Below this a search result cannot hold one hit's address and a line of its text.
MIN_TOKEN_BUDGET = 200


def _validate(s: Settings) -> None:
    if s.voyage_dimension and s.voyage_dimension not in VOYAGE_DIMENSIONS:
        allowed = ", ".join(map(str, VOYAGE_DIMENSIONS))
        raise SettingsError(f"voyage_dimension must be one of {allowed}, got {s.voyage_dimension}")
    if not 1 <= s.voyage_batch_size <= 1000:
        raise SettingsError(f"voyage_batch_size must be between 1 and 1000, got {s.voyage_batch_size}")
    if s.float_memory_mb < 0:
        raise SettingsError(f"float_memory_mb must be 0 or more, got {s.float_memory_mb}")
    if s.rerank not in ("off", "local", "voyage"):
        raise SettingsError(f"rerank must be off, local or voyage, got {s.rerank!r}")
    if s.voyage_concurrency < 1:
        raise SettingsError("voyage_concurrency must be at least 1")
    if s.mcp_token_budget < MIN_TOKEN_BUDGET:
        raise SettingsError(f"mcp_token_budget must be at least {MIN_TOKEN_BUDGET}, got {s.mcp_token_budget}")
    check_index_path(s.index)


def check_api_key(variable: str, key: str) -> None:
    """Refuse a key that cannot go into an HTTP header, where it is about to be used.

    HTTP headers are ASCII: a key pasted with a typographic quote or a non-breaking space made
    httpx fail with UnicodeEncodeError, reported as a bad answer from the server or, for
    Voyage, as seven failed connection attempts. The message gives the position, never the key.
    """
    for n, char in enumerate(key, 1):
        if not char.isascii():
            kind = "a character that is not ASCII"
        elif not char.isprintable() or char.isspace():
            kind = "a space or control character"
        else:
            continue
        raise SettingsError(
            f"{variable} holds {kind} (character {n} of {len(key)}): API keys are plain ASCII; "
            "copy it again from the provider's page"
        )


# Characters LanceDB cannot have in a table path: it parses the path as a URL, so `?` starts
# a query string (the tables land in another folder and cannot be found again), and its path
# parser refuses ASCII control characters (TAB, ESC) after creating the first folders.
_UNUSABLE_IN_INDEX_PATH = {"?": "'?'"} | {chr(c): f"control character {c:#04x}" for c in (*range(32), 127)}


def check_index_path(index: Path) -> None:
    """Refuse an index folder LanceDB could not use, before anything is created there."""
    text = str(index.expanduser().absolute())
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SettingsError("the index folder's path is not valid UTF-8: choose another --index") from None
    bad = next((c for c in text if c in _UNUSABLE_IN_INDEX_PATH), None)
    if bad is not None:
        raise SettingsError(
            f"the index folder's path holds {_UNUSABLE_IN_INDEX_PATH[bad]}, which LanceDB cannot "
            "store tables under: choose another --index"
        )


def _default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("docsearch", appauthor=False))


_FIELDS = {f.name: f for f in fields(Settings)}
_SECRET_VARIABLES = {
    "voyage_api_key": "VOYAGE_API_KEY",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
    "openai_api_key": "OPENAI_API_KEY",
}
_SECRETS = set(_SECRET_VARIABLES)
_NOT_IN_FILE = {"config_file"} | _SECRETS
_TYPES: dict[str, type] = {
    "index": Path,
    "config_file": Path,
    "cache_dir": Path,
    "ranker": Path,
}


def _field_type(name: str) -> type:
    if name in _TYPES:
        return _TYPES[name]
    default = _FIELDS[name].default
    if default is not None and not callable(default) and type(default) in (int, float, str, bool):
        return type(default)
    return int  # threads (default_factory)


def _coerce(name: str, value: Any) -> Any:
    kind = _field_type(name)
    try:
        if kind is bool and isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        result = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"setting {name!r} must be {kind.__name__}, got {value!r}") from None
    if kind in (int, float) and result < 0:
        raise SettingsError(f"setting {name!r} must not be negative, got {value!r}")
    return result


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _FIELDS:
        if name in _NOT_IN_FILE:
            continue
        key = f"{ENV_PREFIX}{name.upper()}"
        if env.get(key):
            out[name] = env[key]
    return out


# Every DOCSEARCH_ variable docsearch reads: one per setting, and the config file's.
ENV_VARIABLES = frozenset({f"{ENV_PREFIX}{n.upper()}" for n in _FIELDS if n not in _NOT_IN_FILE}) | {
    f"{ENV_PREFIX}CONFIG"
}
_warned_env: set[str] = set()  # each unknown variable is said once per process


def _check_env_names(env: Mapping[str, str]) -> None:
    """A warning for each DOCSEARCH_ variable that is set but read by nothing, naming the
    closest one that is: a misspelled variable would otherwise be ignored without a word
    (an unknown docsearch.toml key is an error; the environment is shared with other tools
    and versions, so here it is a warning and the run goes on)."""
    for variable in sorted(env):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or variable in ENV_VARIABLES or variable in _warned_env:
            continue
        _warned_env.add(variable)
        rest = upper.removeprefix(ENV_PREFIX)
        if rest in _SECRET_VARIABLES.values():
            close = [rest]  # DOCSEARCH_VOYAGE_API_KEY: the key is read without the prefix
        else:
            # Compared without the shared prefix, which would make every name look alike.
            names = sorted(v.removeprefix(ENV_PREFIX) for v in ENV_VARIABLES)
            close = [ENV_PREFIX + c for c in difflib.get_close_matches(rest, names, n=1, cutoff=0.6)]
        hint = f" (did you mean {close[0]}?)" if close else ""
        log.warning(f"{variable} is not a docsearch setting and is ignored{hint}")


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    secrets = sorted(set(data) & _SECRETS)
    if secrets:
        raise SettingsError(
            f"{path}: {secrets[0]} belongs in the environment (VOYAGE_API_KEY), not in a file"
        )
    allowed = set(_FIELDS) - _NOT_IN_FILE
    unknown = sorted(set(data) - allowed)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(unknown)}{hint}")
    for key in ("index", "cache_dir", "ranker"):
        if key in data:
            # A relative path in a config file is relative to that file, not to the cwd.
            data[key] = path.parent / Path(str(data[key])).expanduser()
    return data
