"""`assistant eval compare A B`: metric deltas (B − A) and the questions whose outcome changed."""

from __future__ import annotations

from pathlib import Path

from evals.report import RETRIEVERS, headline, load_run

_LOWER_IS_BETTER = ("latency", "false_refusals", "unresolved_markers")


def lower_is_better(metric: str) -> bool:
    return any(part in metric for part in _LOWER_IS_BETTER)


def _run_info(run_dir: Path, metrics: dict) -> dict:
    return {
        "dir": str(run_dir),
        **{
            k: metrics.get(k)
            for k in ("run_id", "label", "mode", "profile", "questions", "created_at")
        },
    }


def _outcome(row: dict | None) -> dict:
    """The parts of one question's result that compare looks at."""
    if row is None:
        return {}
    out: dict = {}
    a = row.get("answer")
    if a:
        out.update(
            answer=a.get("answer"),
            correct=bool(a.get("correct")),
            refused=bool(a.get("refused")),
            citations=[
                f"p.{c.get('page')}{'✓' if c.get('correct') else '✗'}"
                for c in a.get("citations") or []
            ],
        )
    for m in RETRIEVERS:
        r = (row.get("retrieval") or {}).get(m)
        if r is not None:
            out[f"{m}_hit@5"] = bool(r.get("hit@5"))
            out[f"{m}_rank"] = r.get("first_relevant")
    return out


def _mark(ok: bool, yes: str, no: str) -> str:
    return yes if ok else no


def question_changes(ra: dict, rb: dict) -> list[str]:
    """Outcome changes of one question from run A to run B, as short phrases."""
    oa, ob = _outcome(ra), _outcome(rb)
    changes = []
    if "correct" in oa and "correct" in ob and oa["correct"] != ob["correct"]:
        changes.append(
            f"answer {_mark(oa['correct'], 'correct', 'wrong')} → "
            f"{_mark(ob['correct'], 'correct', 'wrong')}"
        )
    if "refused" in oa and "refused" in ob and oa["refused"] != ob["refused"]:
        changes.append(
            f"{_mark(oa['refused'], 'refused', 'answered')} → "
            f"{_mark(ob['refused'], 'refused', 'answered')}"
        )
    for m in RETRIEVERS:
        key = f"{m}_hit@5"
        if key in oa and key in ob and oa[key] != ob[key]:
            changes.append(
                f"{m} hit@5 {_mark(oa[key], 'hit', 'miss')} → {_mark(ob[key], 'hit', 'miss')} "
                f"(rank {oa[f'{m}_rank'] or '-'} → {ob[f'{m}_rank'] or '-'})"
            )
    return changes


def compare_runs(a: Path, b: Path) -> dict:
    """Deltas (b − a) of every numeric headline metric in both runs, and the changed questions."""
    a, b = Path(a), Path(b)
    ma, rows_a = load_run(a)
    mb, rows_b = load_run(b)
    ha, hb = headline(ma), headline(mb)
    deltas = {k: {"a": ha[k], "b": hb[k], "delta": round(hb[k] - ha[k], 6)} for k in ha if k in hb}
    by_a = {r["id"]: r for r in rows_a}
    by_b = {r["id"]: r for r in rows_b}
    changed = []
    summary = {
        "answers_fixed": 0,
        "answers_broken": 0,
        "now_refused": 0,
        "now_answered": 0,
        **{f"{m}_hit@5_gained": 0 for m in RETRIEVERS},
        **{f"{m}_hit@5_lost": 0 for m in RETRIEVERS},
    }
    for qid, ra in by_a.items():
        rb = by_b.get(qid)
        if rb is None:
            continue
        changes = question_changes(ra, rb)
        if not changes:
            continue
        oa, ob = _outcome(ra), _outcome(rb)
        if "correct" in oa and "correct" in ob and oa["correct"] != ob["correct"]:
            summary["answers_fixed" if ob["correct"] else "answers_broken"] += 1
        if "refused" in oa and "refused" in ob and oa["refused"] != ob["refused"]:
            summary["now_refused" if ob["refused"] else "now_answered"] += 1
        for m in RETRIEVERS:
            key = f"{m}_hit@5"
            if key in oa and key in ob and oa[key] != ob[key]:
                summary[f"{key}_{'gained' if ob[key] else 'lost'}"] += 1
        changed.append(
            {
                "id": qid,
                "lang": ra.get("lang"),
                "type": ra.get("type"),
                "question": ra.get("question"),
                "changes": changes,
                "a": oa,
                "b": ob,
            }
        )
    return {
        "a": _run_info(a, ma),
        "b": _run_info(b, mb),
        "deltas": deltas,
        "only_in_a": sorted(k for k in ha if k not in hb),
        "only_in_b": sorted(k for k in hb if k not in ha),
        "questions_only_in_a": sorted(q for q in by_a if q not in by_b),
        "questions_only_in_b": sorted(q for q in by_b if q not in by_a),
        "changed": changed,
        "summary": summary,
    }


