"""Every test runs with ASSISTANT_HOME in a temporary folder and offline settings.

Unit tests use the `test` profile (fake embedder and LLM). Tests marked `slow` use the
real models through the session-scoped `real_services` fixture (tests/fixtures/real.py),
which builds the real index once per session.
"""

import os

import pytest

pytest_plugins = ["tests.fixtures.corpus", "tests.fixtures.real", "tests.fixtures.servers"]

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
for _k, _v in OFFLINE_ENV.items():
    os.environ.setdefault(_k, _v)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Tests never touch the real index/, logs.db or user corpus."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    monkeypatch.setenv("ASSISTANT_PROFILES", "test")
    for key in [k for k in os.environ if k.startswith("ASSISTANT__")]:
        monkeypatch.delenv(key)
    return home
