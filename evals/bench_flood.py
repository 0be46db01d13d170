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
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx

from evals.bench import free_port, stop_process, wait_for_http

QUESTION = "What does the plan say about supply chain resilience?"


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
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read at the end; a pipe would fill and block
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--no-prepare", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/", proc, timeout=300)
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc)}))
            return 1
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
        stop_process(proc, timeout=30)
        log.seek(0)
        err = log.read()
        log.close()
    result["traceback_in_server_log"] = b"Traceback" in err
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
