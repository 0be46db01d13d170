"""Step ``input``: the edge policy on the question (cleaning, length cap, instructions removed)."""

from __future__ import annotations

from assistant.answer.inputs import bound_history, clean_question
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step

_NOTICE_CODES = {
    "control": Code.INPUT_CONTROL_REMOVED,
    "truncated": Code.INPUT_TRUNCATED,
    "injection": Code.INPUT_INJECTION_REMOVED,
    "history_trimmed": Code.INPUT_HISTORY_TRIMMED,
}


def run(state: AnswerState, deps: Deps) -> None:
    cfg = deps.settings.answer
    state.history, trimmed = bound_history(
        state.history, cfg.max_history_turns, cfg.max_turn_chars, cfg.max_history_chars
    )
    if trimmed:
        state.notices.append("history_trimmed")
        state.note(Step.INPUT, Code.INPUT_HISTORY_TRIMMED, f"{len(state.history)} turns kept")
    clean = clean_question(state.question, cfg.max_question_chars)
    state.text = clean.text
    state.notices.extend(clean.notices)
    for key in clean.notices:
        state.note(Step.INPUT, _NOTICE_CODES[key])
    if clean.problem:
        state.problem = clean.problem
        state.note(Step.INPUT, Code.INPUT_EMPTY if clean.problem == "empty" else Code.INPUT_BINARY)
        return
    state.note(Step.INPUT, Code.INPUT_OK)
