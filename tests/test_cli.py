"""Every command through click's CliRunner (test profile: fake embedder and LLM)."""

import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.paths import project_root

QUESTIONS = project_root() / "evals" / "questions.jsonl"


@pytest.fixture
def run():
    runner = CliRunner()

    def _run(*args, ok=True):
        from assistant import cli_eval  # noqa: F401 - registers eval/bench like main() does

        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return _run


@pytest.fixture
def indexed(run):
    run("index", "--json")
    return run


def test_version_and_help(run):
    assert "0.1.0" in run("--version").output
    out = run("-h").output
    for cmd in ("ask", "search", "corpus", "index", "serve", "eval", "bench", "models", "logs"):
        assert cmd in out


def test_missing_index_is_a_clear_error(run):
    result = run("search", "Where is LIFT?", "--json", ok=False)
    assert (
        result.exit_code == 1
        and "assistant index" in result.output
        and "Traceback" not in result.output
    )


def test_corpus_stats(run):
    stats = json.loads(run("corpus", "stats", "--json").output)
    assert stats["pages"] == 44 and stats["footnotes"] == 65 and stats["references"] == 47
    assert stats["chunks"] is None  # no index yet


def test_index_then_stats_and_up_to_date(run):
    first = json.loads(run("index", "--json").output)
    assert first["changed"] and first["chunks"] > 150
    again = json.loads(run("index", "--json").output)
    assert not again["changed"] and again["build_id"] == first["build_id"]
    assert json.loads(run("corpus", "stats", "--json").output)["chunks"] == first["chunks"]


def test_search_json_shape(indexed):
    data = json.loads(indexed("search", "LIFT 본사는 어디인가요?", "--json", "-k", "5").output)
    assert data["language"] == "ko" and len(data["hits"]) == 5
    assert set(data["hits"][0]) >= {
        "rank",
        "score",
        "doc_id",
        "page",
        "section",
        "text",
        "footnotes",
    }


def test_search_questions_file(indexed, tmp_path):
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        "\n".join(QUESTIONS.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8"
    )
    lines = indexed("search", "--questions", str(qfile), "-k", "3").output.strip().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["en-001", "en-002", "en-003"]


def test_ask_json_and_questions_file(indexed, tmp_path):
    data = json.loads(
        indexed("ask", "Where is LIFT headquartered?", "--json", "--mode", "extractive").output
    )
    assert set(data) >= {
        "question",
        "language",
        "answer",
        "refused",
        "citations",
        "support",
        "timings",
    }
    assert data["language"] == "en"
    if not data["refused"]:
        assert set(data["citations"][0]) >= {
            "n",
            "doc_id",
            "page",
            "section",
            "quote",
            "verified",
            "references",
        }
    hist = tmp_path / "h.json"
    hist.write_text(json.dumps([{"role": "user", "content": "Tell me about LIFT."}]))
    follow = json.loads(
        indexed(
            "ask", "Where is it?", "--history", str(hist), "--json", "--mode", "extractive"
        ).output
    )
    assert follow["language"] == "en"
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        "\n".join(QUESTIONS.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8"
    )
    out = (
        indexed("ask", "--questions", str(qfile), "--json", "--mode", "fake")
        .output.strip()
        .splitlines()
    )
    assert [json.loads(x)["id"] for x in out] == ["en-001", "en-002"]


def test_ask_streams_readable_text(indexed):
    out = indexed("ask", "EPIXC는 얼마의 연방 자금을 받나요?", "--mode", "extractive").output
    assert "[" in out or "답이 없습니다" in out


def test_corpus_references_and_fetch_offline(indexed):
    out = indexed("corpus", "references").output
    assert "usc-15-278s" in out and "fn10b" in out
    data = json.loads(indexed("corpus", "fetch", "--only", "fn37", "--json").output)
    assert data  # offline: reported (unreachable), nothing crashes


def test_models_list(run):
    out = run("models", "list").output
    assert "embeddinggemma-300m" in out and "qwen2.5-coder-1.5b-instruct-q4_k_m" in out


def test_logs_commands(indexed, tmp_path):
    indexed("ask", "Where is LIFT?", "--json", "--mode", "extractive")
    assert indexed("logs", "path").output.strip().endswith("logs.db")
    rows = [json.loads(x) for x in indexed("logs", "list", "--json").output.strip().splitlines()]
    assert rows and rows[0]["question"] == "Where is LIFT?"
    out = indexed("logs", "export", str(tmp_path / "csv")).output
    assert "answers" in out and (tmp_path / "csv" / "citations.csv").exists()
    indexed("ask", "Not logged?", "--json", "--mode", "extractive", "--no-log")
    assert len(indexed("logs", "list", "--json").output.strip().splitlines()) == 1


def test_eval_writes_metrics(indexed, tmp_path):
    qfile = tmp_path / "q.jsonl"
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    qfile.write_text(
        "\n".join(lines[:4] + [x for x in lines if '"un-ko-001"' in x]) + "\n", encoding="utf-8"
    )
    indexed(
        "eval",
        "--questions",
        str(qfile),
        "--out",
        str(tmp_path / "run"),
        "--mode",
        "fake",
        "--no-report",
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["retrieval"]) == {"dense", "bm25", "hybrid", "dense_exact", "hybrid_exact"}
    assert metrics["answers"]["all"]["n"] == 5 and "hit@5" in metrics["retrieval"]["hybrid"]["en"]


def test_bad_question_file(run, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"\n')
    result = run("search", "--questions", str(bad), ok=False)
    assert result.exit_code == 1 and "bad.jsonl:1" in result.output
