import logging
from pathlib import Path

import pytest

from docsearch.errors import SettingsError
from docsearch.settings import Settings

from .conftest import run_docsearch


def test_defaults(tmp_path):
    s = Settings.resolve(env={}, cwd=tmp_path)
    assert s.index == Path(".docsearch") and s.top_k == 10 and s.model == ""
    assert s.config_file is None


def test_precedence_flags_over_env_over_toml_over_defaults(tmp_path):
    (tmp_path / "docsearch.toml").write_text(
        'top_k = 3\nrerank_count = 50\nkeyword_count = 7\nindex = "idx"\n'
    )
    env = {"DOCSEARCH_TOP_K": "4", "DOCSEARCH_RERANK_COUNT": "60"}
    s = Settings.resolve({"top_k": 5}, env=env, cwd=tmp_path)
    assert s.top_k == 5  # flag
    assert s.rerank_count == 60  # environment
    assert s.keyword_count == 7  # file
    assert s.chunk_tokens == 192  # default
    assert s.index == tmp_path / "idx"  # relative to the file
    assert s.config_file == tmp_path / "docsearch.toml"


def test_none_flags_do_not_override(tmp_path):
    s = Settings.resolve({"top_k": None}, env={"DOCSEARCH_TOP_K": "4"}, cwd=tmp_path)
    assert s.top_k == 4


@pytest.mark.parametrize(
    ("toml", "message"),
    [("top_k = [", "cannot read"), ("tpo_k = 3", "unknown setting"), ('top_k = "many"', "must be int")],
)
def test_bad_config_is_a_clear_error(tmp_path, toml, message):
    (tmp_path / "docsearch.toml").write_text(toml)
    with pytest.raises(SettingsError, match=message):
        Settings.resolve(env={}, cwd=tmp_path)


def test_bad_env_value(tmp_path):
    with pytest.raises(SettingsError, match="rerank_count"):
        Settings.resolve(env={"DOCSEARCH_RERANK_COUNT": "lots"}, cwd=tmp_path)


def test_explicit_missing_config_file(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        Settings.resolve(env={}, config_file=tmp_path / "nope.toml", cwd=tmp_path)


def test_api_key_comes_from_the_environment_only(tmp_path):
    s = Settings.resolve(env={"VOYAGE_API_KEY": "sk-abc"}, cwd=tmp_path)
    assert s.voyage_api_key == "sk-abc"
    assert "sk-abc" not in repr(s)
    (tmp_path / "docsearch.toml").write_text('voyage_api_key = "sk-abc"\n')
    with pytest.raises(SettingsError, match="environment"):
        Settings.resolve(env={}, cwd=tmp_path)


def test_voyage_and_download_settings(tmp_path):
    env = {
        "DOCSEARCH_VOYAGE_BASE_URL": "http://127.0.0.1:1/v1",
        "DOCSEARCH_VOYAGE_DIMENSION": "512",
        "HF_ENDPOINT": "http://mirror",
        "DOCSEARCH_CACHE_DIR": str(tmp_path / "c"),
    }
    s = Settings.resolve(env=env, cwd=tmp_path)
    assert (s.voyage_base_url, s.voyage_dimension, s.hf_endpoint) == (
        "http://127.0.0.1:1/v1",
        512,
        "http://mirror",
    )
    assert s.cache_dir == tmp_path / "c"
    both = Settings.resolve(env={**env, "DOCSEARCH_HF_ENDPOINT": "http://ours"}, cwd=tmp_path)
    assert both.hf_endpoint == "http://ours"
    for bad in ({"voyage_dimension": 300}, {"voyage_batch_size": 1001}, {"voyage_concurrency": 0}):
        with pytest.raises(SettingsError):
            Settings.resolve(bad, env={}, cwd=tmp_path)


def test_float_memory_budget(tmp_path):
    from docsearch.settings import Settings

    assert Settings.resolve(env={}, cwd=tmp_path).float_memory_mb == 256
    assert Settings.resolve(env={"DOCSEARCH_FLOAT_MEMORY_MB": "0"}, cwd=tmp_path).float_memory_mb == 0
    with pytest.raises(SettingsError, match="float_memory_mb"):
        Settings.resolve(env={"DOCSEARCH_FLOAT_MEMORY_MB": "-1"}, cwd=tmp_path)


def test_float_vectors_are_held_in_memory_within_the_budget(corpus_index, embedder):
    import numpy as np

    from docsearch.search.searcher import Searcher

    from .conftest import make_settings

    settings = make_settings(corpus_index)
    searcher = Searcher(settings, embedder=embedder)
    count, dim = searcher.reader.meta.count, searcher.reader.meta.document_model.dim
    assert not searcher.rerank.preload(max_bytes=count * dim * 2 - 1)  # not even float16 fits
    assert searcher.rerank.preload(max_bytes=count * dim * 2)  # float16 fits, float32 not
    assert searcher.rerank._all is not None and searcher.rerank._all.dtype == np.float16
    # A small index is read whole on the first search anyway (float32, no budget involved).
    fresh = Searcher(settings, embedder=embedder)
    expected = [(h.fragment.ref, round(h.float, 2)) for h in fresh.search("crash safety").hits]
    assert [(h.fragment.ref, round(h.float, 2)) for h in searcher.search("crash safety").hits] == expected


def test_a_misspelled_environment_variable_is_a_warning_naming_the_right_one(tmp_path, caplog):
    env = {
        "DOCSEARCH_TOPK": "5",  # misspelled: ignored, as before, but no longer silently
        "DOCSEARCH_RERANK_COUNT": "60",
        "DOCSEARCH_CONFIG": "",
        "DOCSEARCH_WIBBLE": "1",
        "DOCSEARCH_OPENAI_API_KEY": "sk-not-shown-0123",
        "HOME": "/root",
    }
    with caplog.at_level(logging.WARNING, logger="docsearch"):
        s = Settings.resolve(env=env, cwd=tmp_path)
        Settings.resolve(env=env, cwd=tmp_path)  # said once per process, not per resolve
    assert s.top_k == 10 and s.rerank_count == 60 and s.openai_api_key == ""
    assert [r.getMessage() for r in caplog.records] == [
        "DOCSEARCH_OPENAI_API_KEY is not a docsearch setting and is ignored (did you mean OPENAI_API_KEY?)",
        "DOCSEARCH_TOPK is not a docsearch setting and is ignored (did you mean DOCSEARCH_TOP_K?)",
        "DOCSEARCH_WIBBLE is not a docsearch setting and is ignored",
    ]
    assert not any("sk-not-shown" in r.getMessage() for r in caplog.records)


def test_the_cli_says_so_on_stderr_and_runs_on(tmp_path):
    p = run_docsearch("status", "--index", tmp_path / "none", env={"DOCSEARCH_KEYWORD_CONT": "9"})
    assert (
        "warning: DOCSEARCH_KEYWORD_CONT is not a docsearch setting and is ignored "
        "(did you mean DOCSEARCH_KEYWORD_COUNT?)"
    ) in p.stderr.splitlines()
    assert "Traceback" not in p.stderr
