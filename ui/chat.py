"""The chat (Gradio Blocks served at "/").

One answer path: every question goes through ``AnswerService.stream`` (which also logs the
answer to logs.db); this module only turns its events into page updates:

EvidenceEvent -> the candidate sources appear in the sources panel ("generating…")
TokenEvent*   -> the answer text streams into the chat
FinalEvent    -> the checked answer with clickable [n] markers, and its cited sources
                 (or, for a refusal, the nearest passages) replace the candidates.

Conversation state lives in a per-browser-session ``gr.State``: the turns passed to the
service as history, the chat messages shown, and one sources section per answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.errors import AssistantError
from assistant.renderings import shown_field
from assistant.types import Answer, EvidenceEvent, FinalEvent, ResetEvent, TokenEvent, Turn
from ui import render
from ui.i18n import T

logger = logging.getLogger(__name__)

EXAMPLES = [
    "Where is LIFT headquartered?",
    "How much non-core funding did the institutes attract in FY2022?",
    "EPIXC는 얼마의 연방 자금을 받나요?",
    "Manufacturing USA의 네 가지 목표는 무엇인가요?",
]
CONCURRENCY_ID = "answer"  # chat, chat API and ask API share the generator's slots
STREAM_INTERVAL_S = 0.05  # at most ~20 chat updates a second while tokens stream


@dataclass
class StreamError:
    message: str


_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def _lang(text: str) -> str:
    """Language of the UI labels around an answer before the service has decided (the
    final answer's own ``language`` is used once it arrives): Korean if the question has
    Hangul, else English. Cheap on purpose: it runs before the first update."""
    return "ko" if len(_HANGUL.findall(text or "")) >= 2 else "en"


def answer_events(
    services: Any, question: str, history: list[Turn], *, source: str, conversation_id: str | None
) -> Iterator[EvidenceEvent | TokenEvent | ResetEvent | FinalEvent | StreamError]:
    """``AnswerService.stream`` with errors turned into a final ``StreamError``."""
    try:
        yield from services.answers.stream(
            question, history, source=source, conversation_id=conversation_id
        )
    except AssistantError as exc:
        logger.warning("answer failed: %s", exc)
        yield StreamError(exc.user_message())
    except Exception:
        logger.exception("answer failed")
        yield StreamError("")


def public_citation(c: Any) -> dict:
    return {
        "n": c.n,
        "doc_id": c.doc_id,
        "page": c.page,
        "page_label": c.page_label,
        "section": c.section,
        "quote": c.quote,
        "verified": c.verified,
        "link": c.link,
        "references": [{"id": r.id, "title": r.title, "url": r.url} for r in c.references],
    }


def parse_history(history_json: str | None) -> list[Turn]:
    """``[{"role": "user"|"assistant", "content": "..."}]`` as Turns; ValueError if malformed."""
    if not history_json or not str(history_json).strip():
        return []
    try:
        data = json.loads(history_json)
    except ValueError as exc:
        raise ValueError(f"history_json is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("history_json must be a JSON list of {role, content} objects")
    try:
        return [Turn.model_validate(t) for t in data]
    except ValidationError:
        raise ValueError(
            "history_json must be a JSON list of {role, content} objects, role "
            "'user' or 'assistant'"
        ) from None


class Chat:
    """Event handlers of the chat page (bound to one Services object)."""

    def __init__(self, services: Any) -> None:
        self.services = services

    # ------------------------------------------------------------------ state helpers

    @staticmethod
    def _state(state: dict | None) -> dict:
        state = dict(state or {})
        state.setdefault("cid", uuid.uuid4().hex)
        state.setdefault("turns", [])
        state.setdefault("display", [])
        state.setdefault("sections", [])
        state.setdefault("pending", None)
        return state

    # ------------------------------------------------------------------ handlers

    def add_user(self, message: str | None, state: dict | None):
        """Show the question at once (not queued) and remember it for ``respond``."""
        state = self._state(state)
        message = "" if message is None else str(message)
        state["display"] = [
            *state["display"],
            {"role": "user", "content": render.user_markdown(message)},
        ]
        state["pending"] = message
        return state["display"], "", state, gr.update(visible=True)

    def respond(self, state: dict | None, source: str = "ui"):
        """Answer the pending question: yields (chat messages, sources panel, state)."""
        state = self._state(state)
        question = state["pending"]
        if question is None:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        display = list(state["display"])
        sections = list(state["sections"])
        idx = len(sections)
        lang = _lang(question)
        history = [Turn.model_validate(t) for t in state["turns"]]
        pending = {"role": "assistant", "content": render.pending_markdown(lang)}
        yield [*display, pending], gr.skip(), gr.skip()
        raw, last = "", 0.0
        for event in answer_events(
            self.services, question, history, source=source, conversation_id=state["cid"]
        ):
            if isinstance(event, EvidenceEvent):
                current = render.evidence_section(event.citations, idx, question, lang)
                writing = {"role": "assistant", "content": render.pending_markdown(lang, "writing")}
                yield [*display, writing], render.panel(sections, current), gr.skip()
            elif isinstance(event, TokenEvent):
                raw += event.text
                now = time.monotonic()
                if now - last >= STREAM_INTERVAL_S:
                    last = now
                    msg = {"role": "assistant", "content": render.streaming_markdown(raw, idx)}
                    yield [*display, msg], gr.skip(), gr.skip()
            elif isinstance(event, ResetEvent):
                # The draft streamed so far is being replaced: never show two attempts glued.
                raw, last = "", 0.0
                msg = {"role": "assistant", "content": render.pending_markdown(lang, "rewriting")}
                yield [*display, msg], gr.skip(), gr.skip()
            elif isinstance(event, FinalEvent):
                yield self._final(state, event.answer, question, display, sections, idx)
                return
            else:  # StreamError
                text = (
                    render.error_markdown(event.message, lang)
                    if event.message
                    else f'<div class="error">{render.esc(render.label(lang, "internal"))}</div>'
                )
                state["display"] = [*display, {"role": "assistant", "content": text}]
                state["pending"] = None
                yield state["display"], render.panel(sections), state
                return

    def _final(
        self, state: dict, ans: Answer, question: str, display: list, sections: list, idx: int
    ):
        msg = {"role": "assistant", "content": render.answer_markdown(ans, idx)}
        state["display"] = [*display, msg]
        state["pending"] = None
        input_problem = ans.refused and not ans.hits
        if not input_problem:
            ans = self._with_pending_renderings(ans)
            shown = getattr(ans, shown_field(ans))
            if any(c.renderings for c in ans.citations):
                self._log_renderings(ans)
            if any(r.status == "pending" for c in shown for r in c.renderings):
                job = {"idx": idx, "question": question, "answer": ans}
                state["to_render"] = [*(state.get("to_render") or []), job]
            state["sections"] = [*sections, render.final_section(ans, idx, question)]
            state["turns"] = [
                *state["turns"],
                {"role": "user", "content": ans.question},
                {"role": "assistant", "content": ans.answer},
            ]
        return state["display"], render.panel(state["sections"]), state

    def _with_pending_renderings(self, ans: Answer) -> Answer:
        try:
            return self.services.renderer.pending(ans)
        except Exception:  # renderings are an aid: never cost the answer
            logger.exception("renderings unavailable")
            return ans

    def render_evidence(self, state: dict | None):
        """After the answer is shown: render the cited sentences its reader cannot read
        (newest answer first), filling the source cards in one citation at a time."""
        state = self._state(state)
        jobs = list(state.get("to_render") or [])
        if not jobs:
            yield gr.skip(), gr.skip()
            return
        renderer = self.services.renderer
        while jobs:
            job = jobs[-1]
            ans = job["answer"]
            field = shown_field(ans)
            try:
                for i, c in enumerate(getattr(ans, field)):
                    if not any(r.status == "pending" for r in c.renderings):
                        continue
                    cits = list(getattr(ans, field))
                    cits[i] = renderer.fill_citation(c)
                    ans = ans.model_copy(update={field: cits})
                    job["answer"] = ans
                    self._log_renderings(
                        ans
                    )  # before the card shows it: staff see what readers see
                    state["sections"][job["idx"]] = render.final_section(
                        ans, job["idx"], job["question"]
                    )
                    yield render.panel(state["sections"]), state
            except Exception:  # an aid: drop what could not be rendered, keep the answer
                logger.exception("rendering failed")
                cits = [
                    c.model_copy(
                        update={"renderings": [r for r in c.renderings if r.status != "pending"]}
                    )
                    for c in getattr(ans, field)
                ]
                ans = ans.model_copy(update={field: cits})
                state["sections"][job["idx"]] = render.final_section(
                    ans, job["idx"], job["question"]
                )
            jobs.pop()
            state["to_render"] = jobs
        yield render.panel(state["sections"]), state

    def _log_renderings(self, ans: Answer) -> None:
        log_path = self.services.answers.log_path
        if ans.log_id and log_path is not None:
            from assistant.logs import update_renderings

            update_renderings(log_path, ans.log_id, ans.citations)

    def chat_api(self, message: str | None, state: dict | None):
        """The chat as one call (for API clients): question in, streamed chat + sources out."""
        display, _, state, _ = self.add_user(message, state)
        yield display, gr.skip(), state
        yield from self.respond(state)

    def done(self, state: dict | None):
        """After ``respond`` ended: hide the stop button; if it was stopped (cancelled)
        before its final answer, say so in the chat."""
        state = self._state(state)
        if state["pending"] is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.update(visible=False)
        lang = _lang(state["pending"])
        state["display"] = [
            *state["display"],
            {"role": "assistant", "content": render.stopped_markdown(lang)},
        ]
        state["pending"] = None
        return (state["display"], render.panel(state["sections"]), state, gr.update(visible=False))

    @staticmethod
    def new_conversation():
        return [], render.panel([]), {}, "", gr.update(visible=False)

    # ------------------------------------------------------------------ plain API

    def ask(self, question: str | None, history_json: str | None) -> Iterator[str]:
        """Streaming API: yields the latest state as JSON, ``{"type": "evidence" | "token" |
        "final" | "error", ...}``; the final one holds ``answer`` (the public answer JSON)."""
        try:
            history = parse_history(history_json)
        except ValueError as exc:
            yield json.dumps({"type": "error", "message": str(exc)}, ensure_ascii=False)
            return
        text = ""
        for event in answer_events(
            self.services,
            "" if question is None else question,
            history,
            source="api",
            conversation_id=None,
        ):
            if isinstance(event, EvidenceEvent):
                out = {
                    "type": "evidence",
                    "citations": [public_citation(c) for c in event.citations],
                    "search_text": event.search_text,
                    "retrieve_s": event.retrieve_s,
                }
            elif isinstance(event, TokenEvent):
                text += event.text
                out = {"type": "token", "text": text, "delta": event.text}
            elif isinstance(event, ResetEvent):
                text = ""
                out = {"type": "reset", "reason": event.reason}
            elif isinstance(event, FinalEvent):
                out = {
                    "type": "final",
                    "answer": event.answer.to_public_json(),
                    "related": [public_citation(c) for c in event.answer.related],
                }
            else:
                out = {"type": "error", "message": event.message or "internal error"}
            yield json.dumps(out, ensure_ascii=False)


def build_chat(services: Any) -> gr.Blocks:
    chat = Chat(services)
    with gr.Blocks(title="Manufacturing USA plan assistant") as demo:
        state = gr.State({})
        gr.Markdown(T("title"), elem_id="title")
        gr.Markdown(T("intro"), elem_id="intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label=T("chat_label"),
                    elem_id="chat",
                    height=520,
                    latex_delimiters=[],
                    buttons=["copy"],
                    feedback_options=None,
                    autoscroll=True,
                    group_consecutive_messages=False,
                )
                textbox = gr.Textbox(
                    show_label=False,
                    placeholder=T("placeholder"),
                    lines=1,
                    max_lines=6,
                    elem_id="question",
                    autofocus=True,
                    submit_btn=False,
                    container=False,
                )
                with gr.Row():
                    send = gr.Button(T("send"), variant="primary", elem_id="send", scale=2)
                    stop = gr.Button(
                        T("stop"), variant="stop", elem_id="stop", visible=False, scale=1
                    )
                    new = gr.Button(T("new"), elem_id="new-conversation", scale=1)
                gr.Examples(
                    examples=[[q] for q in EXAMPLES],
                    inputs=[textbox],
                    label=T("examples"),
                    elem_id="examples",
                )
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(
                    render.panel([]),
                    elem_id="sources",
                    js_on_load=None,
                    label=T("sources_label"),
                    show_label=True,
                    container=True,
                    padding=True,
                )
        # Hidden components of the plain streaming API (ask).
        with gr.Group(visible=False):
            api_question = gr.Textbox(label="question")
            api_history = gr.Textbox(label="history_json", value="[]")
            api_out = gr.Textbox(label="state_json")
            api_ask = gr.Button("ask")
            api_chat = gr.Button("chat")

        answer_kw = dict(concurrency_limit="default", concurrency_id=CONCURRENCY_ID)
        responds, renders = [], []
        for trigger in (textbox.submit, send.click):
            ev = trigger(
                chat.add_user,
                [textbox, state],
                [chatbot, textbox, state, stop],
                queue=False,
                api_visibility="private",
            )
            r = ev.then(
                chat.respond,
                [state],
                [chatbot, sources, state],
                api_visibility="private",
                show_progress="full",
                show_progress_on=[sources],
                **answer_kw,
            )
            d = r.then(
                chat.done,
                [state],
                [chatbot, sources, state, stop],
                queue=False,
                api_visibility="private",
            )
            renders.append(
                d.then(
                    chat.render_evidence,
                    [state],
                    [sources, state],
                    api_visibility="private",
                    show_progress="hidden",
                    **answer_kw,
                )
            )
            responds.append(r)
        # A new question stops the renderings still being made for earlier answers (they
        # resume after it: their jobs stay in the session state).
        for trigger in (textbox.submit, send.click):
            trigger(None, None, None, cancels=renders, queue=False, api_visibility="private")
        # Stop only cancels; ``done`` (run when the cancelled event completes) notes it.
        stop.click(None, None, None, cancels=responds, queue=False, api_visibility="private")
        for trigger in (new.click, chatbot.clear):
            trigger(
                chat.new_conversation,
                None,
                [chatbot, sources, state, textbox, stop],
                cancels=[*responds, *renders],
                queue=False,
                api_visibility="private",
            )
        api_chat.click(
            chat.chat_api,
            [textbox, state],
            [chatbot, sources, state],
            api_name="chat",
            api_description="Chat turn: the question in; the chat messages and the "
            "sources panel (HTML) stream out. Follow-ups use the "
            "session's conversation.",
            **answer_kw,
        )
        api_ask.click(
            chat.ask,
            [api_question, api_history],
            [api_out],
            api_name="ask",
            api_description="Streaming answer: (question, history_json) in; JSON "
            "states out ({type: evidence|token|final, ...}).",
            **answer_kw,
        )
    return demo
