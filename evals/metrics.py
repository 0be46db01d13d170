"""Scoring functions: retrieval (hit@k, MRR, nDCG), answers, citations. Pure logic."""

from __future__ import annotations

import math
import re

_MARKER = re.compile(r"(?<=[\uac00-\ud7a3.)\]])\d{1,2}(?=\s|$)")


def _grams(text: str, n: int = 3) -> set[str]:
    s = re.sub(r"\s+", "", _MARKER.sub("", text))
    return {s[i : i + n] for i in range(max(0, len(s) - n + 1))}


def evidence_overlap(evidence: str, passage: str) -> float:
    """Share of the evidence's character trigrams found in the passage (whitespace-free).

    Evidence is a substring of the raw plan; passages are cleaned (footnote markers removed,
    Table 1 rows rebuilt as records), so exact containment would miss true matches.
    """
    ev = _grams(evidence)
    if not ev:
        return 0.0
    return len(ev & _grams(passage)) / len(ev)


def is_relevant(
    evidence: str,
    gold_page: int | None,
    text: str,
    page_start: int | None,
    page_end: int | None,
    threshold: float = 0.6,
) -> bool:
    """A passage is relevant when it holds most of the gold evidence (near its page)."""
    if not evidence:
        return False
    overlap = evidence_overlap(evidence, text)
    on_page = (
        gold_page is not None
        and page_start is not None
        and (page_start - 1 <= gold_page <= (page_end or page_start) + 1)
    )
    return overlap >= 0.85 or (on_page and overlap >= threshold)


def retrieval_scores(
    relevance: list[bool], ks: tuple[int, ...] = (1, 3, 5, 10)
) -> dict[str, float]:
    first = next((i for i, r in enumerate(relevance) if r), None)
    out = {f"hit@{k}": float(first is not None and first < k) for k in ks}
    out["mrr@10"] = 1.0 / (first + 1) if first is not None and first < 10 else 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(relevance[:10]) if r)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(10, max(1, sum(relevance[:10])))))
    out["ndcg@10"] = dcg / ideal if ideal else 0.0
    return out


def key_present(alt: str, answer: str) -> bool:
    """Case-insensitive; a key that starts or ends with a Latin letter or digit must not sit
    inside a longer word or number ("DOE" is not in "does", "17" not in "2017"), though a
    lower-case word key takes its plural ("fiber" matches "fibers"). Korean keys are substrings
    (particles are glued to nouns)."""
    a = re.sub(r"\s+", " ", alt.strip())
    if not a:
        return False
    left = r"(?<![A-Za-z0-9])" if re.match(r"[A-Za-z0-9]", a) else ""
    right = r"(?![A-Za-z0-9])" if re.search(r"[A-Za-z0-9]$", a) else ""
    if right and re.search(
        r"[a-z]$", a
    ):  # a word key also matches its plural ("fiber" in "fibers")
        right = r"(?:s|es)?" + right
    return (
        re.search(left + re.escape(a) + right, re.sub(r"\s+", " ", answer), re.IGNORECASE)
        is not None
    )


def key_facts_matched(answer: str, keys: list[list[str]]) -> tuple[bool, list[list[str]]]:
    """Every inner list must be matched by one of its alternatives (:func:`key_present`)."""
    missed = [alts for alts in keys if not any(key_present(a, answer) for a in alts)]
    return not missed, missed


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)
