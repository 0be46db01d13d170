"""Step ``markers``: split the text into sentences and resolve their [n] markers."""

from __future__ import annotations

from assistant.answer.markers import resolve
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def run(state: AnswerState, deps: Deps) -> None:
    sentences, unresolved, dropped = resolve(state.raw, {u.n for u in state.units})
    state.sentences, state.unresolved, state.dropped = sentences, unresolved, dropped
    if unresolved:
        state.note(Step.MARKERS, Code.MARKER_UNRESOLVED, f"{unresolved} markers removed")
    if dropped:
        state.note(
            Step.MARKERS, Code.SENTENCE_UNCITED, f"{dropped} sentences without a marker dropped"
        )
    if not unresolved and not dropped:
        state.note(Step.MARKERS, Code.MARKERS_OK, f"{len(sentences)} sentences")
