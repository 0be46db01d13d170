"""report.html from synthetic run folders: numbers, inline plots, no external assets, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

from evals.report import headline, write_report

RETRIEVERS = ("dense", "bm25", "hybrid")


def _ret_row(first: int | None) -> dict:
    hit = {f"hit@{k}": float(first is not None and first <= k) for k in (1, 3, 5, 10)}
    mrr = 1.0 / first if first else 0.0
    return {**hit, "mrr@10": mrr, "ndcg@10": mrr, "first_relevant": first, "top": ["c1", "c2"]}


def _answer_row(
    q: dict, correct: bool, refused: bool = False, lang_ok: bool = True, total_s: float = 0.5
) -> dict:
    answerable = q.get("answerable", True)
    cites = (
        []
        if refused
        else [
            {
                "n": 1,
                "page": 7,
                "section": "Goal 1 > Objective 1.2",
                "verified": True,
                "correct": correct,
                "quote": "quoted <b>text</b>",
            }
        ]
    )
    return {
        "id": q["id"],
        "lang": q["lang"],
        "type": q["type"],
        "answerable": answerable,
        "question": q["question"],
        "answer": q.get("answer_text", f"Answer to {q['id']} [1]."),
        "refused": refused,
        "correct": correct,
        "missed_keys": [] if correct or not answerable else [["70 million", "7천만"]],
        "false_refusal": answerable and refused,
        "language_ok": lang_ok,
        "citations": cites,
        "citation_correct": int(correct and not refused),
        "citation_total": len(cites),
        "cited_correct_passage": correct and not refused,
        "verified": len(cites),
        "unresolved_markers": 0,
        "has_markers": not refused,
        "support": {},
        "retrieve_s": 0.1,
        "first_token_s": None if refused else 0.2,
        "total_s": total_s,
    }


QUESTIONS = [
    {"id": "en-001", "lang": "en", "type": "number", "question": "How many institutes are there?"},
    {
        "id": "en-002",
        "lang": "en",
        "type": "fact",
        "question": "Where is <script>alert('x')</script> LIFT?",
    },
    {"id": "ko-001", "lang": "ko", "type": "number", "question": "연구소는 몇 개입니까?"},
    {
        "id": "ko-002",
        "lang": "ko",
        "type": "unanswerable",
        "question": "내일 날씨는?",
        "answerable": False,
    },
]


def make_run(
    run_dir: Path, retrieval: bool = True, answers: bool = True, variant: str = "a"
) -> Path:
    """A small run folder in the evals.run format. Variant 'b' changes a few outcomes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    b = variant == "b"
    ranks = {
        "en-001": {"dense": 1, "bm25": 4, "hybrid": 1},
        "en-002": {"dense": 2, "bm25": None, "hybrid": 7 if b else 2},
        "ko-001": {"dense": 3, "bm25": 1, "hybrid": 1},
    }
    outcome = {
        "en-001": dict(correct=True),
        "en-002": dict(correct=b, lang_ok=False),
        "ko-001": dict(correct=not b, total_s=1.5),
        "ko-002": dict(correct=not b, refused=not b),
    }
    rows, metrics = (
        [],
        {
            "run_id": f"20260101T000000-{variant}",
            "label": f"synthetic-{variant}",
            "created_at": "2026-01-01T00:00:00",
            "questions": len(QUESTIONS),
            "mode": "extractive" if answers else None,
            "profile": "test",
            "settings": {
                "retrieval": {
                    "top_k": 10,
                    "weights": {
                        "en": {"dense": 1.0, "bm25": 0.1 if not b else 0.4},
                        "ko": {"dense": 1.0, "bm25": 0.3},
                    },
                    "mode": "hybrid",
                },
                "answer": {"context_chunks": 6},
                "chunking": {"max_chars": 600},
                "llm": "extractive" if answers else None,
                "embedding": "fake-64",
            },
            "machine": {"python": "3.11", "cpus": 2},
            "seconds": 1.0,
        },
    )
    for q in QUESTIONS:
        row = {k: q[k] for k in ("id", "lang", "type", "question")}
        if retrieval and q["id"] in ranks:
            row["retrieval"] = {m: _ret_row(ranks[q["id"]][m]) for m in RETRIEVERS}
        if answers:
            row["answer"] = _answer_row(q, **outcome[q["id"]])
        rows.append(row)
    if retrieval:
        metrics["retrieval"] = {
            m: {
                lang: {
                    "hit@1": 0.6123 if (m, lang) == ("hybrid", "en") and not b else 0.75,
                    "hit@3": 0.8,
                    "hit@5": 0.9,
                    "hit@10": 1.0,
                    "mrr@10": 0.7071,
                    "ndcg@10": 0.7777,
                    "n": 2 if lang != "all" else 3,
                }
                for lang in ("en", "ko", "all")
            }
            for m in RETRIEVERS
        }
    if answers:
        lat = {
            "retrieve_s": {"p50": 0.1, "p95": 0.1},
            "first_token_s": {"p50": 0.2, "p95": 0.2},
            "total_s": {"p50": 0.5, "p95": 1.4321},
        }
        metrics["answers"] = {
            lang: {
                "n": 2,
                "key_fact_accuracy": 0.8771 if not b else 0.5,
                "refusal_accuracy": 1.0 if lang != "en" else None,
                "false_refusals": 0,
                "language_match": 0.5,
                "citation_precision": 0.6543,
                "citation_recall": 0.5,
                "verified_share": 1.0,
                "unresolved_markers": 0,
                "answers_with_markers": 2,
                "latency": lat,
            }
            for lang in ("en", "ko", "all")
        }
        metrics["answers"]["by_type"] = {
            "number": {"n": 2, "correct": 2, "accuracy": 1.0},
            "fact": {"n": 1, "correct": 0, "accuracy": 0.0},
        }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False))
    with open(run_dir / "questions.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return run_dir


def _no_external(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html


def _imgs(html: str) -> int:
    return (
        html.count('<img alt="')
        if html.count('<img alt="') == html.count('src="data:image/png;base64,')
        else -1
    )


def test_full_report(tmp_path):
    out = write_report(make_run(tmp_path / "run"))
    assert out == tmp_path / "run" / "report.html" and out.exists()
    html = out.read_text(encoding="utf-8")
    # headline numbers: retrieval (3 decimals) and answers (percent / seconds)
    assert "0.612" in html and "0.707" in html and "0.778" in html
    assert "87.7%" in html and "65.4%" in html and "1.432 s" in html
    assert "Key-fact accuracy" in html and "Latency first token p95" in html
    assert _imgs(html) == 3  # hit@k curves, latency, accuracy by type
    _no_external(html)
    # the question is escaped, not executed
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # per-question detail: citation page/section, failures, ranks, settings
    assert "p.7" in html and "Goal 1 &gt; Objective 1.2" in html
    assert "quoted &lt;b&gt;text&lt;/b&gt;" in html
    assert "missed keys: 70 million | 7천만" in html and "wrong language" in html
    assert "2 / miss / 2" in html  # first relevant rank dense / bm25 / hybrid for en-002
    assert "retrieval.weights.en.bm25" in html and "fake-64" in html
    assert "연구소는 몇 개입니까?" in html


def test_retrieval_only_report(tmp_path):
    html = write_report(make_run(tmp_path / "r", answers=False)).read_text(encoding="utf-8")
    assert "0.612" in html
    assert "answers were not scored" in html
    assert _imgs(html) == 2  # hit@k curves and hybrid hit@5 by type; no latency data
    assert "latency distribution (answers): n/a" in html
    _no_external(html)
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_answers_only_report(tmp_path):
    html = write_report(make_run(tmp_path / "a", retrieval=False)).read_text(encoding="utf-8")
    assert "retrieval was not scored" in html
    assert "87.7%" in html
    assert _imgs(html) == 2  # latency and accuracy by type
    assert "hit@k curves (retrieval): n/a" in html
    _no_external(html)


def test_headline_flattens_numbers_only(tmp_path):
    metrics = json.loads((make_run(tmp_path / "h") / "metrics.json").read_text())
    flat = headline(metrics)
    assert flat["retrieval.hybrid.en.hit@1"] == 0.6123
    assert flat["answers.all.latency.total_s.p95"] == 1.4321
    assert flat["answers.by_type.number.accuracy"] == 1.0
    assert "answers.en.refusal_accuracy" not in flat  # None: not computed
    assert not any(k.endswith(".n") for k in flat)
