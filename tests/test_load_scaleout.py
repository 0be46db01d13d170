"""A running server under 20 concurrent chat sessions, and two app processes sharing one
Chroma server (a document added through one is answered by the other)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.servers import free_port

pytestmark = pytest.mark.network
BIN = Path(sys.executable).parent


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT__")}
    env.update(
        {
            "ASSISTANT_HOME": str(home),
            "ASSISTANT_PROFILES": "test",
            "ASSISTANT__LLM__MODE": "extractive",
            # the fake embedder's similarities are low: never refuse on them
            "ASSISTANT__ANSWER__MIN_DENSE_SCORE": "-1",
            "ASSISTANT__ANSWER__MIN_EVIDENCE_SCORE": "-1",
        }
    )
    env.update(extra)
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Server output goes to a file: an unread pipe fills up and blocks the server."""
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not come up")


def _serve(home: Path, port: int, **extra: str) -> subprocess.Popen:
    log = home / f"serve-{port}.log"
    proc = _start(
        [sys.executable, "-m", "assistant", "serve", "--no-prepare", "--port", str(port)],
        _env(home, **extra),
        log,
    )
    _wait_http(f"http://127.0.0.1:{port}/", proc, log)
    return proc


def _final(client, question: str) -> dict:
    last = None
    for out in client.submit(question, "[]", api_name="/ask"):
        last = out
    data = json.loads(last)
    assert data["type"] == "final", data
    return data


@pytest.fixture(scope="module")
def indexed_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("load-home")
    subprocess.run(
        [sys.executable, "-m", "assistant", "index"],
        env=_env(home),
        check=True,
        capture_output=True,
    )
    return home


def test_twenty_concurrent_sessions_complete_and_queueing_is_visible(indexed_home):
    from gradio_client import Client
    from gradio_client.utils import Status

    port = free_port()
    proc = _serve(indexed_home, port)
    try:
        questions = [
            "Where is LIFT headquartered?",
            "LIFT 본사는 어디인가요?",
            "How much did EPIXC get?",
            "EPIXC는 얼마의 연방 자금을 받나요?",
            "What are the four goals?",
        ] * 4
        clients = [Client(f"http://127.0.0.1:{port}/", verbose=False) for _ in questions]
        t0 = time.time()
        jobs = [c.submit(q, "[]", api_name="/ask") for c, q in zip(clients, questions, strict=True)]
        queued_ranks: list[int] = []
        while not all(j.done() for j in jobs) and time.time() - t0 < 240:
            for j in jobs:
                st = j.status()
                if st.code == Status.IN_QUEUE and st.rank is not None:
                    queued_ranks.append(st.rank)
            time.sleep(0.05)
        elapsed = time.time() - t0
        finals = [json.loads(j.outputs()[-1]) for j in jobs]
        assert all(f["type"] == "final" for f in finals), [
            f for f in finals if f["type"] != "final"
        ][:2]
        assert all(f["answer"]["answer"] for f in finals)
        assert elapsed < 240, elapsed
        assert max(queued_ranks, default=0) >= 1, "no request ever reported a queue position"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_two_app_processes_share_one_chroma_server(tmp_path):
    from gradio_client import Client

    chroma_port = free_port()
    chroma_log = tmp_path / "chroma.log"
    chroma = _start(
        [
            str(BIN / "chroma"),
            "run",
            "--path",
            str(tmp_path / "chroma"),
            "--host",
            "127.0.0.1",
            "--port",
            str(chroma_port),
        ],
        {**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        chroma_log,
    )
    procs = [chroma]
    try:
        _wait_http(
            f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", chroma, chroma_log, timeout=60
        )
        shared = {"ASSISTANT__VECTOR_STORE__MODE": "chroma_http", "CHROMA_PORT": str(chroma_port)}
        home_a, home_b = tmp_path / "a", tmp_path / "b"
        home_a.mkdir()
        home_b.mkdir()
        subprocess.run(
            [sys.executable, "-m", "assistant", "index"],
            env=_env(home_a, **shared),
            check=True,
            capture_output=True,
        )
        port_a, port_b = free_port(), free_port()
        procs.append(_serve(home_a, port_a, **shared))
        procs.append(_serve(home_b, port_b, **shared))
        question = "What does the Zorblax inspection protocol require?"
        before = _final(Client(f"http://127.0.0.1:{port_b}/", verbose=False), question)
        import psutil

        worker_b = psutil.Process(procs[-1].pid)
        rss_before = worker_b.memory_info().rss
        assert all("zorblax" not in (c["doc_id"] or "") for c in before["answer"]["citations"])

        doc = tmp_path / "zorblax.md"
        doc.write_text(
            "# Zorblax inspection protocol\n\nThe Zorblax inspection protocol requires 42 "
            "inspections per year at every Manufacturing USA institute.\n",
            encoding="utf-8",
        )
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "assistant",
                "corpus",
                "add",
                str(doc),
                "--title",
                "Zorblax protocol",
            ],
            env=_env(home_a, **shared),
            capture_output=True,
            text=True,
        )
        assert added.returncode == 0, added.stderr[-2000:]

        deadline = time.time() + 30
        while True:  # workers re-check the shared pointer every 2 s
            after = _final(Client(f"http://127.0.0.1:{port_b}/", verbose=False), question)
            cited = [c for c in after["answer"]["citations"] if "zorblax" in c["doc_id"]]
            if cited or time.time() > deadline:
                break
            time.sleep(1)
        assert cited and "42" in after["answer"]["answer"], after["answer"]
        # Worker B reopened the new build from the server without holding its vectors: no jump in RSS.
        assert worker_b.memory_info().rss - rss_before < 64 * 2**20
        assert not list(
            (home_b / "index").glob("builds/*/chroma")
        )  # no local vector store in server mode
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
