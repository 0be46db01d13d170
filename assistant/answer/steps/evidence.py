"""Step ``evidence``: the best sentences of the top passages (whole Table 1 rows and goals),
shown to the user as candidate sources before any token is generated."""

from __future__ import annotations

import functools
import time

from assistant.answer.citations import citation_for
from assistant.answer.evidence import holds_kind, select_evidence
from assistant.answer.state import AnswerState, Deps, Emit
from assistant.answer.trace import Code, Step
from assistant.types import EvidenceEvent


def run(state: AnswerState, deps: Deps, emit: Emit) -> None:
    frame, cfg = state.frame, deps.settings
    assert frame is not None and state.query is not None and state.qvec is not None
    context = state.hits[: cfg.answer.context_chunks]
    sentences = deps.retriever.sentences(context, state.qvec)
    further = [
        functools.partial(holds_kind, k)
        for k in frame.kinds[1:]
        if k in ("amount", "percent", "count", "date", "place")
    ]
    selection = select_evidence(
        context,
        sentences,
        deps.retriever.bm25_tokens(state.query),
        cfg.answer.evidence_sentences,
        unit=cfg.answer.evidence_unit,
        question_entities=set(frame.all_entities),
        with_references=frame.about_documents,
        must_hold=further if state.enabled("evidence_parts") else None,
        skip_other_rows=state.enabled("other_rows"),
    )
    state.units = selection.units
    if selection.other_rows_skipped:
        state.note(
            Step.EVIDENCE, Code.EVIDENCE_OTHER_ROW_SKIPPED, f"{selection.other_rows_skipped} rows"
        )
    if selection.instructions_skipped:
        state.note(
            Step.EVIDENCE,
            Code.EVIDENCE_INSTRUCTION_SKIPPED,
            f"{selection.instructions_skipped} sentences addressed to the assistant",
        )
    if selection.parts_added:
        state.note(
            Step.EVIDENCE,
            Code.EVIDENCE_PART_ADDED,
            f"{selection.parts_added} for {frame.kinds[1:]}",
        )
    state.note(
        Step.EVIDENCE,
        Code.EVIDENCE_SELECTED,
        f"{len(state.units)} units, best {state.units[0].score:.3f}" if state.units else "none",
    )
    state.retrieve_s = time.perf_counter() - state.t0
    emit(
        EvidenceEvent(
            citations=[
                citation_for(u, cfg.data.official_url, cfg.data.pdf_page_offset, "unverified")
                for u in state.units
            ],
            search_text=frame.search_text,
            retrieve_s=state.retrieve_s,
        )
    )
