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
    # Expansion keeps strings: the field's type decides (never YAML).
    assert expand_env({"a": "${NEEDED}", "b": ["x-${N:3}"]}, {"NEEDED": "1"}) == {
        "a": "1",
        "b": ["x-3"],
    }


def test_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {
        "a": {"b": 1, "c": 3},
        "d": 4,
    }


@pytest.mark.parametrize("raw", ["0123", "1.5", "yes", "a: b", "[x]", "null", "~", "{}"])
def test_values_from_the_environment_arrive_as_the_strings_they_were(raw):
    env = {
        "OPENAI_API_KEY": raw,
        "OPENAI_MODEL": raw,
        "ASSISTANT_REVIEW_USERS": raw,
        "ASSISTANT__LLM__OPENAI__BASE_URL": raw,
    }
    s = load_settings(env=env, profiles=[])
    assert s.llm.openai.api_key.get_secret_value() == raw
    assert s.llm.openai.model == raw and s.llm.openai.base_url == raw
    assert s.ui.review_users.get_secret_value() == raw


def test_typed_fields_are_parsed_by_their_type():
    env = {
        "ASSISTANT_PORT": "0123",
        "ASSISTANT__LOG__ENABLED": "no",
        "ASSISTANT__LLM__TEMPERATURE": "0.5",
        "ASSISTANT__ANSWER__DISABLED_STEPS": "gate_kind, recite",
        "ASSISTANT_PDF_PAGE_OFFSET": "",
    }
    s = load_settings(env=env, profiles=[])
    assert s.ui.port == 123 and s.log.enabled is False and s.llm.temperature == 0.5
    assert s.answer.disabled_steps == ["gate_kind", "recite"] and s.data.pdf_page_offset is None
    s = load_settings(
        env={"ASSISTANT__ANSWER__DISABLED_STEPS": '["records"]', "ASSISTANT_PDF_PAGE_OFFSET": "6"},
        profiles=[],
    )
    assert s.answer.disabled_steps == ["records"] and s.data.pdf_page_offset == 6


def test_a_bad_value_names_the_key_and_never_prints_a_secret():
    with pytest.raises(ConfigError) as err:
        load_settings(
            env={"ASSISTANT_PORT": "eighty", "OPENAI_API_KEY": "sk-very-secret-0123"}, profiles=[]
        )
    message = err.value.user_message()
    assert "ui.port" in message and "eighty" not in message and "sk-very-secret" not in message
    with pytest.raises(ConfigError) as err:
        load_settings(
            env={
                "ASSISTANT__LLM__OPENAI__API_KEY": "sk-very-secret-0123",
                "ASSISTANT__LLM__OPENAI__X": "1",
            },
            profiles=[],
        )
    assert "sk-very-secret" not in err.value.user_message()
    assert "sk-very-secret" not in repr(
        load_settings(env={"OPENAI_API_KEY": "sk-very-secret-0123"}, profiles=[])
    )


def test_a_users_own_settings_file(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text("llm:\n  mode: extractive\nui:\n  port: 8123\n", encoding="utf-8")
    s = load_settings(env={"ASSISTANT_CONFIG": str(own)}, profiles=[])
    assert s.llm.mode == "extractive" and s.ui.port == 8123
    assert load_settings(env={}, profiles=[], config=own).ui.port == 8123
    with pytest.raises(ConfigError, match="not found"):
        load_settings(env={"ASSISTANT_CONFIG": str(tmp_path / "missing.yaml")}, profiles=[])
