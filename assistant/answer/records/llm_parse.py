"""When the rules are unsure: the local LLM chooses, as JSON under a grammar that enumerates every
allowed value (never free text), whether the records answer the question and which table and
action they are. The route step checks the choice against the rules' parse (records only when the
LLM names the rules' table); the query that runs is the rules' own: asked to fill every field, the
LLM copied the example's values ("agency": "DOE" for an objectives question) and took 5.8 s p50
against 2.2 s for the three keys.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Literal

from assistant.answer.frame import QuestionFrame
from assistant.answer.records.query import RecordParse, RecordQuery
from assistant.components.llm import Generator
from assistant.settings import Settings

logger = logging.getLogger(__name__)

SYSTEM = (
    "You map a question about the Manufacturing USA institutes to a query over Table 1 (17 institutes: "
    "acronym, technology focus, sponsoring agency DoD/DOE/DOC, headquarters state, year established), "
    "Table 2 (4 goals, 13 objectives) or the 9 partner agencies. Answer with JSON only. "
    'Use "route": "prose" when the question asks anything the tables do not hold (funding, members, '
    "projects, results, people, reports, how to join, what an institute did)."
)


def _alts(values: list[str]) -> str:
    """GBNF alternatives that match the JSON strings of ``values`` (quotes included: the GBNF
    literal "records" alone would match the bare word, which no JSON parser accepts)."""
    return " | ".join(json.dumps(json.dumps(v)) for v in values)


def grammar() -> str:
    return "\n".join(
        [
            'root ::= "{" "\\"route\\": " route ", \\"table\\": " table ", \\"action\\": " action "}"',
            f"route ::= {_alts(['records', 'prose'])}",
            f"table ::= {_alts(['institutes', 'goals', 'objectives', 'agencies'])}",
            f"action ::= {_alts(['list', 'count', 'lookup', 'first', 'last', 'most'])}",
        ]
    )


EXAMPLE_Q = "Which DOE institutes were founded after 2015?"
EXAMPLE_A = '{"route": "records", "table": "institutes", "action": "list"}'


def to_query(data: dict) -> RecordQuery | None:
    """The LLM's table and action as a RecordQuery, for the trace (None: prose, or a lookup,
    which names no record without the rules)."""
    if data.get("route") != "records":
        return None
    table, action = data.get("table"), data.get("action")
    try:
        if table == "institutes":
            return None if action == "lookup" else RecordQuery(table=table, action=action)
        if table == "agencies":
            return RecordQuery(
                table=table, action=action if action in ("most", "count") else "list"
            )
        if table in ("goals", "objectives"):
            return RecordQuery(table=table, action="count" if action == "count" else "list")
    except (ValueError, TypeError) as exc:
        logger.info("record query from the LLM rejected: %s", exc)
    return None


@dataclass
class LLMChoice:
    """What the LLM chose for an unsure parse: ``records`` (the tables answer it), ``prose``,
    or ``invalid`` (no JSON); ``query`` is its own filled query, kept for the trace."""

    route: Literal["records", "prose", "invalid"]
    query: RecordQuery | None = None
    table: str | None = None


def prefix_messages() -> list[dict[str, str]]:
    """The fixed part of the prompt (warmed once; the generator keeps its snapshot)."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": EXAMPLE_Q},
        {"role": "assistant", "content": EXAMPLE_A},
    ]


def llm_record_query(
    gen: Generator, frame: QuestionFrame, parse: RecordParse, settings: Settings
) -> LLMChoice:
    messages = [*prefix_messages(), {"role": "user", "content": frame.text}]
    use_grammar = settings.llm.use_grammar and gen.supports_grammar
    raw = "".join(
        gen.stream(
            messages,
            settings.answer.query_llm_max_tokens,
            grammar() if use_grammar else None,
        )
    )
    try:
        data = json.loads(raw[raw.find("{") : raw.rfind("}") + 1])
    except ValueError:
        return LLMChoice("invalid")
    if not isinstance(data, dict) or data.get("route") not in ("records", "prose"):
        return LLMChoice("invalid")
    return LLMChoice(data["route"], to_query(data), data.get("table"))
