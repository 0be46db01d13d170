"""`assistant eval`: score retrieval and answers on the question set, dev and test side by side.

Retrieval: hit@1/3/5/10, MRR@10, nDCG@10 for dense-only, BM25-only and hybrid, per split and
language. Answers (with --mode): key-fact accuracy, refusal accuracy, false refusals, language
match, citation precision/recall, verified share, unresolved markers, latency percentiles, per
split x language and per split x type; how often each pipeline decision fired (trace codes),
per split, type and language. ``disabled`` switches decisions off (ablation). Every answer is
logged to logs.db with the eval-run id. Writes DIR/metrics.json and DIR/questions.jsonl.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from assistant.answer.frame import build_frame, query_for
from assistant.language import detect_language
from evals.dataset import EvalQuestion
from evals.metrics import is_relevant, key_facts_matched, mean, percentile, retrieval_scores

logger = logging.getLogger(__name__)
RETRIEVERS = ("dense", "bm25", "hybrid")
# The exact (numpy) dense search the Chroma path replaced, scored beside it in the same run.
EXACT = ("dense_exact", "hybrid_exact")
KS = (1, 3, 5, 10)
SPLITS = ("dev", "test")
LANGS = ("en", "ko", "all")


def groups(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by '<split>' (both languages) and '<split>.<lang>', plus 'all'."""
    out: dict[str, list[dict]] = {"all": rows}
    for lang in ("en", "ko"):  # both splits pooled (the layout of runs before the split)
        out[lang] = [r for r in rows if r["lang"] == lang]
    for split in SPLITS:
        sel = [r for r in rows if r.get("split", "dev") == split]
        if not sel:
            continue
        out[split] = sel
        for lang in ("en", "ko"):
            out[f"{split}.{lang}"] = [r for r in sel if r["lang"] == lang]
    return out


def _group(rows: list[dict], key: str, metrics: list[str]) -> dict:
    out: dict[str, dict] = {}
    for name, sel in groups(rows).items():
        out[name] = {
            m: _maybe(mean, [r[key][m] for r in sel if r.get(key) and r[key].get(m) is not None])
            for m in metrics
        }
        out[name]["n"] = len(sel)
    return out


def score_retrieval(
    services, questions: list[EvalQuestion], progress: bool = True
) -> tuple[dict, list[dict]]:
    retriever = services.retriever
    settings = services.settings
    rows = []
    answerable = [q for q in questions if q.answerable and q.evidence]
    for q in tqdm(answerable, desc="retrieval", disable=not progress):
        query = query_for(
            build_frame(q.question, q.history, settings.answer.default_lang), top_k=10
        )
        qvec = retriever.embed_query(query)
        row: dict = {"id": q.id, "split": q.split, "lang": q.lang, "type": q.type}
        tops: dict[str, list[str]] = {}
        for mode in (*RETRIEVERS, *EXACT):
            hits = retriever.search(query, mode=mode, qvec=qvec)
            tops[mode] = [h.chunk_id for h in hits]
            rel = [
                any(
                    is_relevant(ev, page, h.text, h.page_start, h.page_end)
                    for ev, page in q.golds()
                )
                for h in hits
            ]
            row[mode] = retrieval_scores(rel, KS)
            row[mode]["first_relevant"] = next((i + 1 for i, r in enumerate(rel) if r), None)
            row[mode]["top"] = [h.chunk_id for h in hits[:5]]
        # Chroma against exact search: how much of exact search's top 10 Chroma's top 10 holds.
        row["dense"]["recall@10_vs_exact"] = len(
            set(tops["dense"][:10]) & set(tops["dense_exact"][:10])
        ) / max(1, len(tops["dense_exact"][:10]))
        rows.append(row)
    names = [f"hit@{k}" for k in KS] + ["mrr@10", "ndcg@10"]
    summary = {mode: _group(rows, mode, names) for mode in (*RETRIEVERS, *EXACT)}
    for name, group in _group(rows, "dense", ["recall@10_vs_exact"]).items():
        summary["dense"][name]["recall@10_vs_exact"] = group["recall@10_vs_exact"]
    return summary, rows


_LABEL = re.compile(r"\[\d+\]")


