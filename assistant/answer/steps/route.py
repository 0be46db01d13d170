"""Step ``route``: does the question ask for records of the plan's tables (a lookup, a list, a
count, a superlative), for prose, or for both (a two-part question with one part of each)?

The rules parse a record query; when they are unsure (words they cannot place) their query is
read back as a plain question and compared with the asked one by the embedding model
(``reading``): close, the records answer it; near, records and prose both answer. Further off,
the LLM chooses records or prose, and a table and an action, under a grammar of the allowed values
(``query_llm``): records when it names the rules' table (goals and objectives are both Table 2);
the rules' query is the one that runs.
"""

from __future__ import annotations

from assistant.answer.frame import build_frame
from assistant.answer.records.llm_parse import llm_record_query
from assistant.answer.records.query import SOURCE, RecordQuery, parse_record_query
from assistant.answer.records.render import reading
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def run(state: AnswerState, deps: Deps) -> None:
    frame = state.frame
    assert frame is not None
    if not state.enabled("records"):
        state.note(Step.ROUTE, Code.ROUTE_PROSE, "records route switched off")
        return
    whole = parse_record_query(frame)
    parses = (
        [parse_record_query(frame, part) for part in frame.parts] if len(frame.parts) == 2 else []
    )
    # Two parts that each parse to a different record query ("How many institutes and how many
    # agencies"): both run, when the parts are sure or when an unsure whole goes to the records.
    split = (
        [p.query for p in parses]
        if parses
        and all(p.query is not None for p in parses)
        and (parses[0].query.table, parses[0].query.action)
        != (parses[1].query.table, parses[1].query.action)
        else None
    )
    if split and all(p.confidence == "sure" for p in parses):
        return _records(state, split)
    if whole.confidence == "sure":
        return _records(state, [whole.query])
    if parses:
        sure = [i for i, p in enumerate(parses) if p.confidence == "sure"]
        if len(sure) == 1 and parses[1 - sure[0]].confidence == "none":
            rest = frame.parts[1 - sure[0]]
            state.frame = build_frame(rest, frame.history, deps.settings.answer.default_lang)
            return _both(
                state,
                [parses[sure[0]].query],
                f"records: {frame.parts[sure[0]]!r}; prose: {rest!r}",
            )
    parse = whole
    if parse.confidence == "unsure" and parse.query is not None and state.enabled("reading"):
        # Words the rules could not place: does their query, read back as a question, say what
        # the question asks? Close: the records answer it; near: records and prose both.
        read_back = reading(parse.query, frame.lang)
        sim = _reading_similarity(deps, frame.text, read_back)
        cfg = deps.settings.answer
        detail = f"{sim:.2f} to {read_back!r}; unplaced: {' '.join(parse.unexplained[:6])}"
        if sim >= cfg.records_reading_sure:
            state.note(Step.ROUTE, Code.QUERY_READING, f"records: {detail}")
            return _records(state, split or [parse.query])
        if sim >= cfg.records_reading_both:
            state.note(Step.ROUTE, Code.QUERY_READING, f"both: {detail}")
            return _both(state, split or [parse.query], f"records and prose: {frame.text!r}")
        state.note(Step.ROUTE, Code.QUERY_READING, f"neither: {detail}")
    if (
        parse.confidence == "unsure"
        and state.enabled("query_llm")
        and len(parse.unexplained) <= deps.settings.answer.query_llm_max_unplaced
    ):
        gen = deps.generator(state.mode)
        if gen is not None and state.llm_calls < deps.settings.answer.max_llm_calls - 1:
            state.llm_calls += 1
            choice = llm_record_query(gen, frame, parse, deps.settings)
            # Agreement is on the plan's table: "objectives of goal 2" named as table goals is
            # still Table 2 (the grammar offers its two levels as two values).
            agrees = choice.table is None or (
                parse.query is not None and SOURCE[choice.table] == SOURCE[parse.query.table]
            )
            if choice.route == "records" and parse.query is not None and agrees:
                # The LLM chooses; the rules' query (every number and name they found) runs.
                state.record_queries = split or [parse.query]
                state.route = "records"
                llm_own = (
                    choice.query.model_dump_json(exclude_defaults=True) if choice.query else "-"
                )
                state.note(
                    Step.ROUTE,
                    Code.QUERY_LLM,
                    "records: "
                    + "; ".join(
                        q.model_dump_json(exclude_defaults=True) for q in state.record_queries
                    )
                    + f" (the LLM's own query: {llm_own})",
                )
                state.note(Step.ROUTE, Code.ROUTE_RECORDS)
                return
            state.note(
                Step.ROUTE,
                Code.QUERY_LLM_REJECTED,
                f"LLM chose {choice.route}"
                + (f" of table {choice.table}" if choice.route == "records" else "")
                + f"; the rules' table: {parse.query.table if parse.query else '-'}; "
                f"unplaced words: {' '.join(parse.unexplained[:6])}",
            )
    state.note(Step.ROUTE, Code.ROUTE_PROSE, f"records parse: {parse.confidence}")


def _reading_similarity(deps: Deps, question: str, read_back: str) -> float:
    vecs = deps.embedder.embed_queries([question, read_back])
    return float(vecs[0] @ vecs[1])


def _records(state: AnswerState, queries: list) -> None:
    state.record_queries = queries
    state.route = "records"
    for q in queries:
        state.note(Step.ROUTE, Code.QUERY_RULES, q.model_dump_json(exclude_defaults=True))
    state.note(Step.ROUTE, Code.ROUTE_RECORDS)


def _both(state: AnswerState, queries: list[RecordQuery], detail: str) -> None:
    """Records answer the structured part and prose the rest (``state.frame``)."""
    state.record_queries = queries
    state.route = "both"
    for q in queries:
        state.note(Step.ROUTE, Code.QUERY_RULES, q.model_dump_json(exclude_defaults=True))
    state.note(Step.ROUTE, Code.ROUTE_BOTH, detail)
