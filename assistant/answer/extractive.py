"""The extractive generator: no LLM, the answer is composed from the best-supported units.

Instant, and the fallback when no LLM is available or a generated sentence fails
verification. Korean questions get the Korean sentence itself (MT artifacts replaced by
the real names); English questions get the English fields of a Table 1/Table 2 record, or
else the Korean sentence quoted with its amounts in English, marked as a quotation.
"""

from __future__ import annotations

import re

from assistant.answer.evidence import EvidenceUnit, holds_kind, says_something
from assistant.answer.frame import QuestionFrame
from assistant.knowledge.glossary import glossary
from assistant.knowledge.records import english_text


def english_record(unit: EvidenceUnit) -> str | None:
    """English rendering of a Table 1 row or Table 2 goal, from its record's English values."""
    text = english_text(unit.hit.record)
    return f"{text} [{unit.n}]." if text else None


def render_unit(unit: EvidenceUnit, lang: str) -> str:
    if lang == "en":
        record = english_record(unit)
        if record:
            return record
        if unit.hit.lang == "en":  # an added English report or statute: quote it as it is
            return f"{unit.hit.doc_title} states: “{unit.prompt_text}” [{unit.n}]."
        return f"The plan states (Korean translation): “{unit.prompt_text}” [{unit.n}]."
    if unit.hit.kind == "table_row":
        # One sentence (the record has several periods; each sentence needs its marker).
        return unit.prompt_for("ko").rstrip(".") + f" [{unit.n}]."
    text = glossary().fix_artifacts(unit.quote).rstrip()
    text = re.sub(r"[.。]$", "", text)
    return f"{text} [{unit.n}]."


def compose(
    units: list[EvidenceUnit], lang: str, frame: QuestionFrame | None = None, max_sentences: int = 2
) -> str:
    """The top unit, plus the next one when it scores almost as well and adds a passage.
    A unit that holds the kind of fact the question asks for (a place, an amount, a year …)
    goes first; the rest keep their evidence order."""
    if not units:
        return ""
    units = [u for u in units if says_something(u)] or units
    kind = frame.main_kind if frame else None
    if kind:
        units = sorted(
            units,
            key=lambda u: (
                not holds_kind(kind, u.prompt_for("en") if u.hit.kind == "table_row" else u.quote)
            ),
        )
    chosen = [units[0]]
    for u in units[1:]:
        if len(chosen) >= max_sentences:
            break
        if u.hit.chunk_id != units[0].hit.chunk_id and u.score >= units[0].score - 0.03:
            chosen.append(u)
    return " ".join(render_unit(u, lang) for u in chosen)
