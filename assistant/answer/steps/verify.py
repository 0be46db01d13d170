"""Step ``verify``: check what each sentence claims against the passages it cites.

A sentence whose claims stand in another evidence unit (or a pair of them) is re-cited there
(``recite``); what is left unsupported is for the ``recover`` step.
"""

from __future__ import annotations

import itertools

import numpy as np

from assistant.answer.claims import Thresholds, check_claim, check_numbers, named_entities
from assistant.answer.evidence import EvidenceUnit
from assistant.answer.markers import AnswerSentence
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def unit_texts(unit: EvidenceUnit, lang: str) -> list[str]:
    """What a cited unit says: its exact text, the text the LLM read, its English table fields."""
    return list(
        dict.fromkeys([unit.quote, unit.prompt_text, unit.prompt_for("en"), unit.prompt_for(lang)])
    )


def _similarity_text(unit: EvidenceUnit, lang: str) -> str:
    return unit.prompt_for(lang) if unit.hit.kind == "table_row" else unit.quote


def similarities(
    deps: Deps, sentences: list[AnswerSentence], units: dict[int, EvidenceUnit], lang: str
) -> list[float | None]:
    """Cosine between each sentence and the closest of its cited passages (one embedding call)."""
    if not sentences or deps.embedder is None:
        return [None] * len(sentences)
    quotes = list(
        dict.fromkeys(_similarity_text(units[n], lang) for s in sentences for n in s.markers)
    )
    vecs = deps.embedder.embed_documents([s.text for s in sentences] + quotes)
    svec, qvec = vecs[: len(sentences)], vecs[len(sentences) :]
    index = {q: i for i, q in enumerate(quotes)}
    out: list[float | None] = []
    for s, v in zip(sentences, svec, strict=True):
        sims = [float(np.dot(v, qvec[index[_similarity_text(units[n], lang)]])) for n in s.markers]
        out.append(max(sims) if sims else None)
    return out


def thresholds(deps: Deps, lang: str) -> Thresholds:
    t = deps.settings.answer.verify.get(lang) or deps.settings.answer.verify["en"]
    return Thresholds(t.min_similarity, t.min_coverage)


def check_sentences(state: AnswerState, deps: Deps, sentences: list[AnswerSentence]) -> None:
    frame = state.frame
    assert frame is not None
    units = state.units_by_n
    sentences = [s for s in sentences if s.origin != "records"]  # checked when rendered
    sims = similarities(deps, sentences, units, frame.lang)
    for s, sim in zip(sentences, sims, strict=True):
        passages = [t for n in s.markers for t in unit_texts(units[n], frame.lang)]
        cited = [
            units[n]
            for n in s.markers
            if not units[n].hit.record and units[n].hit.kind != "footnote"
        ]
        s.check = check_claim(
            s.text,
            passages,
            frame.text,
            sim,
            thresholds(deps, frame.lang),
            polarity_against=" ".join(u.quote for u in cited) or None,
            lang=frame.lang,
        )


def holds_hard_claims(text: str, units: list[EvidenceUnit], question: str, lang: str) -> bool:
    passages = [t for u in units for t in unit_texts(u, lang)]
    _, missing, wrong = check_numbers(text, passages, question)
    present = set().union(*(named_entities(t) for t in [*passages, question]))
    return not missing and not wrong and named_entities(text) <= present


def claim_holders(text: str, units: list[EvidenceUnit], question: str, lang: str) -> list[int]:
    """The unit that holds every number and name of a sentence, else the first pair that holds
    them together ("76 institutes, founded in 1949" from two sentences), else none."""
    single = next((u.n for u in units if holds_hard_claims(text, [u], question, lang)), None)
    if single is not None:
        return [single]
    return next(
        (
            [a.n, b.n]
            for a, b in itertools.combinations(units, 2)
            if holds_hard_claims(text, [a, b], question, lang)
        ),
        [],
    )


def run(state: AnswerState, deps: Deps) -> None:
    frame = state.frame
    assert frame is not None
    check_sentences(state, deps, state.sentences)
    for s in state.sentences:
        if s.origin == "records":
            continue
        if s.state == "unsupported" and state.enabled("recite"):
            holders = claim_holders(s.text, state.units, frame.text, frame.lang)
            if holders and holders != s.markers:
                old = s.markers
                s.markers = holders
                check_sentences(state, deps, [s])
                s.history.append(Code.CLAIM_RECITED)
                state.note(
                    Step.VERIFY,
                    Code.CLAIM_RECITED,
                    f"[{','.join(map(str, old))}] -> [{','.join(map(str, holders))}]",
                )
        code = {"verified": Code.CLAIM_VERIFIED, "partial": Code.CLAIM_PARTIAL}.get(
            s.state, Code.CLAIM_UNSUPPORTED
        )
        reasons = ",".join(s.check.reasons) if s.check else ""
        state.note(Step.VERIFY, code, f"{s.text[:60]}… {reasons}".strip())
