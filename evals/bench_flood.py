"""Flood bench (hardening): a normal question's time while 20 clients send oversized histories.

    .venv/bin/python -m evals.bench_flood [--mode extractive] [--flood 20] [--repeats 3]

Starts ``assistant serve`` on 127.0.0.1 over the index under the data home (answers not
logged), times a normal question through the public ``/ask`` API unloaded (median of
``--repeats``), then again while ``--flood`` clients each send a 10-character question with a
1 MB history turn. Prints one JSON object: unloaded and loaded seconds, their ratio, how the
flood requests ended, and whether the server's log holds a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

QUESTION = "What does the plan say about supply chain resilience?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(url: str, question: str, history: list) -> tuple[float, str]:
    """One /ask call through Gradio's REST API and its event stream: (seconds, outcome)."""
    t0 = time.perf_counter()
    body = json.dumps({"data": [question, json.dumps(history)]}).encode()
    r = httpx.post(
        f"{url}/gradio_api/call/ask",
        content=body,
        headers={"content-type": "application/json"},
        timeout=120,
    )
    if r.status_code != 200:
        return time.perf_counter() - t0, f"http {r.status_code}"
    outcome = "no final"
    with httpx.stream(
        "GET", f"{url}/gradio_api/call/ask/{r.json()['event_id']}", timeout=300
    ) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: error"):
                outcome = "error"
            if line.startswith("data:") and '\\"type\\": \\"final\\"' in line:
                outcome = "final"
    return time.perf_counter() - t0, outcome


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="extractive", choices=["extractive", "local", "fake"])
    ap.add_argument("--flood", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--question", default=QUESTION, help="the normal question timed")
    args = ap.parse_args(argv)

    port = free_port()
    env = dict(os.environ, ASSISTANT__LLM__MODE=args.mode, ASSISTANT__LOG__ENABLED="false")
    env.pop("ASSISTANT_REVIEW_USERS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--no-prepare", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                print(json.dumps({"error": proc.stderr.read().decode(errors="replace")[-2000:]}))
                return 1
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print(json.dumps({"error": "server did not come up"}))
                return 1
            time.sleep(0.5)  # polling a starting server, not synchronising a test
        ask(url, args.question, [])  # warm: first answer loads the models
        unloaded = [ask(url, args.question, [])[0] for _ in range(args.repeats)]

        huge = [{"role": "user", "content": "x" * 1_000_000}]
        flood_results: list[tuple[float, str]] = []
        lock = threading.Lock()

        def flood() -> None:
            res = ask(url, "LIFT info?", huge)
            with lock:
                flood_results.append(res)

        loaded = []
        for _ in range(args.repeats):
            threads = [threading.Thread(target=flood) for _ in range(args.flood)]
            for t in threads:
                t.start()
            loaded.append(ask(url, args.question, [])[0])
            for t in threads:
                t.join()
        outcomes: dict[str, int] = {}
        for _, o in flood_results:
            outcomes[o] = outcomes.get(o, 0) + 1
        u, lo = statistics.median(unloaded), statistics.median(loaded)
        result = {
            "mode": args.mode,
            "question": args.question,
            "flood_clients": args.flood,
            "unloaded_s": [round(x, 3) for x in unloaded],
            "loaded_s": [round(x, 3) for x in loaded],
            "unloaded_p50_s": round(u, 3),
            "loaded_p50_s": round(lo, 3),
            "ratio": round(lo / u, 2),
            "flood_outcomes": outcomes,
            "flood_p50_s": round(statistics.median(x for x, _ in flood_results), 3),
        }
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    result["traceback_in_server_log"] = b"Traceback" in (err or b"")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
