import pytest

from assistant.errors import ConfigError
from assistant.settings import deep_merge, expand_env, load_settings


def test_base_profile_defaults():
    s = load_settings(env={}, profiles=[])
    assert s.embedding.mode == "sentence_transformers"
    assert s.llm.mode == "local"
    assert s.models.catalog["embeddinggemma-300m"].sha256.startswith("cbf5a783")
    assert s.profile == "default"


def test_profiles_merge_in_order_later_wins(tmp_path):
    s = load_settings(env={"ASSISTANT_HOME": str(tmp_path)}, profiles=["test", "small"])
    assert s.embedding.mode == "fake"  # from settings-test.yaml
    assert s.llm.mode == "fake"
    assert s.llm.local.model == "qwen2.5-coder-0.5b-instruct-q4_k_m"  # from settings-small.yaml
    assert s.llm.local.n_ctx == 2048  # untouched base value survives the merge
    assert s.profile == "test,small"


def test_env_expansion_takes_env_as_dict():
    s = load_settings(env={"ASSISTANT_PORT": "9999", "OPENAI_MODEL": "m1"}, profiles=[])
    assert s.ui.port == 9999
    assert s.llm.openai.model == "m1"


def test_env_override_single_keys_and_nested_dict():
    env = {"ASSISTANT__LLM__MODE": "extractive", "ASSISTANT__RETRIEVAL__WEIGHTS__EN__BM25": "0.7"}
    s = load_settings(env=env, profiles=[])
    assert s.llm.mode == "extractive"
    assert s.retrieval.weights["en"].bm25 == 0.7
    assert s.retrieval.weights["ko"].bm25 == 0.3


def test_typo_in_mode_fails_at_load():
    with pytest.raises(ConfigError, match="llm"):
        load_settings(env={"ASSISTANT__LLM__MODE": "gpt5"}, profiles=[])


def test_unknown_profile_fails():
    with pytest.raises(ConfigError, match="settings-nope.yaml"):
        load_settings(env={}, profiles=["nope"])


def test_required_variable_without_default_fails():
    with pytest.raises(ConfigError, match="NEEDED"):
        expand_env({"a": "${NEEDED}"}, {})
    assert expand_env({"a": "${NEEDED}", "b": ["x-${N:3}"]}, {"NEEDED": "1"}) == {"a": 1, "b": ["x-3"]}


def test_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
