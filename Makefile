# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: run test env models browser lint check install-check lock docs docs-check

env:
	./scripts/bootstrap.sh

# Environment, models (verified by SHA-256), index when missing, then the chat UI on 127.0.0.1:7860.
run: env
	.venv/bin/assistant serve

models: env
	.venv/bin/assistant models provision embeddinggemma-300m qwen2.5-coder-0.5b-instruct-q4_k_m

browser:
	./scripts/install-browser.sh

# Everything the tests need, the static checks, then the whole suite (unit, real-model, server,
# browser tests).
test: env models browser check
	.venv/bin/python -m pytest -q

lint: env
	.venv/bin/ruff check .

# What CI checks besides the tests: lint, formatting, and the generated parts of the docs.
check: env
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/cog --check README.md docs/*.md

# `pip install .` into a fresh venv, then the CLI from / (scripts/install-check.sh).
install-check:
	./scripts/install-check.sh

# Regenerate the lock (pip-tools in a throwaway venv; the CPU torch must be findable).
lock:
	d=$$(mktemp -d) && python3.11 -m venv $$d && $$d/bin/pip install -q pip-tools && \
	$$d/bin/pip-compile -q --generate-hashes --allow-unsafe --extra dev --no-emit-index-url \
	  --no-emit-find-links --strip-extras -o requirements/lock.txt pyproject.toml && \
	cd requirements && $$d/bin/pip-compile -q --generate-hashes --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --strip-extras -o llm-lock.txt llm.in && rm -rf $$d

docs: env
	.venv/bin/cog -r README.md docs/*.md

docs-check: env
	.venv/bin/cog --check README.md docs/*.md
