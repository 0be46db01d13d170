"""Step ``language``: the answer must be in the asker's language (a small model sometimes
answers Korean in English or copies the Korean source into an English answer)."""

from __future__ import annotations

import re

from assistant.answer import extractive
from assistant.answer.markers import render, resolve
from assistant.answer.state import AnswerState, Deps
from assistant.answer.steps.verify import check_sentences
from assistant.answer.trace import Code, Step


def wrong_language(text: str, lang: str) -> bool:
    """English answers must be mostly Latin; Korean answers must contain Korean (short Korean
    answers such as "22개 [1]." are too short for language detection)."""
    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    letters = len(re.findall(r"[^\W\d_]", text)) or 1
    if lang == "en":
        return hangul / letters > 0.3
    return hangul == 0 and len(re.findall(r"[A-Za-z]{2,}", text)) >= 3


def run(state: AnswerState, deps: Deps) -> None:
    if not state.sentences or state.llm_id == "extractive" or state.records_only:
        return
    if not wrong_language(render(state.sentences), state.lang):
        state.note(Step.LANGUAGE, Code.LANGUAGE_OK)
        return
    if not state.enabled("language_fallback"):
        state.note(Step.LANGUAGE, Code.SKIPPED, "wrong language kept")
        return
    by_n = state.units_by_n
    cited = list(dict.fromkeys(n for s in state.sentences for n in s.markers))[:2]
    rendered = " ".join(extractive.render_unit(by_n[n], state.lang) for n in cited)
    state.sentences = resolve(rendered, set(by_n), origin="quoted")[0]
    check_sentences(state, deps, state.sentences)
    state.note(Step.LANGUAGE, Code.LANGUAGE_FALLBACK)
    state.notices.append(Code.LANGUAGE_FALLBACK)
