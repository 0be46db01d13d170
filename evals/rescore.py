"""Re-score a finished run's answers with the current metrics and question files (the answers
are not regenerated): used to compare runs made before a metric changed (word-bounded key
matching, list questions that must name every item) with runs made after."""

from __future__ import annotations

import json
from pathlib import Path

from evals.dataset import EvalQuestion
from evals.metrics import key_facts_matched
from evals.run import answer_language, summarize_answers


def rescore_run(run_dir: Path, questions: list[EvalQuestion], out_dir: Path) -> dict:
    by_id = {q.id: q for q in questions}
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    rows = [
        json.loads(x)
        for x in (run_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if x.strip()
    ]
    answers = []
    for row in rows:
        a, q = row.get("answer"), by_id.get(row["id"])
        if not a or q is None:
            continue
        ok, missed = key_facts_matched(a["answer"], q.answer_keys) if q.answerable else (False, [])
        a.update(
            split=q.split,
            type=q.type,
            lang=q.lang,
            answerable=q.answerable,
            missed_keys=missed,
            correct=(ok and not a["refused"]) if q.answerable else a["refused"],
            false_refusal=q.answerable and a["refused"],
            language_ok=answer_language(a["answer"]) == q.lang,
        )
        a.setdefault("codes", [])
        a["verified_correct"] = sum(
            1 for c in a.get("citations", []) if c.get("verified") and c.get("correct")
        )
        row.update(split=q.split, answer=a)
        answers.append(a)
    metrics["answers"] = summarize_answers(answers)
    metrics["rescored_from"] = str(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1))
    (out_dir / "questions.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    )
    return metrics
