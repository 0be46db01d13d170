"""`assistant bench`: index build, retrieval and answer latency, server RSS, concurrent throughput.

1. Cold index build of the plan in a new temporary ASSISTANT_HOME with an empty vector cache,
   a warm rebuild (nothing changed: a no-op) and a forced rebuild (every vector from the cache).
2. Retrieval latency over ``limit`` questions, with the embedder already loaded (its load
   time and the index load time are reported apart).
3. For each mode: time to first token and to the full answer after ``answers.warm(mode)``.
4. Peak RSS of a server process (`python -m assistant serve --no-prepare`, with its children)
   while a few chat requests go through gradio_client to the streaming ``/ask`` endpoint.
5. Throughput with 4 concurrent chat clients against the same server.

Steps that cannot run (no LLM provisioned, no UI endpoint yet) report ``"skipped: <reason>"``.
The result is JSON-able; progress goes to stderr.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from tqdm import tqdm

from assistant import paths
from assistant.settings import Settings
from evals.metrics import mean, percentile
from evals.sweep import assistant_home, home_settings

ENDPOINT = "/ask"
CONCURRENT_CLIENTS = 4
SERVER_START_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 600.0


# ----------------------------------------------------------------------------- helpers


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def latency_stats(values: list[float]) -> dict[str, Any]:
    """n, p50, p95, mean and max of a list of seconds (None values are dropped)."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"n": 0, "p50": None, "p95": None, "mean": None, "max": None}
    return {
        "n": len(vals),
        "p50": round(percentile(vals, 0.5), 4),
        "p95": round(percentile(vals, 0.95), 4),
        "mean": round(mean(vals), 4),
        "max": round(max(vals), 4),
    }


def throughput(done: int, seconds: float) -> float | None:
    """Completed requests per minute."""
    return round(done / seconds * 60.0, 2) if seconds > 0 else None


