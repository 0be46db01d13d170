"""Step ``finish``: the Answer — citations with their support state, the checked sentences,
the notices in the asker's language — or the refusal with the nearest passages."""

from __future__ import annotations

import time

from assistant.answer.citations import (
    build_citations,
    citation_for,
    sentence_support,
    support_summary,
)
from assistant.answer.markers import render
from assistant.answer.messages import kind_name, message
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step
from assistant.types import Answer, Timings


def _notices(state: AnswerState, deps: Deps) -> list[str]:
    out = []
    for key in dict.fromkeys(state.notices):
        out.append(message(key, state.lang, n=deps.settings.answer.max_question_chars))
    return out


def _refusal_reason(state: AnswerState) -> str:
    last = next((d for d in reversed(state.trace) if d.code == state.refusal), None)
    detail = last.detail if last else ""
    if state.refusal == Code.GATE_KIND_ABSENT:
        detail = kind_name(detail, state.lang)
    return message(str(state.refusal), state.lang, detail=detail) if state.refusal else ""


def run(state: AnswerState, deps: Deps) -> Answer:
    cfg = deps.settings
    frame = state.frame
    timings = Timings(
        retrieve_s=state.retrieve_s,
        first_token_s=state.first_token_s,
        total_s=time.perf_counter() - state.t0,
    )
    base = dict(
        question=state.text if not state.problem else _shown_question(state.question),
        language=state.lang,
        mode=state.mode,
        search_text=frame.search_text if frame else "",
        hits=state.hits,
        embed_id=getattr(deps.embedder, "model_id", ""),
        llm_id=state.llm_id,
        timings=timings,
    )
    if state.problem:
        state.note(Step.FINISH, Code.REFUSED, state.problem)
        return Answer(
            answer=message(state.problem, state.lang),
            refused=True,
            notices=_notices(state, deps),
            trace=state.trace,
            **base,
        )
    if state.refusal is not None and state.route == "both" and state.record_sentences:
        # The prose part is not answered; the records part is.
        state.notices.append("part_unanswered")
        state.sentences, state.units, state.refusal = (
            state.record_sentences,
            state.record_units,
            None,
        )
    if state.refusal is not None or not state.sentences:
        related = [
            citation_for(u, cfg.data.official_url, cfg.data.pdf_page_offset)
            for u in state.units[:3]
        ]
        if state.refusal is None:
            state.refusal = Code.RECOVER_REFUSED
        reason = _refusal_reason(state)
        state.note(Step.FINISH, Code.REFUSED, str(state.refusal))
        text = message("refusal", state.lang)
        return Answer(
            answer=text,
            refused=True,
            related=related,
            notices=[*_notices(state, deps), *([reason] if reason else [])],
            trace=state.trace,
            support=support_summary([], [], 0, 0, state.llm_calls),
            **base,
        )
    citations = build_citations(
        state.sentences, state.units, cfg.data.official_url, cfg.data.pdf_page_offset
    )
    support = support_summary(
        state.sentences, citations, state.unresolved, state.dropped, state.llm_calls
    )
    state.note(
        Step.FINISH,
        Code.ANSWERED,
        f"{len(state.sentences)} sentences, {support.verified_citations}/"
        f"{support.total_citations} citations verified",
    )
    return Answer(
        answer=render(state.sentences),
        refused=False,
        citations=citations,
        support=support,
        sentences=[sentence_support(s) for s in state.sentences],
        notices=_notices(state, deps),
        trace=state.trace,
        **base,
    )


def _shown_question(raw: object) -> str:
    if isinstance(raw, str):
        return raw[:200]
    return "<binary>" if isinstance(raw, bytes) else ""
