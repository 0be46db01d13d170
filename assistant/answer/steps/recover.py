"""Step ``recover``: what happens to an answer that failed its checks — at most one more
generation (``answer.max_llm_calls``), else drop or quote.

* NOT_FOUND, but a top-2 unit holds the quantity asked for with a high score: restate that
  unit alone (no option to refuse); NOT_FOUND otherwise is a refusal.
* The answer leaves out the amount, count, date or place asked for while such a unit holds it,
  or every sentence is unsupported: restate the strongest (else the closest) unit once; the
  stream is reset first. If that fails too, the unit itself is shown (quoted / its record).
* Some sentences unsupported, others fine: the unsupported ones are dropped.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from assistant.answer import extractive
from assistant.answer.evidence import EvidenceUnit, holds_kind, says_something
from assistant.answer.frame import QUANTITY_KINDS
from assistant.answer.markers import AnswerSentence, render, resolve
from assistant.answer.prompt import compose_messages
from assistant.answer.state import AnswerState, Deps, Emit
from assistant.answer.steps.generate import grammar_for, stream_generation
from assistant.answer.steps.verify import check_sentences
from assistant.answer.trace import Code, Step
from assistant.types import ResetEvent


def strong_unit(state: AnswerState, deps: Deps, kind: str | None) -> EvidenceUnit | None:
    """A top-2 unit that states the kind of fact asked for and scores high."""
    if kind is None:
        return None
    cfg = deps.settings.answer
    return next(
        (
            u
            for u in state.units[:2]
            if u.score >= cfg.second_opinion_score
            and holds_kind(kind, u.quote)
            and says_something(u)
        ),
        None,
    )


def missing_kind(state: AnswerState) -> str | None:
    """The quantity (or, for a where-question, the place) asked for that the answer leaves out."""
    frame = state.frame
    assert frame is not None
    text = render(state.sentences)
    if (
        frame.main_kind in QUANTITY_KINDS
        and not frame.open_quantity
        and not holds_kind(frame.main_kind, text)
    ):
        return frame.main_kind
    if "place" in frame.kinds and not holds_kind("place", text):
        return "place"
    return None


def closest_unit(deps: Deps, text: str, units: list[EvidenceUnit]) -> EvidenceUnit:
    units = [u for u in units if says_something(u)] or units
    vecs = deps.embedder.embed_documents([text] + [u.prompt_text for u in units])
    return units[int(np.argmax(vecs[1:] @ vecs[0]))]


def restate(state: AnswerState, deps: Deps, unit: EvidenceUnit, emit: Emit) -> list[AnswerSentence]:
    """One more generation: the question answered from this unit alone, checked again."""
    frame = state.frame
    assert frame is not None
    gen = deps.generator(state.mode)
    assert gen is not None
    solo = dataclasses.replace(unit, n=1)
    if state.first_token_s is not None:
        emit(ResetEvent(reason="retry"))
        state.note(Step.RECOVER, Code.STREAM_RESET)
    raw = stream_generation(
        state,
        deps,
        gen,
        compose_messages(frame.text, frame.lang, solo),
        grammar_for(deps, gen, 1, frame.lang, may_refuse=False, max_sentences=2),
        emit,
    )
    sentences, _, _ = resolve(raw, {1}, origin="retry")
    for s in sentences:
        s.markers = [unit.n]
    check_sentences(state, deps, sentences)
    return sentences


def quote(state: AnswerState, deps: Deps, unit: EvidenceUnit) -> list[AnswerSentence]:
    """The unit itself, rendered in the asker's language (a record's fields, else its text)."""
    sentences, _, _ = resolve(extractive.render_unit(unit, state.lang), {unit.n}, origin="quoted")
    check_sentences(state, deps, sentences)
    return sentences


def run(state: AnswerState, deps: Deps, emit: Emit) -> None:
    frame, cfg = state.frame, deps.settings.answer
    assert frame is not None
    if state.records_only:
        state.note(Step.RECOVER, Code.RECOVER_NONE, "records answer")
        return
    can_retry = (
        deps.generator(state.mode) is not None
        and state.llm_calls < cfg.max_llm_calls
        and state.enabled("recover_retry")
    )
    if state.not_found:
        kind = (
            frame.main_kind
            if frame.main_kind in QUANTITY_KINDS and not frame.open_quantity
            else None
        )
        strong = strong_unit(state, deps, kind)
        if strong is None or not can_retry:
            state.refuse(Step.RECOVER, Code.RECOVER_REFUSED, "NOT_FOUND")
            return
        again = restate(state, deps, strong, emit)
        if (
            again
            and all(s.state != "unsupported" for s in again)
            and holds_kind(kind, render(again))
        ):
            state.sentences = again
            state.note(Step.RECOVER, Code.RECOVER_RETRY, f"after NOT_FOUND, from [{strong.n}]")
        else:
            state.sentences = quote(state, deps, strong)
            state.note(Step.RECOVER, Code.RECOVER_QUOTED, f"after NOT_FOUND, [{strong.n}]")
        state.notices.append(state.trace[-1].code)
        return
    if not state.sentences:
        state.sentences, _, _ = resolve(
            extractive.compose(state.units, frame.lang, frame),
            {u.n for u in state.units},
            origin="quoted",
        )
        check_sentences(state, deps, state.sentences)
        state.note(Step.RECOVER, Code.RECOVER_QUOTED, "no cited sentence was generated")
        state.notices.append(Code.RECOVER_QUOTED)
        return
    bad = [s for s in state.sentences if s.state == "unsupported"]
    good = [s for s in state.sentences if s.state != "unsupported"]
    missing = missing_kind(state)
    strong = strong_unit(state, deps, missing)
    if not bad and strong is None:
        state.note(Step.RECOVER, Code.RECOVER_NONE)
        return
    if bad and good and strong is None and state.enabled("recover_drop"):
        state.sentences, state.dropped = good, state.dropped + len(bad)
        state.note(Step.RECOVER, Code.RECOVER_DROPPED, f"{len(bad)} unsupported")
        state.notices.append(Code.RECOVER_DROPPED)
        return
    if not bad and not can_retry:
        state.note(Step.RECOVER, Code.RECOVER_NONE, f"no {missing} stated; no retry left")
        return
    target = strong or closest_unit(deps, bad[0].text, state.units)
    if can_retry:
        again = restate(state, deps, target, emit)
        if (
            again
            and all(s.state != "unsupported" for s in again)
            and (missing is None or holds_kind(missing, render(again)))
        ):
            state.sentences = again
            state.note(
                Step.RECOVER,
                Code.RECOVER_RETRY,
                f"from [{target.n}]" + (f" for the {missing}" if missing else ""),
            )
            state.notices.append(Code.RECOVER_RETRY)
            return
    if good and not missing and state.enabled("recover_drop"):
        state.sentences, state.dropped = good, state.dropped + len(bad)
        state.note(Step.RECOVER, Code.RECOVER_DROPPED, f"{len(bad)} unsupported")
        state.notices.append(Code.RECOVER_DROPPED)
        return
    state.sentences = quote(state, deps, target)
    state.note(Step.RECOVER, Code.RECOVER_QUOTED, f"[{target.n}]")
    state.notices.append(Code.RECOVER_QUOTED)
