"""Every setting, resolved in one place: flags > environment > docsearch.toml > defaults.

Each field of `Settings` is one setting. Its environment variable is `DOCSEARCH_<NAME>` and its
docsearch.toml key is the field name (top level). A flag given on the command line wins over both.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from docsearch.errors import SettingsError

CONFIG_FILE = "docsearch.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    # Where the index lives.
    index: Path = Path(".docsearch")
    # Embedding model: a registered name (`minilm-l6-v2`) or a folder with model.onnx,
    # tokenizer.json and docsearch-model.json.
    model: str = "minilm-l6-v2"
    # Query side.
    top_k: int = 10
    rerank_count: int = 2000  # binary-phase candidates kept for the float rerank
    keyword_count: int = 200  # BM25 candidates kept for the float rerank
    # Fusion weights: see docsearch/search/fuse.py for the formula.
    weight_semantic: float = 1.0
    weight_keyword: float = 0.6
    weight_exact: float = 0.15
    # Index side.
    chunk_tokens: int = 512
    chunk_overlap: int = 48
    max_file_bytes: int = 2_000_000
    batch_size: int = 32
    threads: int = field(default_factory=lambda: min(os.cpu_count() or 1, 4))
    # Where settings came from, for `docsearch status` and error messages.
    config_file: Path | None = None

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
        values.update(_from_env(env))
        values.update({k: v for k, v in (flags or {}).items() if v is not None})
        settings = cls()
        coerced = {name: _coerce(name, value) for name, value in values.items()}
        return replace(settings, **coerced)


_FIELDS = {f.name: f for f in fields(Settings)}
_TYPES: dict[str, type] = {
    "index": Path,
    "model": str,
    "config_file": Path,
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
        if name == "config_file":
            continue
        key = f"DOCSEARCH_{name.upper()}"
        if env.get(key):
            out[name] = env[key]
    return out


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None
    unknown = sorted(set(data) - (set(_FIELDS) - {"config_file"}))
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(unknown)}")
    if "index" in data:
        # A relative index path in a config file is relative to that file, not to the cwd.
        data["index"] = path.parent / str(data["index"])
    return data
