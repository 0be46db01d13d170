"""Step ``generate``: the first answer, from the LLM (grammar-constrained) or extractive.

Tokens stream to the user as they come, except text that may still turn out to be NOT_FOUND
(held back, so a refusal never flashes up as an answer).
"""

from __future__ import annotations

from assistant.answer import extractive
from assistant.answer.prompt import NOT_FOUND, build_messages, grammar
from assistant.answer.state import AnswerState, Deps, Emit
from assistant.answer.trace import Code, Step
from assistant.components.llm import Generator, Message
from assistant.types import TokenEvent


def grammar_for(
    deps: Deps,
    gen: Generator,
    n_units: int,
    lang: str,
    may_refuse: bool = True,
    max_sentences: int | None = None,
) -> str | None:
    if not (deps.settings.llm.use_grammar and gen.supports_grammar):
        return None
    return grammar(n_units, max_sentences or deps.settings.answer.max_sentences, lang, may_refuse)


def stream_generation(
    state: AnswerState,
    deps: Deps,
    gen: Generator,
    messages: list[Message],
    grammar_text: str | None,
    emit: Emit,
) -> str:
    """Run one generation, streaming its text; counts the call."""
    state.llm_calls += 1
    raw = pending = ""
    shown = False
    for piece in gen.stream(messages, deps.settings.llm.max_tokens, grammar_text):
        raw += piece
        if shown:
            emit(TokenEvent(text=piece))
            continue
        pending += piece
        stripped = pending.lstrip()
        if NOT_FOUND.startswith(stripped[: len(NOT_FOUND)]) and len(stripped) < len(NOT_FOUND):
            continue
        if stripped.startswith(NOT_FOUND):
            continue
        state.mark_first_token()
        shown = True
        emit(TokenEvent(text=pending))
    return raw


def run(state: AnswerState, deps: Deps, emit: Emit) -> None:
    frame = state.frame
    assert frame is not None
    gen = deps.generator(state.mode)
    if gen is None:
        state.raw = extractive.compose(state.units, frame.lang, frame)
        state.mark_first_token()
        emit(TokenEvent(text=state.raw))
        state.llm_id = "extractive"
        state.note(Step.GENERATE, Code.GENERATED_EXTRACTIVE)
        return
    state.llm_id = gen.model_id
    state.raw = stream_generation(
        state,
        deps,
        gen,
        build_messages(frame.text, frame.lang, state.units),
        grammar_for(deps, gen, len(state.units), frame.lang),
        emit,
    )
    if state.raw.strip().startswith(NOT_FOUND):
        state.not_found = True
        state.note(Step.GENERATE, Code.GENERATED_NOT_FOUND)
    else:
        state.note(Step.GENERATE, Code.GENERATED, f"{len(state.raw)} chars")
