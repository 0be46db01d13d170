# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: run test env models browser lint docs docs-check

env:
	./scripts/bootstrap.sh

# Environment, models (verified by SHA-256), index when missing, then the chat UI on 127.0.0.1:7860.
run: env
	.venv/bin/assistant serve

models: env
	.venv/bin/assistant models provision embeddinggemma-300m qwen2.5-coder-0.5b-instruct-q4_k_m

browser:
	./scripts/install-browser.sh

# Everything the tests need, then the whole suite (unit, real-model, server, browser tests).
test: env models browser
	.venv/bin/python -m pytest -q

lint: env
	.venv/bin/ruff check assistant ui evals tests

docs: env
	.venv/bin/cog -r README.md docs/*.md

docs-check: env
	.venv/bin/cog --check README.md docs/*.md
