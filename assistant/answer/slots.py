"""Does the evidence contain the kind of fact the question asks for?

Unanswerable questions about this plan are near misses ("What is MxD's membership fee?",
"BioMADE's budget for fiscal year 2025?"): retrieval finds the right institute with a high
score, so scores cannot tell them apart. Two generic checks can:
* constraints the question states (a year, an amount) must appear in the evidence;
* the slot it asks for (an amount, a count, a date, a percentage) must be present in the
  top passages.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from assistant.answer.evidence import EvidenceUnit
from assistant.korean.glossary import glossary
from assistant.korean.numbers import find_quantities, same_quantity

_SLOTS: list[tuple[str, re.Pattern[str]]] = [
    ("person", re.compile(r"\bwho\b.*\b(director|ceo|chair|president|head|secretary|leader|administrator)\b|"
                          r"(원장|CEO|대표|회장|국장|장관|소장|이사장|의장).*누구|누구.*(원장|CEO|대표|회장|국장|장관|소장)",
                          re.I)),
    ("percent", re.compile(r"\bpercent|\bpercentage|\bshare of\b|%|비율|퍼센트|몇\s*%", re.I)),
    ("money", re.compile(r"\bhow much\b|\bfee\b|\bfees\b|\bbudget|\bcost\b|\bcosts\b|\brevenue|\bdollars?\b|"
                         r"\bfunding amount|얼마|예산|비용|회비|가입비|수익|매출|금액|달러", re.I)),
    ("count", re.compile(r"\bhow many\b|(?<!report )\bnumber of\b|몇\s*(개|명|곳|가지|번|차례)|(?<![가-힣])몇\s*개국", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat year\b|\bwhich year\b|\bwhat date\b|언제|몇\s*년|몇\s*월|연도", re.I)),
]
_UNITS = {"money": ("usd", "eur"), "percent": ("percent", "fraction"), "count": ("count", None, "ratio"),
          "date": ("year",)}


# "How often", "by how much did it grow": any quantity or none may answer these.
_OPEN = re.compile(r"how often|얼마나\s*자주|얼마나\s*(늘|증가|줄|감소|커|많)|\bby how much\b|increase|grow", re.I)


# Capitalised words that start organisation or program names, not personal names.
_ORG_WORDS = frozenset("""Advanced Manufacturing National Institute Institutes Office Program Programs Department
Energy Defense Commerce Science Technology Innovation Research Development Council Network Plan Report Strategy
House Foundation States America American USA United Act Administration Agency Center Centers Partnership
Extension Standards Commission Committee Security Clean Smart Digital Additive Lightweight Regenerative Robotics
Advancement Process Embodied Electrified Industry Carbon Cybersecurity Bioindustrial Design Ecosystem Flexible
Hybrid Electronics Functional Fabrics Integrated Photonics Power Next Generation Composites Biopharmaceuticals
Community College University California State Northridge Angeles Berkeley Camino Defense Rescue Family Literacy
Career Technical Education Perkins Adult Economic Emerging Critical Microelectronics Made China Fraunhofer Annual
Federal Interagency Working Team Leadership Summit White Manufacturing Readiness Level Levels Small Business
Transfer Good Practice Life Sciences Artemis Biosystems Repligen Corporation Software Government Solutions Wind
Renewable Research Massachusetts Medical School Johns Hopkins Rensselaer Polytechnic Ricardo Michigan Army
Humvee Emmy Award Rethinking Garcia Brunner Gerskovic Stewart""".split())
_NAME = re.compile(r"\b([A-Z][a-z]+)(?: [A-Z]\.)? ([A-Z][a-z]{2,})\b")
_KO_NAME = re.compile(r"[가-힣]{2,4} (원장|장관|국장|대표|회장|소장|의장)")


def person_names(text: str) -> set[str]:
    """Personal names ("Jane Q. Doe") in a text; organisation and place names are not people."""
    gl = glossary()
    pairs = (f"{a} {b}" for a, b in _NAME.findall(text) if a not in _ORG_WORDS and b not in _ORG_WORDS)
    return {p for p in pairs if not gl.countries_in(p) and not gl.places_in(p)}


def _has_person(text: str) -> bool:
    return bool(person_names(text) or _KO_NAME.search(text))


def asked_slots(question: str) -> list[str]:
    """Every kind of fact the question asks for, the main one first ("how many …, and when
    was it founded?" -> count, date)."""
    if _OPEN.search(question):
        return []
    return [name for name, pattern in _SLOTS if pattern.search(question)]


def asked_slot(question: str) -> str | None:
    return next(iter(asked_slots(question)), None)


def further_slot_checks(question: str) -> list[Callable[[str], bool]]:
    """For each quantity the question asks for besides the main one, a test that a text holds
    it: the evidence must carry one sentence for each part of a two-part question."""
    return [functools.partial(holds_fact, slot) for slot in asked_slots(question)[1:] if slot in _UNITS]


def holds_asked_quantity(question: str, text: str) -> bool:
    """The text holds a quantity of the kind the question asks for (an amount, a year …)."""
    return holds_fact(asked_slot(question) or "", text)


_WHERE = re.compile(r"\bwhere\b|어디에|어디서|어느\s*(도시|주)\b", re.I)


def holds_fact(kind: str, text: str) -> bool:
    """The text states a fact of this kind: a quantity slot (money, count …) or a place."""
    if kind == "place":
        return bool(glossary().places_in(text))
    return kind in _UNITS and any(q.unit in _UNITS[kind] for q in find_quantities(text))


def unanswered_part(question: str, answer: str) -> str | None:
    """The kind of fact asked for that the answer does not state: the asked quantity, or the
    place of a where-question ("언제, 어디에 설립되었나요?" answered with the date only)."""
    slot = asked_slot(question)
    if slot in _UNITS and not holds_fact(slot, answer):
        return slot
    if _WHERE.search(question) and not holds_fact("place", answer):
        return "place"
    return None


def strong_evidence(units: list[EvidenceUnit], kind: str | None, min_score: float,
                    top: int = 2) -> EvidenceUnit | None:
    """A top unit that states the kind of fact asked for and scores at least min_score: the
    plan answers the question there even if a generator said it does not."""
    if kind is None:
        return None
    return next((u for u in units[:top] if u.score >= min_score and holds_fact(kind, u.quote)), None)


_ABOUT_DOCUMENTS = re.compile(r"report|published|released|announc|issued|document|보고서|발간|발표|공지|문서|출처",
                              re.I)


def asks_about_documents(question: str) -> bool:
    """Dates and titles of cited reports live in footnotes: show them to the generator."""
    return asked_slot(question) == "date" or bool(_ABOUT_DOCUMENTS.search(question))


def missing_facts(question: str, units: list[EvidenceUnit], top: int = 4) -> str | None:
    """Why the top evidence cannot answer the question, or None when it may."""
    if not units:
        return "no evidence"
    # A cited report's date (added for questions about documents) dates the report, not
    # the event a "when" question asks about.
    texts = [t for u in units[:top] for t in (u.quote, u.own_text)]
    if _ABOUT_DOCUMENTS.search(question):
        texts += [u.prompt_text for u in units[:top]]
    found = [q for t in texts for q in find_quantities(t)]
    for q in find_quantities(question):
        if q.unit in ("year", "usd", "eur", "percent") and not any(same_quantity(q, f) for f in found):
            return f"the question's {q.raw!r} is not in the evidence"
    gl = glossary()
    named = set().union(*(gl.countries_in(t) for t in texts))
    if absent := sorted(gl.countries_in(question) - named):
        return f"the evidence does not mention {absent[0]}"
    slot = asked_slot(question)
    if slot == "person":
        if not any(_has_person(t) for t in texts):
            return "the evidence names no person for the question"
        return None
    if slot and not any(f.unit in _UNITS[slot] for f in found):
        return f"the evidence has no {slot} for the question"
    return None