def machine_info() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": affinity,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 2),
    }


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all of its children."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class RssSampler:
    """Samples the RSS of a process tree in a background thread; ``peak`` in bytes.

    ``mark(name)`` records the current and the peak-so-far values under a name, so one
    sampler can tell the idle footprint from the peak under load.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.peak = 0
        self.marks: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        rss = tree_rss(self.pid)
        if rss:
            self.samples.append((time.perf_counter() - self._t0, rss))
            self.peak = max(self.peak, rss)
        return rss

    def wait_settled(
        self, window: float = 3.0, tolerance: float = 0.02, timeout: float = 180.0
    ) -> float:
        """Seconds until the RSS stays within ``tolerance`` for ``window`` seconds (a server
        that loads its models in a background thread after it starts answering HTTP)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            time.sleep(min(0.5, window / 4))
            now = time.perf_counter() - self._t0
            recent = [rss for t, rss in list(self.samples) if t >= now - window]
            covered = self.samples and self.samples[0][0] <= now - window
            if covered and len(recent) >= 3 and max(recent) <= min(recent) * (1 + tolerance):
                return time.perf_counter() - t0
        return time.perf_counter() - t0

    def mark(self, name: str) -> None:
        now = self.sample()
        self.marks[name] = {"rss_mb": mb(now), "peak_mb": mb(self.peak)}

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> RssSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mb(n: int | float) -> float:
    return round(n / 2**20, 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(
    url: str, proc: subprocess.Popen | None = None, timeout: float = SERVER_START_TIMEOUT_S
) -> float:
    """Seconds until ``url`` answers; raises RuntimeError when the process exits first."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code < 500:
                return time.perf_counter() - t0
        time.sleep(0.5)
    raise RuntimeError(f"server did not answer at {url} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Terminate a process this module started, and its children (by pid)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    for c in children:
        with contextlib.suppress(psutil.Error):
            c.kill()


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ----------------------------------------------------------------------------- chat client


def chat_once(client, question: str, timeout: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:  # noqa: ANN001
    """One streaming request to /ask: seconds to the first streamed output and to the end."""
    t0 = time.perf_counter()
    job = client.submit(question, "[]", api_name=ENDPOINT)
    first = None
    while not job.done():
        if first is None and job.outputs():
            first = time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            job.cancel()
            raise TimeoutError(f"no answer within {timeout:.0f} s")
        time.sleep(0.005)
    job.result()  # raises the server's error, if any
    total = time.perf_counter() - t0
    return {
        "first_output_s": first if first is not None else total,
        "total_s": total,
        "updates": len(job.outputs()),
    }


def _client(url: str):  # noqa: ANN202
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def check_endpoint(client) -> str | None:  # noqa: ANN001
    """None when the server has the /ask endpoint, else why not."""
    try:
        api = client.view_api(print_info=False, return_format="dict") or {}
    except Exception as exc:  # noqa: BLE001
        return f"cannot read the server's API: {exc}"
    named = api.get("named_endpoints") or {}
    if ENDPOINT not in named:
        return f"the UI has no {ENDPOINT} endpoint (has: {', '.join(sorted(named)) or 'none'})"
    return None


def concurrent_chat(
    url: str, questions: list[str], clients: int = CONCURRENT_CLIENTS
) -> dict[str, Any]:
    """``questions`` spread over ``clients`` concurrent clients: throughput and latencies."""
    conns = [_client(url) for _ in range(clients)]  # connect before the clock starts
    work = list(enumerate(questions))
    lock = threading.Lock()
    results: list[dict] = []
    errors: list[str] = []
    bar = tqdm(total=len(questions), desc=f"{clients} concurrent clients", file=sys.stderr)

    def worker(k: int) -> None:
        while True:
            with lock:
                if not work:
                    return
                _, q = work.pop(0)
            try:
                r = chat_once(conns[k], q)
                with lock:
                    results.append(r)
            except Exception as exc:  # noqa: BLE001 - count it, keep going
                with lock:
                    errors.append(str(exc)[:200])
            bar.update(1)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - t0
    bar.close()
    for c in conns:
        with contextlib.suppress(Exception):
            c.close()
    return {
        "clients": clients,
        "requests": len(questions),
        "completed": len(results),
        "errors": errors[:5],
        "error_count": len(errors),
        "wall_s": round(wall, 2),
        "questions_per_minute": throughput(len(results), wall),
        "first_output_s": latency_stats([r["first_output_s"] for r in results]),
        "total_s": latency_stats([r["total_s"] for r in results]),
    }


# ----------------------------------------------------------------------------- steps


def bench_index(services) -> dict[str, Any]:  # noqa: ANN001
    """Cold build (empty vector cache), warm rebuild (no-op) and forced rebuild (cached vectors)."""
    out: dict[str, Any] = {}
    say("cold index build (empty vector cache) …")
    rep = services.build_index(progress=True)
    out["cold"] = {
        "seconds": round(rep.seconds, 2),
        "chunks": rep.manifest.chunks,
        "sentences": rep.manifest.sentences,
        "embedded": rep.chunks_embedded + rep.sentences_embedded,
    }
    say("warm rebuild (nothing changed) …")
    t0 = time.perf_counter()
    rep = services.build_index()
    out["warm"] = {"seconds": round(time.perf_counter() - t0, 3), "changed": rep.changed}
    say("forced rebuild (vectors from the cache) …")
    rep = services.build_index(force=True)
    out["force"] = {
        "seconds": round(rep.seconds, 2),
        "embedded": rep.chunks_embedded + rep.sentences_embedded,
        "chunks": rep.manifest.chunks,
        "sentences": rep.manifest.sentences,
    }
    return out


def bench_retrieval(services, questions: list) -> dict[str, Any]:  # noqa: ANN001
    from assistant.answer.frame import build_frame, query_for

    retriever = services.retriever
    t0 = time.perf_counter()
    _ = retriever.snapshot
    load_s = time.perf_counter() - t0
    embed, search, total = [], [], []
    for q in tqdm(questions, desc="retrieval", file=sys.stderr):
        t0 = time.perf_counter()
        query = query_for(build_frame(q.question, q.history, services.settings.answer.default_lang))
        qvec = retriever.embed_query(query)
        t1 = time.perf_counter()
        retriever.search(query, qvec=qvec)
        t2 = time.perf_counter()
        embed.append(t1 - t0)
        search.append(t2 - t1)
        total.append(t2 - t0)
    # Quantity extraction over the whole cleaned plan (every chunk once), as the index build does.
    from assistant.numbers import find_quantities

    plan = "\n".join(
        d or "" for d in retriever.snapshot.chunks.get(include=["documents"])["documents"]
    )
    numbers = []
    for _ in range(3):
        t0 = time.perf_counter()
        find_quantities(plan)
        numbers.append(time.perf_counter() - t0)
    return {
        "index_load_s": round(load_s, 3),
        "numbers_plan_s": latency_stats(numbers) | {"chars": len(plan)},
        "embed_s": latency_stats(embed),
        "search_s": latency_stats(search),
        "total_s": latency_stats(total),
    }


def bench_answers(services, questions: list, mode: str) -> dict[str, Any] | str:  # noqa: ANN001
    try:
        t0 = time.perf_counter()
        services.answers.warm(mode)
        warm_s = time.perf_counter() - t0
        first, total, refused = [], [], 0
        for q in tqdm(questions, desc=f"answers ({mode})", file=sys.stderr):
            ans = services.answers.answer(q.question, q.history, mode, source="bench", log=False)
            first.append(ans.timings.first_token_s)
            total.append(ans.timings.total_s)
            refused += int(ans.refused)
    except Exception as exc:  # noqa: BLE001 - e.g. the LLM is not provisioned
        return f"skipped: {type(exc).__name__}: {exc}"
    return {
        "warm_s": round(warm_s, 2),
        "first_token_s": latency_stats(first),
        "total_s": latency_stats(total),
        "refused": refused,
    }


def bench_settings(settings: Settings, home: Path) -> Settings:
    """The settings with every data path under ``home`` and the home's own, empty vector
    cache (a cold build must embed everything). Refuses anything that would touch the real
    index."""
    from assistant.index import IndexLayout

    out = home_settings(settings, home, vector_cache=None)
    cache = IndexLayout(out).cache_path.resolve()
    if not cache.is_relative_to(Path(home).resolve()) or cache.exists():
        raise RuntimeError(f"the bench needs an empty vector cache under {home}, got {cache}")
    return out


def server_env(settings: Settings, home: Path, mode: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ASSISTANT_HOME"] = str(home)
    env["ASSISTANT__DATA__HOME"] = str(home)  # whatever settings.yaml does with ASSISTANT_HOME
    env["ASSISTANT__LLM__MODE"] = mode
    if settings.profile and settings.profile != "default":
        env["ASSISTANT_PROFILES"] = settings.profile
    else:
        env.pop("ASSISTANT_PROFILES", None)
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    return env


def bench_server(
    settings: Settings, home: Path, mode: str, questions: list[str], sequential: int = 4
) -> dict[str, Any] | str:
    """Steps 4 and 5 for one mode: RSS while chatting, then 4 concurrent clients.

    RSS marks: when HTTP first answers, after the warm-up settled (ready), after the first
    (cold) request, after ``sequential`` more requests, after the concurrent step; and the
    peak of the process tree over the whole life of the server.
    """
    import importlib.util

    if importlib.util.find_spec("ui") is None or importlib.util.find_spec("ui.app") is None:
        return "skipped: ui/app.py is not there yet"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = home / f"bench-server-{mode}.log"
    cmd = [
        sys.executable,
        "-m",
        "assistant",
        "serve",
        "--no-prepare",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    say(f"starting server ({mode}) on port {port} …")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd,
            env=server_env(settings, home, mode),
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=str(paths.project_root()),
        )
    sampler = RssSampler(proc.pid).start()
    try:
        try:
            start_s = wait_for_http(url, proc)
        except RuntimeError as exc:
            return f"skipped: {exc}: {_tail(log, 6)}"
        client = _client(url)
        why = check_endpoint(client)
        if why:
            return f"skipped: {why}"
        sampler.mark("http_ready")
        say("waiting for the server's warm-up (RSS to settle) …")
        settle_s = sampler.wait_settled()
        sampler.mark("ready")
        cold = chat_once(client, questions[0])  # first request: lazy loads not done by warm-up
        sampler.mark("after_first")
        seq = []
        for q in tqdm(questions[1 : sequential + 1], desc=f"server chat ({mode})", file=sys.stderr):
            seq.append(chat_once(client, q))
        sampler.mark("after_sequential")
        conc = concurrent_chat(
            url,
            questions
            if len(questions) >= CONCURRENT_CLIENTS
            else (questions * CONCURRENT_CLIENTS)[:CONCURRENT_CLIENTS],
        )
        sampler.mark("after_concurrent")
        return {
            "startup_s": round(start_s, 1),
            "warmup_s": round(settle_s, 1),
            "first_request": {k: round(v, 3) for k, v in cold.items()},
            "rss_mb": {
                "http_ready": sampler.marks["http_ready"]["rss_mb"],
                "ready": sampler.marks["ready"]["rss_mb"],
                "after_first": sampler.marks["after_first"]["rss_mb"],
                "peak": mb(sampler.peak),
                "peak_sequential": sampler.marks["after_sequential"]["peak_mb"],
                "after_concurrent": sampler.marks["after_concurrent"]["rss_mb"],
                "samples": len(sampler.samples),
            },
            "sequential": {
                "requests": len(seq),
                "first_output_s": latency_stats([r["first_output_s"] for r in seq]),
                "total_s": latency_stats([r["total_s"] for r in seq]),
            },
            "concurrent": conc,
        }
    except Exception as exc:  # noqa: BLE001 - report, never crash the whole bench
        return f"skipped: {type(exc).__name__}: {exc}"
    finally:
        sampler.stop()
        stop_process(proc)


# ----------------------------------------------------------------------------- main


def run_bench(
    settings: Settings,
    questions_path: Path,
    modes: list[str],
    limit: int,
    label: str,
    keep_home: bool = False,
    server: bool = True,
) -> dict:
    """Run every benchmark step; returns a JSON-able dict (also usable before/after a change)."""
    from assistant.services import build_services
    from evals.dataset import load_questions

    t_start = time.perf_counter()
    questions = [q for q in load_questions(Path(questions_path)) if q.answerable][:limit]
    result: dict[str, Any] = {
        "label": label,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {
            "profile": settings.profile,
            "embedding": settings.embedding.model,
            "embedding_mode": settings.embedding.mode,
            "llm_local": settings.llm.local.model,
            "modes": modes,
            "questions": len(questions),
            "questions_file": str(questions_path),
        },
    }
    home = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    result["home"] = str(home)
    try:
        bsettings = bench_settings(settings, home)
        with assistant_home(home):
            services = build_services(bsettings)
            say("loading the embedding model …")
            t0 = time.perf_counter()
            _ = services.embedder
            result["embedder_load_s"] = round(time.perf_counter() - t0, 2)
            result["index"] = bench_index(services)
            say(f"retrieval latency over {len(questions)} questions …")
            result["retrieval"] = bench_retrieval(services, questions)
            result["answers"] = {}
            for mode in modes:
                say(f"answers ({mode}) over {len(questions)} questions …")
                result["answers"][mode] = bench_answers(services, questions, mode)
        result["server"] = {}
        for mode in modes:
            if not server:
                result["server"][mode] = "skipped: disabled"
                continue
            result["server"][mode] = bench_server(
                settings, home, mode, [q.question for q in questions]
            )
            if isinstance(result["server"][mode], str):
                say(f"server ({mode}): {result['server'][mode]}")
    finally:
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - t_start, 1)
    return result
