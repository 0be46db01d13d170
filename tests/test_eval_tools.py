"""eval compare / sweep / bench helpers, on synthetic runs and the fake-embedder tiny index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from assistant import paths
from assistant.components.embedding import FakeEmbedder
from assistant.errors import ConfigError
from assistant.index import IndexLayout, IndexService
from evals.bench import (
    RssSampler,
    bench_settings,
    chat_once,
    check_endpoint,
    latency_stats,
    server_env,
    stop_process,
    throughput,
    tree_rss,
)
from evals.compare import compare_runs, format_comparison
from evals.dataset import load_questions
from evals.sweep import (
    apply_overrides,
    combinations,
    combo_slug,
    format_sweep,
    home_settings,
    parse_set,
    run_sweep,
)
from tests.test_eval_report import make_run

# ----------------------------------------------------------------------------- compare


def test_compare_deltas_and_changed_questions(tmp_path):
    a = make_run(tmp_path / "a", variant="a")
    b = make_run(tmp_path / "b", variant="b")
    diff = compare_runs(a, b)
    d = diff["deltas"]
    assert d["retrieval.hybrid.en.hit@1"] == {
        "a": 0.6123,
        "b": 0.75,
        "delta": pytest.approx(0.1377),
    }
    assert d["answers.all.key_fact_accuracy"]["delta"] == pytest.approx(0.5 - 0.8771)
    assert d["retrieval.dense.ko.hit@1"]["delta"] == 0
    assert "answers.en.refusal_accuracy" not in d  # None in both runs: not a number
    changed = {q["id"]: q for q in diff["changed"]}
    assert set(changed) == {"en-002", "ko-001", "ko-002"}
    assert "answer wrong → correct" in changed["en-002"]["changes"]
    assert any(
        c.startswith("hybrid hit@5 hit → miss (rank 2 → 7)") for c in changed["en-002"]["changes"]
    )
    assert changed["ko-001"]["changes"] == ["answer correct → wrong"]
    assert "refused → answered" in changed["ko-002"]["changes"]
    assert changed["en-002"]["a"]["answer"] and changed["en-002"]["b"]["answer"]
    s = diff["summary"]
    assert (s["answers_fixed"], s["answers_broken"], s["now_answered"], s["hybrid_hit@5_lost"]) == (
        1,
        2,
        1,
        1,
    )
    json.dumps(diff)  # JSON-able for --json

    text = format_comparison(diff)
    assert "retrieval.hybrid.en.hit@1" in text and "+0.1377" in text and "better" in text
    assert "answers.all.key_fact_accuracy" in text and "worse" in text
    assert "en-002" in text and "refused → answered" in text
    assert "metrics unchanged, not shown" in text
    assert "retrieval.dense.ko.hit@1" in format_comparison(diff, show_unchanged=True)


def test_compare_retrieval_only_against_full_run(tmp_path):
    diff = compare_runs(
        make_run(tmp_path / "a", answers=False), make_run(tmp_path / "b", variant="b")
    )
    assert not any(k.startswith("answers.") for k in diff["deltas"])
    assert "answers.all.key_fact_accuracy" in diff["only_in_b"]
    assert [q["id"] for q in diff["changed"]] == [
        "en-002"
    ]  # only the retrieval change is comparable
    assert "A:" in format_comparison(diff)


# ----------------------------------------------------------------------------- sweep parsing


def test_parse_set_values_are_yaml_scalars():
    assert parse_set("retrieval.weights.en.bm25=0,0.1, 1") == (
        "retrieval.weights.en.bm25",
        [0, 0.1, 1],
    )
    assert parse_set("retrieval.mode=dense,hybrid") == ("retrieval.mode", ["dense", "hybrid"])
    assert parse_set("llm.use_grammar=true,false")[1] == [True, False]
    for bad in ("retrieval.top_k", "=1,2", "retrieval.top_k=", "a b=1"):
        with pytest.raises(ConfigError):
            parse_set(bad)


def test_cartesian_product_and_overrides(test_settings):
    combos = combinations(["retrieval.weights.en.bm25=0,0.5", "chunking.max_chars=500,600,700"])
    assert len(combos) == 6
    assert combos[0] == {"retrieval.weights.en.bm25": 0, "chunking.max_chars": 500}
    assert combos[-1] == {"retrieval.weights.en.bm25": 0.5, "chunking.max_chars": 700}
    assert combo_slug(combos[1]) == "retrieval.weights.en.bm25=0__chunking.max_chars=600"
    s = apply_overrides(test_settings, combos[-1])
    assert s.retrieval.weights["en"].bm25 == 0.5 and s.chunking.max_chars == 700
    assert s.retrieval.weights["ko"].bm25 == test_settings.retrieval.weights["ko"].bm25
    assert s.profile == test_settings.profile and s.embedding.mode == "fake"
    assert test_settings.retrieval.weights["en"].bm25 != 0.5  # the original is untouched
    with pytest.raises(ConfigError):
        apply_overrides(test_settings, {"retrieval.no_such_key": 1})
    with pytest.raises(ConfigError):
        apply_overrides(test_settings, {"retrieval.top_k": "many"})
    with pytest.raises(ConfigError):
        combinations(["retrieval.top_k=1", "retrieval.top_k=2"])


def test_format_sweep_marks_best():
    rows = [
        {
            "combo": {"retrieval.weights.en.bm25": v},
            "dir": f"/x/{v}",
            "metrics": {
                "retrieval.hybrid.en.hit@1": h,
                "retrieval.hybrid.ko.hit@1": 0.5,
                "answers.all.key_fact_accuracy": 0.7,
            },
        }
        for v, h in ((0, 0.4), (1, 0.6))
    ]
    text = format_sweep(rows)
    lines = text.splitlines()
    assert lines[0].split()[0] == "en.bm25" and "en hit@1" in lines[0] and "all acc" in lines[0]
    assert "0.600*" in lines[3] and "0.400 " in lines[2]


# ----------------------------------------------------------------------------- real tiny sweep


def _questions(tmp_path):
    rows = [
        {
            "id": "t-en-1",
            "lang": "en",
            "type": "number",
            "question": "How much will EPIXC allocate in federal funds?",
            "answer_keys": [["70 million"]],
            "evidence": "EPIXC will allocate up to $70 million in federal funds",
            "page": 4,
        },
        {
            "id": "t-en-2",
            "lang": "en",
            "type": "fact",
            "question": "How many institutes does the Fraunhofer network have?",
            "answer_keys": [["76"]],
            "evidence": "The Fraunhofer network has 76 institutes",
            "page": 27,
        },
        {
            "id": "t-ko-1",
            "lang": "ko",
            "type": "fact",
            "question": "AMNPO는 2023년에 무엇을 소집했습니까?",
            "answer_keys": [["협의회"]],
            "evidence": "AMNPO는 2023년에 미국 제조 협의회를 소집했습니다.",
            "page": 18,
        },
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return load_questions(path)


def test_real_tiny_sweep(tiny_bundle, test_settings, tmp_path):
    IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle)
    out = tmp_path / "sweep"
    rows = run_sweep(
        test_settings,
        _questions(tmp_path),
        out,
        ["retrieval.weights.en.bm25=0,1"],
        "extractive",
        progress=False,
    )
    assert [r["combo"] for r in rows] == [
        {"retrieval.weights.en.bm25": 0},
        {"retrieval.weights.en.bm25": 1},
    ]
    for r in rows:
        m = r["metrics"]
        assert {
            "retrieval.hybrid.en.hit@1",
            "retrieval.dense.ko.mrr@10",
            "answers.all.key_fact_accuracy",
        } <= set(m)
        run_dir = out / r["slug"]
        saved = json.loads((run_dir / "metrics.json").read_text())
        assert (
            saved["settings"]["retrieval"]["weights"]["en"]["bm25"]
            == r["combo"]["retrieval.weights.en.bm25"]
        )
        assert (run_dir / "questions.jsonl").exists() and (run_dir / "report.html").exists()
        assert r["index"] is None  # weights only: the existing index is reused
    assert json.loads((out / "sweep.json").read_text())[1]["slug"] == rows[1]["slug"]
    table = format_sweep(rows)
    assert "en.bm25" in table and "en hit@1" in table and "all acc" in table


def test_sweep_chunking_gets_its_own_home(
    tiny_bundle, test_settings, tmp_path, monkeypatch, isolated_home
):
    """A chunking value other than the current one builds into a separate home; the real
    index (here: the test home) is never replaced."""
    from assistant.services import Services

    IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle)
    base_build = IndexLayout(test_settings).current().build_id
    # The plan is too big for a unit test: build the tiny corpus instead of load_corpus().
    monkeypatch.setattr(
        Services,
        "build_index",
        lambda self, force=False, progress=False: self.index_service().build(
            tiny_bundle, force=force
        ),
    )
    out = tmp_path / "sweep"
    cur = test_settings.chunking.max_chars
    rows = run_sweep(
        test_settings,
        _questions(tmp_path),
        out,
        [f"chunking.max_chars={cur},{cur - 100}"],
        None,
        progress=False,
        report=False,
    )
    assert rows[0]["index"] is None
    own = rows[1]["index"]
    assert own["home"].startswith(str(out / "_homes")) and own["chunks"] == 6
    assert (out / "_homes" / "index-1" / "index" / "CURRENT").exists()
    assert own["embedded_new"] == 0  # the base home's vector cache is shared
    assert IndexLayout(test_settings).current().build_id == base_build  # real index untouched
    assert len(list((isolated_home / "index" / "builds").iterdir())) == 1
    assert "retrieval.hybrid.ko.hit@1" in rows[1]["metrics"]
    saved = json.loads((out / rows[1]["slug"] / "metrics.json").read_text())
    assert saved["settings"]["chunking"]["max_chars"] == cur - 100
    assert os.environ["ASSISTANT_HOME"] == str(isolated_home)  # restored


def test_home_settings_never_point_at_the_real_index(test_settings, tmp_path, isolated_home):
    s = home_settings(test_settings, tmp_path / "other")
    assert paths.index_dir(s) == (tmp_path / "other" / "index").resolve()
    assert paths.logs_db(s) == (tmp_path / "other" / "logs.db").resolve()
    assert IndexLayout(s).cache_path.resolve().is_relative_to((tmp_path / "other").resolve())
    assert paths.home(test_settings) == isolated_home.resolve()  # the original is untouched
    b = bench_settings(test_settings, tmp_path / "bench")
    assert not IndexLayout(b).cache_path.exists()


# ----------------------------------------------------------------------------- bench helpers


def test_latency_stats_and_throughput():
    s = latency_stats([1.0, 2.0, 3.0, 4.0, None, 5.0])
    assert (
        s["n"] == 5
        and s["p50"] == 3.0
        and s["p95"] == pytest.approx(4.8)
        and s["mean"] == 3.0
        and s["max"] == 5.0
    )
    assert latency_stats([]) == {"n": 0, "p50": None, "p95": None, "mean": None, "max": None}
    assert throughput(10, 30.0) == 20.0
    assert throughput(0, 0.0) is None


_HOG = (
    "import subprocess, sys, time\n"
    "x = bytearray(60 * 2**20)\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; y = bytearray(40 * 2**20); time.sleep(30)'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)


def test_rss_sampler_counts_children():
    proc = subprocess.Popen([sys.executable, "-c", _HOG], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.5)  # let the child allocate
        with RssSampler(proc.pid, interval=0.05) as sampler:
            assert sampler.wait_settled(window=0.4, timeout=10) < 10
            sampler.mark("loaded")
        assert len(sampler.samples) >= 3
        assert sampler.peak >= 100 * 2**20  # parent 60 MB + child 40 MB
        assert sampler.marks["loaded"]["peak_mb"] >= 100
        assert tree_rss(proc.pid) >= sampler.peak * 0.8
    finally:
        stop_process(proc)
    assert proc.poll() is not None
    assert tree_rss(proc.pid) == 0


def test_server_env(test_settings, tmp_path, monkeypatch):
    env = server_env(test_settings, tmp_path, "extractive")
    assert env["ASSISTANT_HOME"] == str(tmp_path) and env["ASSISTANT__LLM__MODE"] == "extractive"
    assert env["ASSISTANT__DATA__HOME"] == str(tmp_path)
    assert env["ASSISTANT_PROFILES"] == "test"


class _FakeJob:
    def __init__(self, outputs, fail=False):
        self._all, self._shown, self.fail, self.t0 = outputs, [], fail, time.perf_counter()

    def done(self):
        elapsed = time.perf_counter() - self.t0
        self._shown = self._all[: int(elapsed / 0.02)]
        return elapsed > 0.02 * (len(self._all) + 1)

    def outputs(self):
        return self._shown

    def result(self):
        if self.fail:
            raise RuntimeError("server error")
        return self._all[-1]


class _FakeClient:
    def __init__(self, endpoints=("/ask",), fail=False):
        self.endpoints, self.fail, self.calls = endpoints, fail, []

    def view_api(self, print_info=False, return_format="dict"):
        return {"named_endpoints": {e: {} for e in self.endpoints}, "unnamed_endpoints": {}}

    def submit(self, *args, api_name=None):
        self.calls.append((args, api_name))
        return _FakeJob(["a", "ab", "abc"], self.fail)


def test_chat_client_contract():
    client = _FakeClient()
    r = chat_once(client, "How many institutes?")
    assert client.calls == [(("How many institutes?", "[]"), "/ask")]
    assert 0 < r["first_output_s"] < r["total_s"] and r["updates"] == 3
    assert check_endpoint(client) is None
    assert "no /ask endpoint" in check_endpoint(_FakeClient(endpoints=("/chat",)))
    with pytest.raises(RuntimeError):
        chat_once(_FakeClient(fail=True), "q")
