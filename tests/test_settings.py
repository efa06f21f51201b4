from pathlib import Path

import pytest

from docsearch.errors import SettingsError
from docsearch.settings import Settings


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
    assert s.chunk_tokens == 512  # default
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
    with pytest.raises(SettingsError, match="weight_keyword"):
        Settings.resolve(env={"DOCSEARCH_WEIGHT_KEYWORD": "lots"}, cwd=tmp_path)


def test_explicit_missing_config_file(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        Settings.resolve(env={}, config_file=tmp_path / "nope.toml", cwd=tmp_path)
