"""Browser latency of the chat: time from "Ask" to the first evidence shown and to the full
answer, measured in the page (Playwright + Debian chromium), median over 5 questions.

    .venv/bin/python -m evals.bench_ui [--mode local|extractive|openai] [--questions N]

Uses the configured settings (ASSISTANT_PROFILES, ASSISTANT__... overrides) and the index
under the data home; answers are not logged unless --log. Prints one JSON object.
"""

from __future__ import annotations

import ui  # noqa: F401  (offline / no-telemetry environment before gradio loads)

# isort: split
import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time

from assistant import paths
from assistant.settings import load_settings

QUESTIONS = [
    "Where is LIFT headquartered?",
    "How much non-core funding did the institutes attract in FY2022?",
    "EPIXC는 얼마의 연방 자금을 받나요?",
    "Manufacturing USA의 네 가지 목표는 무엇인가요?",
    "Which agency sponsors America Makes?",
]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

# Timestamps taken in the page (performance.now()) by a MutationObserver: when the answer's
# sources section first shows a source card (evidence), when the assistant message first
# shows streamed text (its cursor mark), and when the section turns final (or refused).
WATCH_JS = """
([index]) => {
  const b = window.__bench = {t0: null, evidence: null, first_text: null, final: null};
  const check = () => {
    const now = performance.now();
    const s = document.getElementById('answer-' + index);
    if (s && b.evidence === null && s.querySelector('.src-card')) b.evidence = now;
    const msgs = document.querySelectorAll('#chat .message-content');
    if (b.first_text === null && msgs.length >= 2) {
      // Streaming text ends with the cursor mark until the final answer replaces it.
      if (msgs[msgs.length - 1].innerText.includes('\u258d')) b.first_text = now;
    }
    if (s && b.final === null && ['final', 'refused'].includes(s.dataset.state)) {
      b.final = now;
      if (b.first_text === null) b.first_text = now;  // no streamed text (refusal, extractive)
      obs.disconnect();
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, characterData: true,
                              attributes: true});
  b.t0 = performance.now();
  document.querySelector('#send').click();
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--mode",
        choices=["local", "openai", "extractive", "fake"],
        help="LLM mode (default: the configured one)",
    )
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--log", action="store_true", help="log the answers to logs.db")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per answer")
    args = ap.parse_args(argv)

    import uvicorn
    from playwright.sync_api import sync_playwright

    from assistant.services import build_services
    from ui.app import build_app, warm

    settings = load_settings()
    if args.mode:
        settings.llm.mode = args.mode
    settings.log.enabled = args.log
    settings.ui.review_users = ""
    services = build_services(settings)
    if not services.index_ready():
        print(json.dumps({"error": "no index built: run `assistant index` first"}))
        return 1
    t = time.perf_counter()
    warm(services)
    services.answers.answer("What is Manufacturing USA?", source="ui", log=False)
    warm_s = time.perf_counter() - t

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(services),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/"

    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for q in QUESTIONS[: args.questions]:
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                page.goto(url)
                page.wait_for_selector("#question textarea")
                page.fill("#question textarea", q)
                page.evaluate(WATCH_JS, [0])
                page.wait_for_function(
                    "window.__bench && window.__bench.final !== null", timeout=args.timeout * 1000
                )
                b = page.evaluate("window.__bench")
                refused = page.locator("#answer-0").get_attribute("data-state") == "refused"

                def since(key: str, b: dict = b) -> float | None:
                    return None if b[key] is None else round((b[key] - b["t0"]) / 1000, 3)

                rows.append(
                    {
                        "question": q,
                        "evidence_s": since("evidence"),
                        "first_text_s": since("first_text"),
                        "answer_s": since("final"),
                        "refused": refused,
                    }
                )
                ctx.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=15)

    def median(key: str) -> float | None:
        vals = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(vals), 3) if vals else None

    gen = services.answers.generator(settings.llm.mode)
    out = {
        "llm_mode": settings.llm.mode,
        "llm_model": getattr(gen, "model_id", "extractive") if gen else "extractive",
        "embedding_model": settings.embedding.model,
        "questions": len(rows),
        "median_evidence_s": median("evidence_s"),
        "median_first_text_s": median("first_text_s"),
        "median_answer_s": median("answer_s"),
        "warm_up_s": round(warm_s, 1),
        "rows": rows,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "home": str(paths.home(settings)),
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