def answer_language(text: str) -> str:
    """Korean if the answer has Korean in it (a one-word "네" counts), else what langdetect says;
    an English answer that is mostly Hangul is Korean."""
    text = _LABEL.sub("", text)
    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    letters = len(re.findall(r"[^\W\d_]", text)) or 1
    if hangul and (hangul / letters > 0.3 or not re.search(r"[A-Za-z]{2,}", text)):
        return "ko"
    return detect_language(text, "en").answer_lang


def score_answer(q: EvalQuestion, ans) -> dict:  # noqa: ANN001
    correct_keys, missed = (
        key_facts_matched(ans.answer, q.answer_keys) if q.answerable else (False, [])
    )
    cites = ans.citations

    def cites_gold(c, golds: list[tuple[str, int | None]]) -> bool:  # noqa: ANN001
        return any(
            is_relevant(ev, page, c.passage, c.page, c.page_end)
            or (page is not None and c.page == page)
            for ev, page in golds
        )

    cite_ok = [bool(q.evidence) and cites_gold(c, q.golds()) for c in cites]
    # Strict: only the main gold passage counts (for comparison with runs before also_evidence).
    cite_ok_strict = [bool(q.evidence) and cites_gold(c, q.golds()[:1]) for c in cites]
    return {
        "id": q.id,
        "split": q.split,
        "lang": q.lang,
        "type": q.type,
        "answerable": q.answerable,
        "question": q.question,
        "answer": ans.answer,
        "refused": ans.refused,
        "correct": (correct_keys and not ans.refused) if q.answerable else ans.refused,
        "missed_keys": missed,
        "false_refusal": q.answerable and ans.refused,
        "language_ok": answer_language(ans.answer) == q.lang,
        "citations": [
            {
                "n": c.n,
                "page": c.page,
                "section": c.section,
                "verified": c.verified,
                "support": getattr(c, "support", "verified" if c.verified else "unverified"),
                "correct": ok,
                "quote": c.quote[:300],
            }
            for c, ok in zip(cites, cite_ok, strict=True)
        ],
        "citation_correct": sum(cite_ok),
        "citation_correct_strict": sum(cite_ok_strict),
        "citation_total": len(cites),
        "cited_correct_passage": any(cite_ok),
        "verified": sum(1 for c in cites if c.verified),
        "verified_correct": sum(
            1 for c, ok in zip(cites, cite_ok, strict=True) if c.verified and ok
        ),
        "unresolved_markers": ans.support.unresolved_markers,
        "has_markers": bool(_LABEL.search(ans.answer)),
        "support": ans.support.model_dump(),
        "trace": [d.model_dump() for d in getattr(ans, "trace", [])],
        "codes": sorted({d.code for d in getattr(ans, "trace", [])}),
        "llm_calls": ans.support.model_dump().get("llm_calls", 0),
        "retrieve_s": ans.timings.retrieve_s,
        "first_token_s": ans.timings.first_token_s,
        "total_s": ans.timings.total_s,
    }


def _answer_metrics(sel: list[dict]) -> dict:
    ans = [r for r in sel if r["answerable"]]
    un = [r for r in sel if not r["answerable"]]
    total_c = sum(r["citation_total"] for r in ans)
    return {
        "n": len(sel),
        "key_fact_accuracy": _maybe(mean, [float(r["correct"]) for r in ans]),
        "refusal_accuracy": round(mean([float(r["refused"]) for r in un]), 4) if un else None,
        "false_refusals": sum(1 for r in ans if r["refused"]),
        "language_match": _maybe(mean, [float(r["language_ok"]) for r in sel]),
        "citation_precision": round(sum(r["citation_correct"] for r in ans) / total_c, 4)
        if total_c
        else None,
        "citation_precision_strict": round(
            sum(r.get("citation_correct_strict", r["citation_correct"]) for r in ans) / total_c, 4
        )
        if total_c
        else None,
        "citation_recall": _maybe(
            mean, [float(r["cited_correct_passage"]) for r in ans if not r["refused"]]
        ),
        "verified_share": round(
            sum(r["verified"] for r in sel) / max(1, sum(r["citation_total"] for r in sel)), 4
        ),
        # Of the citations marked verified, the share that cite a gold passage of the question.
        "verified_precision": round(
            sum(r.get("verified_correct", 0) for r in ans)
            / max(1, sum(r["verified"] for r in ans)),
            4,
        )
        if any(r["verified"] for r in ans)
        else None,
        "unresolved_markers": sum(r["unresolved_markers"] for r in sel),
        "answers_with_markers": sum(1 for r in ans if r["has_markers"]),
        "llm_calls_max": max((r.get("llm_calls", 0) for r in sel), default=0),
        "latency": {
            name: {
                "p50": _round(percentile([r[name] for r in sel if r[name] is not None], 0.5)),
                "p95": _round(percentile([r[name] for r in sel if r[name] is not None], 0.95)),
            }
            for name in ("retrieve_s", "first_token_s", "total_s")
        },
    }


