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
# The same installation prepares its data home (models reused from the model store, the index
# built from the packaged corpus) and serves the chat; one question through the public API.
export ASSISTANT__LLM__MODE=extractive
"$V/venv/bin/assistant" prepare
PORT=$("$V/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$V/venv/bin/assistant" serve --no-prepare --port "$PORT" > "$V/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$V"' EXIT
"$V/venv/bin/python" - "$PORT" <<'PY'
import json, sys, time
import httpx
url = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 300
while True:  # the server is starting: poll until it answers (or give up)
    try:
        if httpx.get(url + "/", timeout=2).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    assert time.monotonic() < deadline, "the installed app did not come up"
    time.sleep(0.5)
r = httpx.post(url + "/gradio_api/call/ask", json={"data": ["Where is LIFT headquartered?", "[]"]}, timeout=60)
r.raise_for_status()
final = None
with httpx.stream("GET", f"{url}/gradio_api/call/ask/{r.json()['event_id']}", timeout=300) as s:
    for line in s.iter_lines():
        if line.startswith("data:"):
            payload = json.loads(line[5:])
            for item in payload if isinstance(payload, list) else []:
                event = json.loads(item) if isinstance(item, str) else item
                if isinstance(event, dict) and event.get("type") == "final":
                    final = event
assert final and "Detroit" in final["answer"]["answer"], final
print("installed package: the chat answered:", final["answer"]["answer"][:80])
PY
echo "==> install check passed"
