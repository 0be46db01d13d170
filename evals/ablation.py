"""Ablation: the question set once per pipeline decision switched off (`--without STEP`), to see
what each decision does to accuracy on the frozen test split (and on dev), and how often it
fires. A decision that does not earn its keep on test is a candidate for removal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from evals.report import write_report
from evals.run import run_eval

# The trace codes that show a decision acted (its ablation can only change those answers).
FIRES: dict[str, tuple[str, ...]] = {
    "records": ("ROUTE_RECORDS", "ROUTE_BOTH"),
    "query_llm": ("QUERY_LLM", "QUERY_LLM_REJECTED"),
    "gate_score": ("GATE_LOW_SCORE",),
    "gate_constraints": ("GATE_CONSTRAINT_ABSENT",),
    "gate_kind": ("GATE_KIND_ABSENT",),
    "evidence_parts": ("EVIDENCE_PART_ADDED",),
    "other_rows": ("EVIDENCE_OTHER_ROW_SKIPPED",),
    "recite": ("CLAIM_RECITED",),
    "recover_retry": ("RECOVER_RETRY",),
    "recover_drop": ("RECOVER_DROPPED",),
    "language_fallback": ("LANGUAGE_FALLBACK",),
}


def _acc(metrics: dict, split: str, key: str = "key_fact_accuracy") -> float | None:
    return ((metrics.get("answers") or {}).get(split) or {}).get(key)


def _fired(metrics: dict, name: str, split: str = "test") -> int:
    steps = ((metrics.get("answers") or {}).get("steps") or {}).get(split) or {}
    return sum(steps.get(c, 0) for c in FIRES.get(name, ()))


def run_ablation(
    services,
    questions: list,
    mode: str,
    names: list[str],
    out_dir: Path,  # noqa: ANN001
    baseline_dir: Path | None = None,
) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    if baseline_dir is None:
        base = run_eval(
            services, questions, out_dir / "baseline", mode=mode, retrieval=False, label="baseline"
        )
    else:
        shutil.copytree(baseline_dir, out_dir / "baseline", dirs_exist_ok=True)
        base = json.loads((out_dir / "baseline" / "metrics.json").read_text(encoding="utf-8"))
    result: dict = {
        "mode": mode,
        "questions": len(questions),
        "baseline": {
            "test": _acc(base, "test"),
            "dev": _acc(base, "dev"),
            "test_refusal": _acc(base, "test", "refusal_accuracy"),
        },
        "steps": {},
    }
    for name in names:
        m = run_eval(
            services,
            questions,
            out_dir / f"without-{name}",
            mode=mode,
            retrieval=False,
            label=f"without {name}",
            disabled=(name,),
        )
        result["steps"][name] = {
            "fired_test": _fired(base, name, "test"),
            "fired_dev": _fired(base, name, "dev"),
            "test": _acc(m, "test"),
            "dev": _acc(m, "dev"),
            "test_refusal": _acc(m, "test", "refusal_accuracy"),
        }
    (out_dir / "ablation.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    shutil.copy(out_dir / "ablation.json", out_dir / "baseline" / "ablation.json")
    write_report(out_dir / "baseline")
    return result