def step_counts(rows: list[dict]) -> dict:
    """How often each decision code fired: per split, and per split x type / split x language."""
    out: dict[str, dict[str, int]] = {}
    for name, sel in groups(rows).items():
        out[name] = dict(sorted(Counter(c for r in sel for c in r.get("codes", [])).items()))
    for split in SPLITS:
        for key in ("type", "lang"):
            for value in sorted({r[key] for r in rows if r.get("split", "dev") == split}):
                sel = [r for r in rows if r.get("split", "dev") == split and r[key] == value]
                out[f"{split}.{key}={value}"] = dict(
                    sorted(Counter(c for r in sel for c in r.get("codes", [])).items())
                )
    return out


def summarize_answers(rows: list[dict]) -> dict:
    out: dict = {name: _answer_metrics(sel) for name, sel in groups(rows).items()}
    by_type: dict[str, dict] = {}
    for r in rows:
        for key in (r["type"], f"{r.get('split', 'dev')}.{r['type']}"):
            t = by_type.setdefault(key, {"n": 0, "correct": 0})
            t["n"] += 1
            t["correct"] += int(r["correct"])
    for t in by_type.values():
        t["accuracy"] = round(t["correct"] / t["n"], 4)
    out["by_type"] = by_type
    out["steps"] = step_counts(rows)
    return out


def _maybe(fn, values: list[float]) -> float | None:  # noqa: ANN001
    """None for an empty group (a language with no questions), not a misleading 0.0."""
    return round(fn(values), 4) if values else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def score_answers(
    services,
    questions: list[EvalQuestion],
    mode: str,
    run_id: str,
    progress: bool = True,
    disabled: tuple[str, ...] = (),
) -> tuple[dict, list[dict]]:
    service = services.answers
    service.warm(mode)  # load the model and its cached prompt prefix before timing anything
    rows = []
    for q in tqdm(questions, desc=f"answers ({mode})", disable=not progress):
        ans = service.answer(
            q.question, q.history, mode, source="eval", eval_run=run_id, disabled=disabled
        )
        rows.append(score_answer(q, ans))
    return summarize_answers(rows), rows


def run_eval(
    services,
    questions: list[EvalQuestion],
    out_dir: Path,
    mode: str | None = None,
    retrieval: bool = True,
    progress: bool = True,
    label: str = "",
    disabled: tuple[str, ...] = (),
) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{mode or 'retrieval'}"
    t0 = time.perf_counter()
    settings = services.settings
    metrics: dict = {
        "run_id": run_id,
        "label": label,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions": len(questions),
        "mode": mode,
        "profile": settings.profile,
        "splits": dict(Counter(q.split for q in questions)),
        "disabled": list(disabled),
        "settings": {
            "retrieval": settings.retrieval.model_dump(),
            "answer": settings.answer.model_dump(),
            "chunking": settings.chunking.model_dump(),
            "llm": settings.llm.local.model if mode == "local" else mode,
            "embedding": settings.embedding.model,
        },
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
    }
    rows: dict[str, dict] = {
        q.id: {"id": q.id, "split": q.split, "lang": q.lang, "type": q.type, "question": q.question}
        for q in questions
    }
    if retrieval:
        metrics["retrieval"], rrows = score_retrieval(services, questions, progress)
        for r in rrows:
            rows[r["id"]]["retrieval"] = {m: r[m] for m in (*RETRIEVERS, *EXACT)}
    if mode:
        metrics["answers"], arows = score_answers(
            services, questions, mode, run_id, progress, disabled
        )
        for r in arows:
            rows[r["id"]]["answer"] = r
    metrics["seconds"] = round(time.perf_counter() - t0, 1)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1))
    with open(out_dir / "questions.jsonl", "w", encoding="utf-8") as fh:
        for row in rows.values():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return metrics


def _cpus() -> int:
    import os

    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
    )
