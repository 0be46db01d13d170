"""Step ``frame``: parse the question once (language, kinds of fact, entities, constraints,
parts, follow-up resolution)."""

from __future__ import annotations

from assistant.answer.frame import build_frame
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def run(state: AnswerState, deps: Deps) -> None:
    frame = build_frame(state.text, state.history, deps.settings.answer.default_lang)
    state.frame = frame
    state.note(Step.FRAME, Code.FRAME_LANG, f"{frame.lang} (detected {frame.detected_lang})")
    if frame.detected_lang not in ("en", "ko", "unknown"):
        state.notices.append("other_language")
        state.note(Step.FRAME, Code.FRAME_OTHER_LANGUAGE, frame.detected_lang)
    state.note(
        Step.FRAME,
        Code.FRAME_KINDS,
        ",".join(frame.kinds) or ("open quantity" if frame.open_quantity else "open"),
    )
    if frame.followup:
        state.note(Step.FRAME, Code.FRAME_FOLLOWUP, " ".join(frame.resolved) or "previous question")
