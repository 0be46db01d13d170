"""AnswerService: the one answer path the CLI, the UI and the eval harness share.

It runs the pipeline (assistant/answer/pipeline.py) for one question, turns what the pipeline
streams into our public events (EvidenceEvent, TokenEvent, ResetEvent, then FinalEvent) and
logs the answer to logs.db.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from workflows.events import StopEvent

from assistant.answer.pipeline import AnswerWorkflow, Published
from assistant.answer.prompt import prefix_messages
from assistant.answer.records.llm_parse import prefix_messages as query_prefix_messages
from assistant.answer.state import ABLATABLE, AnswerState, Deps
from assistant.components.embedding import Embedder
from assistant.components.llm import Generator, make_generator
from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.types import Answer, AnswerEvent, FinalEvent, Turn

logger = logging.getLogger(__name__)
_DONE = object()


class AnswerService:
    def __init__(
        self,
        settings: Settings,
        retriever,
        embedder: Embedder,  # noqa: ANN001
        log_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.embedder = embedder
        self.log_path = log_path if settings.log.enabled else None
        self._generators: dict[str, Generator | None] = {}
        self._lock = threading.Lock()
        self.deps = Deps(
            settings=settings, retriever=retriever, embedder=embedder, generator=self.generator
        )
        self.workflow = AnswerWorkflow(self.deps)

    # ------------------------------------------------------------------ generators

    def generator(self, mode: str) -> Generator | None:
        with self._lock:
            if mode not in self._generators:
                self._generators[mode] = make_generator(self.settings, mode)
            return self._generators[mode]

    def warm(self, mode: str | None = None) -> None:
        """Load the index, the tokenizer, the generator and its fixed prompt prefix once, so
        the first user does not pay for them."""
        from assistant.answer.frame import build_frame
        from assistant.korean.tokens import tokenize
        from assistant.types import Query

        tokenize("준비 warm-up")
        frame = build_frame("warm-up")
        query = Query(text=frame.text, lang="en", search_text=frame.text)
        qvec = self.retriever.embed_query(query)
        hits = self.retriever.search(
            query, qvec=qvec
        )  # opens the index and llama-index's retrievers
        self.retriever.sentences(hits[:1], qvec)
        gen = self.generator(mode or self.settings.llm.mode)
        if gen is not None:
            gen.warm(prefix_messages())
            gen.warm(query_prefix_messages())

    # ------------------------------------------------------------------ main path

    def answer(
        self,
        question: str | bytes | None,
        history: list[Turn] | None = None,
        mode: str | None = None,
        **kw: object,
    ) -> Answer:
        final = None
        for event in self.stream(question, history, mode, **kw):  # type: ignore[arg-type]
            if isinstance(event, FinalEvent):
                final = event.answer
        assert final is not None
        return final

    def stream(
        self,
        question: str | bytes | None,
        history: list[Turn] | None = None,
        mode: str | None = None,
        source: str = "api",
        conversation_id: str | None = None,
        eval_run: str | None = None,
        log: bool = True,
        disabled: Iterable[str] = (),
    ) -> Iterator[AnswerEvent]:
        """Answer one question: EvidenceEvent, TokenEvent* (ResetEvent when an attempt is
        replaced), then FinalEvent with the checked Answer."""
        off = frozenset([*self.settings.answer.disabled_steps, *disabled])
        if unknown := sorted(off - set(ABLATABLE)):
            raise ConfigError(
                f"unknown step(s) to disable: {', '.join(unknown)}",
                hint=f"Known: {', '.join(ABLATABLE)}.",
            )
        state = AnswerState(
            question=question,
            history=list(history or []),
            mode=mode or self.settings.llm.mode,
            disabled=off,
        )
        answer: Answer | None = None
        for item in self._run(state):
            if isinstance(item, Answer):
                answer = item
            else:
                yield item
        assert answer is not None
        if log and self.log_path is not None:
            from assistant.logs import safe_log_answer

            answer.log_id = safe_log_answer(
                self.log_path,
                answer,
                profile=self.settings.profile,
                source=source,
                eval_run=eval_run,
                conversation_id=conversation_id,
                history=state.history,
                detected_language=state.frame.detected_lang if state.frame else "",
            )
        yield FinalEvent(answer=answer)

    def _run(self, state: AnswerState) -> Iterator[AnswerEvent | Answer]:
        """Run the workflow on its own event loop in a worker thread; relay what it streams."""
        out: queue.Queue = queue.Queue()

        async def main() -> None:
            handler = self.workflow.run(start_event=_start(state))
            async for ev in handler.stream_events():
                if isinstance(ev, Published):
                    out.put(ev.payload)
                elif isinstance(ev, StopEvent):
                    pass
            out.put(await handler)

        def thread() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                out.put(exc)
            finally:
                out.put(_DONE)

        worker = threading.Thread(target=thread, name="answer", daemon=True)
        worker.start()
        while (item := out.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
        worker.join()


def _start(state: AnswerState):  # noqa: ANN202
    from workflows.events import StartEvent

    return StartEvent(state=state)