def _short(text: str | None, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _v(x: float) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def format_comparison(diff: dict, show_unchanged: bool = False, answer_chars: int = 220) -> str:
    """Readable text: run headers, a metric table (changed metrics), the changed questions."""
    a, b = diff["a"], diff["b"]
    note = []
    if diff.get("questions_only_in_a") or diff.get("questions_only_in_b"):
        note = [
            "Note: the runs scored different question sets; their metrics are not strictly "
            "comparable (questions scored in both are compared below).",
            "",
        ]
    lines = [
        f"A: {a['dir']}  ({a.get('label') or a.get('run_id')}, mode={a.get('mode') or '-'}, "
        f"profile={a.get('profile')}, {a.get('questions')} questions)",
        f"B: {b['dir']}  ({b.get('label') or b.get('run_id')}, mode={b.get('mode') or '-'}, "
        f"profile={b.get('profile')}, {b.get('questions')} questions)",
        "",
        *note,
    ]
    # metrics.json order: retrieval (dense, bm25, hybrid × en, ko, all) before answers
    rows = [(k, d) for k, d in diff["deltas"].items() if show_unchanged or d["delta"] != 0]
    unchanged = sum(1 for d in diff["deltas"].values() if d["delta"] == 0)
    if rows:
        width = max(len("metric"), *(len(k) for k, _ in rows))
        lines.append(f"{'metric':<{width}}  {'A':>9}  {'B':>9}  {'B − A':>9}")
        lines.append("-" * (width + 35))
        for k, d in rows:
            better = d["delta"] < 0 if lower_is_better(k) else d["delta"] > 0
            flag = "" if d["delta"] == 0 else ("  better" if better else "  worse")
            lines.append(
                f"{k:<{width}}  {_v(d['a']):>9}  {_v(d['b']):>9}  {d['delta']:>+9.4g}{flag}"
            )
    else:
        lines.append("No metric changed.")
    if not show_unchanged and unchanged:
        lines.append(f"({unchanged} metrics unchanged, not shown)")
    for side in ("only_in_a", "only_in_b"):
        if diff.get(side):
            lines.append(
                f"metrics {side.replace('_', ' ')}: {len(diff[side])} "
                f"(e.g. {', '.join(diff[side][:4])})"
            )
    s = diff["summary"]
    lines += [
        "",
        "Outcome changes: " + ", ".join(f"{k.replace('_', ' ')}={v}" for k, v in s.items() if v)
        if any(s.values())
        else "Outcome changes: none",
    ]
    for side in ("questions_only_in_a", "questions_only_in_b"):
        ids = diff.get(side) or []
        if ids:
            more = f" … (+{len(ids) - 12} more)" if len(ids) > 12 else ""
            lines.append(
                f"{len(ids)} questions only in {side[-1].upper()}: {', '.join(ids[:12])}{more}"
            )
    for q in diff["changed"]:
        lines += [
            "",
            f"{q['id']} [{q.get('lang')}/{q.get('type')}] {_short(q.get('question'), 100)}",
        ]
        lines += [f"  * {c}" for c in q["changes"]]
        for side in ("a", "b"):
            o = q[side]
            if "answer" in o:
                cites = " ".join(o.get("citations") or []) or "no citations"
                lines.append(f"  {side.upper()}: {_short(o['answer'], answer_chars)}  [{cites}]")
    return "\n".join(lines)
