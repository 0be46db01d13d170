#!/usr/bin/env bash
# The installed distribution works on its own: a fresh venv, the locked dependencies, then
# `pip install .` (a wheel with the settings, the corpus and the eval sets as package data), and
# the CLI run from / with a data home of its own. Used by .ci/run; KEEP=1 keeps the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
V=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$V"' EXIT
echo "==> fresh venv in $V"
"$PYTHON" -m venv "$V/venv"
"$V/venv/bin/python" -m pip install -q --progress-bar off --require-hashes --no-deps -r requirements/lock.txt
"$V/venv/bin/python" -m pip install -q --progress-bar off .
cd /
export ASSISTANT_HOME="$V/home" HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1 ANONYMIZED_TELEMETRY=False
"$V/venv/bin/assistant" --version
"$V/venv/bin/assistant" corpus stats --json > "$V/stats.json"
"$V/venv/bin/python" - "$V/stats.json" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
pages = stats.get("pages") or stats.get("plan", {}).get("pages")
assert pages == 44, f"expected the plan's 44 pages, got {pages!r}: {stats}"
print(f"installed package: corpus stats from / give {pages} pages")
PY
"$V/venv/bin/python" -c "import assistant, pathlib; p = pathlib.Path(assistant.__file__).parent; assert (p / '_data' / 'settings.yaml').is_file(), 'settings.yaml not shipped'; print('package data in', p / '_data')"
echo "==> install check passed"
