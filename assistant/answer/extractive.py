"""The extractive generator: no LLM, the answer is composed from the best-supported units.

Instant, and the fallback when no LLM is available or a generated sentence fails
verification. Korean questions get the Korean sentence itself (MT artifacts replaced by
the real names); English questions get the English fields of a Table 1/Table 2 record, or
else the Korean sentence quoted with its amounts in English, marked as a quotation.
"""

from __future__ import annotations

import re

from assistant.answer.evidence import EvidenceUnit
from assistant.answer.slots import holds_asked_quantity
from assistant.korean.glossary import glossary

_FIELD = re.compile(r"\((Technology focus|Sponsoring agency|Headquarters|Established): ([^()]*(?:\([^()]*\)[^()]*)*)\)")
_NAME = re.compile(r"표 1 연구소: (.+?) \((.+?); MT:")
_GOAL = re.compile(r"\((Goal \d: [^)]*)\)")


def english_record(unit: EvidenceUnit) -> str | None:
    """English rendering of a Table 1 row or Table 2 goal, from its English field values."""
    text = unit.quote
    if unit.hit.kind == "table_row" and (m := _NAME.search(text)):
        fields = {k: re.sub(r";\s*MT:.*$", "", v).strip().rstrip(";") for k, v in _FIELD.findall(text)}
        parts = [f"{label.lower()}: {fields[label]}" for label in
                 ("Headquarters", "Established", "Sponsoring agency", "Technology focus") if label in fields]
        return f"{m.group(2)} — {'; '.join(parts)} [{unit.n}]."
    if unit.hit.kind == "goal" and (g := _GOAL.search(text)):
        objectives = re.findall(r"\((Objective \d\.\d: [^)]*)\)", text)
        return f"{g.group(1)}. Objectives: {'; '.join(objectives)} [{unit.n}]."
    return None


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


# Questions about a Table 1 field: the institute's row answers them, not a sentence that
# merely mentions the institute near a place name or a year.
_TABLE_FIELD = re.compile(r"headquarter|located|based|where is|founded|established|sponsor|agency|focus|"
                          r"본사|위치|어디|설립|후원|기관|중점", re.I)


def _answers_question(unit: EvidenceUnit, question: str) -> bool:
    if unit.hit.kind == "table_row" and _TABLE_FIELD.search(question):
        return True
    return holds_asked_quantity(question, unit.quote)


def compose(units: list[EvidenceUnit], lang: str, max_sentences: int = 2, question: str = "") -> str:
    """The top unit, plus the next one when it scores almost as well and adds a passage.
    A unit that holds what the question asks for (its Table 1 field, an amount, a year)
    goes first; the rest keep their evidence order."""
    if not units:
        return ""
    if question:
        units = sorted(units, key=lambda u: not _answers_question(u, question))
    chosen = [units[0]]
    for u in units[1:]:
        if len(chosen) >= max_sentences:
            break
        if u.hit.chunk_id != units[0].hit.chunk_id and u.score >= units[0].score - 0.03:
            chosen.append(u)
    return " ".join(render_unit(u, lang) for u in chosen)
