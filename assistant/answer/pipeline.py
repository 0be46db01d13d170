"""The answer pipeline: every step a question goes through, in order. Read this file first.

    input      clean the question at the edge (control characters, length, instructions)
    frame      parse it once: language, kinds of fact asked, entities, constraints, follow-up
    route      records (lookups, lists, counts over the plan's tables), prose, or both
    records    answer the structured part exactly from corpus/records, each item cited to its row
    retrieve   dense + Korean BM25 search, fused
    evidence   the best sentences of the top passages (shown to the user as candidates)
    gate       refuse before generating when the evidence cannot answer
    generate   the first answer: local LLM under a grammar, or extractive        (LLM call 1)
    markers    sentences and their [n] markers
    verify     what each sentence claims, checked against the passages it cites
    recover    one retry from the strongest passage (LLM call 2), else drop or quote
    language   the answer must be in the asker's language
    renumber   cited passages numbered 1..k in the order the answer cites them
    finish     the Answer, or the refusal with the nearest passages

It is a llama-index ``Workflow``: each step is a ``@step`` taking one typed event and returning
the next, so the order above is also what the event types allow. Step logic lives in
``assistant/answer/steps/`` as plain functions over an :class:`AnswerState` (testable alone);
they run in a worker thread because the models they call block. What a step streams to the
user (candidate sources, tokens, a reset when an attempt is replaced) goes out through
``ctx.write_event_to_stream``; every decision is a coded entry in ``Answer.trace``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent

from assistant.answer.state import AnswerState, Deps
from assistant.answer.steps import (
    evidence,
    finish,
    gate,
    generate,
    language,
    markers,
    records,
    recover,
    renumber,
    retrieve,
    route,
    verify,
)
from assistant.answer.steps import frame as frame_step
from assistant.answer.steps import input as input_step
from assistant.types import AnswerEvent


class _StateEvent(Event):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    state: Any  # AnswerState


class Framing(_StateEvent): ...


class Routing(_StateEvent): ...


class Records(_StateEvent): ...


class Retrieval(_StateEvent): ...


class Evidence(_StateEvent): ...


class Gating(_StateEvent): ...


class Generation(_StateEvent): ...


class Markers(_StateEvent): ...


class Verification(_StateEvent): ...


class Recovery(_StateEvent): ...


class LanguageCheck(_StateEvent): ...


class Renumbering(_StateEvent): ...


class Finishing(_StateEvent): ...


class Published(Event):
    """One of our public stream events (EvidenceEvent, TokenEvent, ResetEvent) on its way out."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    payload: Any


class AnswerWorkflow(Workflow):
    def __init__(self, deps: Deps, **kw: Any) -> None:
        super().__init__(timeout=None, **kw)
        self.deps = deps

    async def _run(
        self, ctx: Context, fn: Callable[..., Any], state: AnswerState, streams: bool = False
    ) -> Any:
        """Run a step function in a worker thread; what it emits is published in order."""
        if not streams:
            return await asyncio.to_thread(fn, state, self.deps)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[AnswerEvent | None] = asyncio.Queue()

        def emit(ev: AnswerEvent) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ev)

        def work() -> Any:
            try:
                return fn(state, self.deps, emit)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        future = loop.run_in_executor(None, work)
        while (ev := await queue.get()) is not None:
            ctx.write_event_to_stream(Published(payload=ev))
        return await future

    @step
    async def input(self, ctx: Context, ev: StartEvent) -> Framing | Finishing:
        state: AnswerState = ev.state
        await self._run(ctx, input_step.run, state)
        return Finishing(state=state) if state.problem else Framing(state=state)

    @step
    async def frame(self, ctx: Context, ev: Framing) -> Routing:
        await self._run(ctx, frame_step.run, ev.state)
        return Routing(state=ev.state)

    @step
    async def route(self, ctx: Context, ev: Routing) -> Records | Retrieval:
        await self._run(ctx, route.run, ev.state)
        return (
            Records(state=ev.state)
            if ev.state.route in ("records", "both")
            else Retrieval(state=ev.state)
        )

    @step
    async def records(self, ctx: Context, ev: Records) -> Verification | Retrieval:
        await self._run(ctx, records.run, ev.state, streams=True)
        return Verification(state=ev.state) if ev.state.records_only else Retrieval(state=ev.state)

    @step
    async def retrieve(self, ctx: Context, ev: Retrieval) -> Evidence:
        await self._run(ctx, retrieve.run, ev.state)
        return Evidence(state=ev.state)

    @step
    async def evidence(self, ctx: Context, ev: Evidence) -> Gating:
        await self._run(ctx, evidence.run, ev.state, streams=True)
        return Gating(state=ev.state)

    @step
    async def gate(self, ctx: Context, ev: Gating) -> Generation | Finishing:
        await self._run(ctx, gate.run, ev.state)
        return Finishing(state=ev.state) if ev.state.refusal else Generation(state=ev.state)

    @step
    async def generate(self, ctx: Context, ev: Generation) -> Markers:
        await self._run(ctx, generate.run, ev.state, streams=True)
        return Markers(state=ev.state)

    @step
    async def markers(self, ctx: Context, ev: Markers) -> Verification:
        await self._run(ctx, markers.run, ev.state)
        return Verification(state=ev.state)

    @step
    async def verify(self, ctx: Context, ev: Verification) -> Recovery:
        await self._run(ctx, verify.run, ev.state)
        return Recovery(state=ev.state)

    @step
    async def recover(self, ctx: Context, ev: Recovery) -> LanguageCheck | Finishing:
        await self._run(ctx, recover.run, ev.state, streams=True)
        return Finishing(state=ev.state) if ev.state.refusal else LanguageCheck(state=ev.state)

    @step
    async def language(self, ctx: Context, ev: LanguageCheck) -> Renumbering:
        await self._run(ctx, language.run, ev.state)
        return Renumbering(state=ev.state)

    @step
    async def renumber(self, ctx: Context, ev: Renumbering) -> Finishing:
        await self._run(ctx, renumber.run, ev.state)
        return Finishing(state=ev.state)

    @step
    async def finish(self, ctx: Context, ev: Finishing) -> StopEvent:
        answer = await self._run(ctx, finish.run, ev.state)
        return StopEvent(result=answer)
