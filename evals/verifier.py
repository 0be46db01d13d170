"""The claim verifier on labelled (answer sentence, cited passage) pairs: precision and recall of
"verified", and the calibration of its two soft thresholds.

``evals/verifier_pairs.jsonl`` (written by a helper from the plan alone): 160 pairs, half
supported (faithful restatement, partial, numeric) and half unsupported (a number given another
role, a wrong number, a wrong entity, an invented paraphrase, a negation or scope change), English
and Korean sentences against Korean passages, split ``calib`` / ``test``. The thresholds are
chosen on ``calib`` only (the highest recall with precision >= the target, ties to the stricter
pair) and reported on both splits.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.answer.claims import ClaimCheck, Thresholds, check_claim

PAIRS = Path(__file__).resolve().parent / "verifier_pairs.jsonl"


def load_pairs(path: Path = PAIRS) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def similarities(embedder, pairs: list[dict]) -> list[float]:  # noqa: ANN001
    texts = [p["sentence"] for p in pairs] + [p["passage"] for p in pairs]
    vecs = embedder.embed_documents(texts)
    n = len(pairs)
    return [float(np.dot(vecs[i], vecs[n + i])) for i in range(n)]


def checks(pairs: list[dict], sims: list[float]) -> list[ClaimCheck]:
    """The threshold-free part of every check (hard checks, polarity, coverage), computed once."""
    free = Thresholds(-1.0, 0.0)
    return [
        check_claim(
            p["sentence"],
            [p["passage"]],
            "",
            sim,
            free,
            polarity_against=p["passage"],
            lang=p["lang"],
        )
        for p, sim in zip(pairs, sims, strict=True)
    ]


def judge(
    pairs: list[dict], base: list[ClaimCheck], th: Thresholds | dict[str, Thresholds]
) -> list[dict]:
    """Each pair's state under these thresholds (one pair of thresholds, or one per language)."""
    out = []
    for p, c in zip(pairs, base, strict=True):
        t = th[p["lang"]] if isinstance(th, dict) else th
        reasons = list(c.reasons)
        if c.state != "unsupported":
            if c.similarity is not None and c.similarity < t.min_similarity:
                reasons.append("low_similarity")
            if c.coverage is not None and c.coverage < t.min_coverage:
                reasons.append("low_coverage")
        state = (
            "unsupported" if c.state == "unsupported" else ("partial" if reasons else "verified")
        )
        out.append(
            {
                "id": p["id"],
                "split": p.get("split", ""),
                "lang": p["lang"],
                "kind": p["kind"],
                "label": p["label"],
                "state": state,
                "reasons": reasons,
                "similarity": None if c.similarity is None else round(c.similarity, 4),
                "coverage": None if c.coverage is None else round(c.coverage, 4),
            }
        )
    return out


def scores(rows: list[dict]) -> dict:
    """Precision/recall of 'verified' for the label 'supported', and how each kind fared."""
    tp = sum(1 for r in rows if r["state"] == "verified" and r["label"] == "supported")
    fp = sum(1 for r in rows if r["state"] == "verified" and r["label"] != "supported")
    pos = sum(1 for r in rows if r["label"] == "supported")
    neg_caught = sum(1 for r in rows if r["label"] != "supported" and r["state"] == "unsupported")
    neg = sum(1 for r in rows if r["label"] != "supported")
    kinds: dict[str, Counter] = {}
    for r in rows:
        kinds.setdefault(r["kind"], Counter())[r["state"]] += 1
    return {
        "n": len(rows),
        "verified": tp + fp,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / pos, 4) if pos else None,
        "unsupported_marked_unverified": round(neg_caught / neg, 4) if neg else None,
        "by_kind": {k: dict(v) for k, v in sorted(kinds.items())},
    }


def calibrate(
    pairs: list[dict], base: list[ClaimCheck], target_precision: float = 0.95
) -> tuple[Thresholds, dict]:
    """Grid search on the calibration pairs: the highest recall at precision >= target."""
    best: tuple[float, float, Thresholds] | None = None
    grid_sim = [round(x, 2) for x in np.arange(0.30, 0.86, 0.025)]
    grid_cov = [0.0, 0.25, 0.34, 0.4, 0.5, 0.6, 0.67, 0.75, 0.8, 1.0]
    table = []
    for s, c in itertools.product(grid_sim, grid_cov):
        th = Thresholds(s, c)
        sc = scores(judge(pairs, base, th))
        table.append(
            {
                "min_similarity": s,
                "min_coverage": c,
                "precision": sc["precision"],
                "recall": sc["recall"],
            }
        )
        if sc["precision"] is None or sc["precision"] < target_precision:
            continue
        key = (sc["recall"] or 0.0, -(s + c))
        if best is None or key > best[:2]:
            best = (key[0], key[1], th)
    chosen = best[2] if best else Thresholds(grid_sim[-1], 1.0)
    return chosen, {"target_precision": target_precision, "grid": table}


def run_verifier_eval(
    embedder,
    current: dict[str, Thresholds],
    out: Path | None = None,  # noqa: ANN001
    target_precision: float = 0.95,
) -> dict:
    """Scores under the configured thresholds and under thresholds calibrated per language on the
    calib split; both reported on calib and test."""
    pairs = load_pairs()
    base = checks(pairs, similarities(embedder, pairs))
    calibrated: dict[str, Thresholds] = {}
    grids = {}
    for lang in ("en", "ko"):
        idx = [i for i, p in enumerate(pairs) if p.get("split") == "calib" and p["lang"] == lang]
        calibrated[lang], grids[lang] = calibrate(
            [pairs[i] for i in idx], [base[i] for i in idx], target_precision
        )
    result: dict = {
        "pairs": len(pairs),
        "embedder": getattr(embedder, "model_id", ""),
        "target_precision": target_precision,
        "calibrated": {k: vars(v) for k, v in calibrated.items()},
        "configured": {k: vars(v) for k, v in current.items()},
    }
    for name, th in (("configured", current), ("calibrated", calibrated)):
        rows = judge(pairs, base, th)
        sc = {
            split: scores([r for r in rows if r["split"] == split]) for split in ("calib", "test")
        }
        for split in ("calib", "test"):
            for lang in ("en", "ko"):
                sc[f"{split}.{lang}"] = scores(
                    [r for r in rows if r["split"] == split and r["lang"] == lang]
                )
        result[f"{name}_scores"] = sc
        result[f"{name}_rows"] = rows
    result["grid"] = grids
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return result
