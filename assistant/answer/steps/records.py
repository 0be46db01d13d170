"""Step ``records``: answer the structured part exactly from the plan's records, each item cited
to its own row; the sentences are checked like any other (names, places, years in the row)."""

from __future__ import annotations

import time

from assistant.answer.citations import citation_for
from assistant.answer.claims import Thresholds, check_claim
from assistant.answer.evidence import EvidenceUnit
from assistant.answer.markers import AnswerSentence, render
from assistant.answer.records.execute import execute
from assistant.answer.records.render import render_result
from assistant.answer.state import AnswerState, Deps, Emit
from assistant.answer.steps.verify import unit_texts
from assistant.answer.trace import Code, Step
from assistant.knowledge.records import records
from assistant.types import EvidenceEvent, TokenEvent


def run(state: AnswerState, deps: Deps, emit: Emit) -> None:
    frame, cfg = state.frame, deps.settings
    assert frame is not None and state.record_queries
    results = [execute(q) for q in state.record_queries]
    rendered = [r for result in results for r in render_result(result, frame.lang)]
    ids = list(dict.fromkeys(i for r in rendered for i in r.cites))
    hits = deps.retriever.record_hits([i for i in ids if i != "agencies"])
    if "agencies" in ids:
        hit = deps.retriever.hit_containing(records().agencies_evidence_ko_mt)
        if hit is not None:
            hits["agencies"] = hit
    units: dict[str, EvidenceUnit] = {}
    for i in ids:
        if i in hits:
            units[i] = EvidenceUnit(hits[i], hits[i].text, 1.0, len(units) + 1)
    if not units:  # an index without the records' rows (another corpus): answer from prose
        state.route, state.records_only = "prose", False
        state.note(Step.RECORDS, Code.RECORDS_EMPTY, "the index holds no rows of these records")
        return
    sentences = []
    # The count and the filter a list sentence states come from the question and the list itself.
    given = " ".join([state.text, *(str(len(result.items)) for result in results)])
    for r in rendered:
        marks = [units[i].n for i in r.cites if i in units]
        if not marks:
            continue
        s = AnswerSentence(r.text, marks, origin="records")
        passages = [t for i in r.cites if i in units for t in unit_texts(units[i], frame.lang)]
        s.check = check_claim(r.text, passages, given, None, Thresholds(-1.0, 0.0), lang=frame.lang)
        sentences.append(s)
    state.record_units = list(units.values())
    state.record_sentences = sentences
    state.retrieve_s = time.perf_counter() - state.t0
    emit(
        EvidenceEvent(
            citations=[
                citation_for(u, cfg.data.official_url, cfg.data.pdf_page_offset, "unverified")
                for u in state.record_units
            ],
            search_text=frame.search_text,
            retrieve_s=state.retrieve_s,
        )
    )
    text = render(sentences)
    state.mark_first_token()
    emit(TokenEvent(text=text))
    state.llm_id = state.llm_id or "records"
    if state.route == "records":
        state.records_only = True
        state.units, state.sentences = state.record_units, sentences
    for q, result in zip(state.record_queries, results, strict=True):
        code = Code.RECORDS_ANSWERED if result.items else Code.RECORDS_EMPTY
        state.note(Step.RECORDS, code, f"{q.table}/{q.action}: {len(result.items)} records")
