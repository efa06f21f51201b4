"""Local query models shaped like voyage-4-nano, `models add`, and `models pull` from a fake Hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from docsearch.embed.base import ModelIdentity
from docsearch.embed.download import ModelDownloader
from docsearch.embed.models import (
    KNOWN,
    VOYAGE_QUERY_PROMPT,
    ModelStore,
    load_query_embedder,
    query_identity,
    register_folder,
)
from docsearch.embed.onnx import OnnxEmbedder
from docsearch.errors import ModelMismatchError, ServiceError, SettingsError
from tests import tiny_model
from tests.conftest import make_settings
from tests.fake_hub import FakeHub
from tests.fake_hub import HubFile as ServedFile

VOYAGE_INDEX = ModelIdentity("voyage-4-large", "voyage-4", 256)


@pytest.mark.parametrize("pooled", [False, True], ids=["per-token", "pooled"])
def test_nano_shaped_model_with_matryoshka(tmp_path, pooled):
    folder = tiny_model.make_folder(tmp_path / "export", pooled=pooled)
    store = ModelStore(tmp_path / "cache")
    # No docsearch-model.json: registering under the known name supplies nano's settings.
    spec = register_folder(store, folder, name="voyage-4-nano")
    assert (spec.space, spec.dim, spec.query_prefix) == ("voyage-4", 2048, VOYAGE_QUERY_PROMPT)
    for dim in (2048, 256):
        sized = store.local_spec("voyage-4-nano").at_dimension(dim)
        vector = OnnxEmbedder(sized, threads=1).embed_query("how do I rebuild the index")
        expected = tiny_model.expected_vector(VOYAGE_QUERY_PROMPT + "how do I rebuild the index", dim)
        assert vector.shape == (dim,)
        np.testing.assert_allclose(vector, expected, atol=1e-5)
    # Batches pad; pooling must ignore the padding.
    texts = ["exit codes", "how do I rebuild the index docsearch models"]
    batch = OnnxEmbedder(spec, threads=1).embed_documents(texts)
    single = np.stack([OnnxEmbedder(spec, threads=1).embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_query_model_is_chosen_by_space_and_dimension(tmp_path):
    settings = make_settings(tmp_path / "idx", cache_dir=tmp_path / "cache")
    with pytest.raises(ModelMismatchError) as err:
        query_identity(settings, VOYAGE_INDEX)
    assert "docsearch models pull voyage-4-nano" in err.value.message
    register_folder(
        ModelStore(settings.cache_dir), tiny_model.make_folder(tmp_path / "nano", True), "voyage-4-nano"
    )
    assert query_identity(settings, VOYAGE_INDEX) == ModelIdentity("voyage-4-nano", "voyage-4", 256)
    embedder = load_query_embedder(settings, VOYAGE_INDEX)
    assert embedder.embed_query("exit codes").shape == (256,)
    # A dimension nano cannot make is refused, not truncated into nonsense.
    with pytest.raises(ModelMismatchError):
        query_identity(settings, ModelIdentity("voyage-4-large", "voyage-4", 300))
    # An explicit query model from another space is refused by name.
    other = make_settings(tmp_path / "idx", cache_dir=settings.cache_dir, query_model="minilm-l6-v2")
    with pytest.raises(ModelMismatchError) as err:
        load_query_embedder(other, VOYAGE_INDEX)
    assert "minilm-l6-v2" in err.value.message and "voyage-4-large" in err.value.message


def test_models_add_rejects_bad_folders(tmp_path):
    store = ModelStore(tmp_path / "cache")
    with pytest.raises(SettingsError, match="not a folder"):
        register_folder(store, tmp_path / "missing")
    folder = tiny_model.make_folder(tmp_path / "m", pooled=True)
    with pytest.raises(SettingsError, match=r"docsearch-model\.json"):
        register_folder(store, folder, name="my-model")
    (folder / "model.onnx").write_bytes(b"not onnx")
    with pytest.raises(SettingsError, match="does not run"):
        register_folder(store, folder, name="voyage-4-nano")
    assert store.registry() == {}


# --- models pull -----------------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path):
    built = tiny_model.make_folder(tmp_path / "built", pooled=True)
    served = FakeHub(
        [
            ServedFile(
                "thomasht86/voyage-4-nano-ONNX", "model_int8.onnx", (built / "model.onnx").read_bytes(), True
            ),
            ServedFile(
                "voyageai/voyage-4-nano", "tokenizer.json", (built / "tokenizer.json").read_bytes(), False
            ),
        ]
    ).start()
    yield served
    served.stop()


def downloader(hub: FakeHub, tmp_path: Path, retries: int = 3) -> ModelDownloader:
    return ModelDownloader(hub.endpoint, ModelStore(tmp_path / "cache"), retries=retries, backoff=0.0)


def test_pull_verifies_and_installs(hub, tmp_path):
    folder = downloader(hub, tmp_path).pull(KNOWN["voyage-4-nano"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "docsearch-model.json",
        "model.onnx",
        "source.json",
        "tokenizer.json",
    ]
    store = ModelStore(tmp_path / "cache")
    assert store.pulled("voyage-4-nano") and not (store.root / ".partial" / "voyage-4-nano").exists()
    vector = OnnxEmbedder(store.local_spec("voyage-4-nano").at_dimension(512), threads=1).embed_query(
        "exit codes"
    )
    np.testing.assert_allclose(
        vector, tiny_model.expected_vector(VOYAGE_QUERY_PROMPT + "exit codes", 512), atol=1e-5
    )


def test_pull_resumes_a_dropped_download(hub, tmp_path):
    hub.cut_after["model_int8.onnx"] = 5000
    downloader(hub, tmp_path).pull(KNOWN["voyage-4-nano"])
    assert hub.ranges == ["bytes=5000-"]
    assert ModelStore(tmp_path / "cache").pulled("voyage-4-nano")


def test_pull_resumes_across_runs(hub, tmp_path):
    hub.cut_after["model_int8.onnx"] = 7000
    with pytest.raises(ServiceError, match="again to resume"):
        downloader(hub, tmp_path, retries=0).pull(KNOWN["voyage-4-nano"])
    part = tmp_path / "cache" / "models" / ".partial" / "voyage-4-nano" / "model.onnx.part"
    assert part.stat().st_size == 7000
    assert not ModelStore(tmp_path / "cache").pulled("voyage-4-nano")
    downloader(hub, tmp_path).pull(KNOWN["voyage-4-nano"])  # the next run picks up at byte 7000
    assert hub.ranges == ["bytes=7000-"]


def test_pull_rejects_a_checksum_mismatch(hub, tmp_path):
    hub.wrong_sha256 = True
    with pytest.raises(ServiceError, match=r"checksum mismatch for model_int8\.onnx"):
        downloader(hub, tmp_path).pull(KNOWN["voyage-4-nano"])
    store = ModelStore(tmp_path / "cache")
    assert not store.pulled("voyage-4-nano")
    assert not (store.root / ".partial" / "voyage-4-nano" / "model.onnx.part").exists()


def test_pull_offline_is_a_clear_error(tmp_path):
    with pytest.raises(ServiceError, match=r"cannot reach http://127\.0\.0\.1:9"):
        ModelDownloader("http://127.0.0.1:9", ModelStore(tmp_path / "cache")).pull(KNOWN["voyage-4-nano"])


def run_cli(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docsearch", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_models_pull_list_remove(hub, tmp_path):
    env = {"HF_ENDPOINT": hub.endpoint, "DOCSEARCH_CACHE_DIR": str(tmp_path / "cache")}
    listed = json.loads(run_cli("models", "list", "--json", env=env).stdout)["models"]
    nano = next(m for m in listed if m["name"] == "voyage-4-nano")
    assert nano["installed"] is False and nano["space"] == "voyage-4"
    assert {m["name"] for m in listed} >= {"minilm-l6-v2", "voyage-4-large", "voyage-4-lite"}

    p = run_cli("models", "pull", "voyage-4-nano", env=env)
    assert p.returncode == 0, p.stderr
    listed = json.loads(run_cli("models", "list", "--json", env=env).stdout)["models"]
    assert next(m for m in listed if m["name"] == "voyage-4-nano")["installed"] is True

    p = run_cli("models", "pull", "voyage-4-large", env=env)
    assert p.returncode == 2 and "Voyage API" in p.stderr
    p = run_cli("models", "remove", "voyage-4-nano", env=env)
    assert p.returncode == 0 and not (tmp_path / "cache" / "models" / "voyage-4-nano").exists()

    offline = env | {"HF_ENDPOINT": "http://127.0.0.1:9"}
    p = run_cli("models", "pull", "voyage-4-nano", env=offline)
    assert p.returncode == 6 and p.stderr.startswith("error: cannot reach") and p.stderr.count("\n") == 1
