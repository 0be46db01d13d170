"""Step ``retrieve``: dense + Korean BM25 search with the frame's search text."""

from __future__ import annotations

import time

from assistant.answer.frame import query_for
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def run(state: AnswerState, deps: Deps) -> None:
    frame = state.frame
    assert frame is not None
    cfg = deps.settings
    state.query = query_for(frame, top_k=max(cfg.answer.context_chunks, cfg.retrieval.top_k))
    state.qvec = deps.retriever.embed_query(state.query)
    state.hits = deps.retriever.search(state.query, qvec=state.qvec)
    state.retrieve_s = time.perf_counter() - state.t0
    top = state.hits[0] if state.hits else None
    state.note(
        Step.RETRIEVE, Code.RETRIEVED, f"{len(state.hits)} hits; top {top.chunk_id if top else '-'}"
    )
