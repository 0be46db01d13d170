"""Markers -> citations, and verification of what each cited sentence claims.

Every answer sentence must end with [n] markers that resolve to an evidence unit; markers
that resolve to nothing are removed and counted, and a sentence left with no support is
dropped. Every number, money amount, percentage and year in a sentence must appear in one
of its cited passages after normalisation across languages (3억 700만 달러 = $307 million).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer.evidence import EvidenceUnit
from assistant.korean.glossary import glossary
from assistant.korean.numbers import unsupported_quantities
from assistant.types import Citation, Support

_CHECKED_KINDS = ("institute", "agency", "office")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_MOVE = re.compile(r"([.!?。])\s*((?:\[\d{1,2}\]\s*)+)")  # ". [1]" -> " [1]."
_SPLIT = re.compile(r"(?<=[.!?。])\s+(?=\S)")
_DOTTED_END = re.compile(r"\b(?:[A-Za-z]\.){2,}$")  # U.S.C. (a single "B." may end a sentence)
_ABBREV = re.compile(r"(?:\bU\.S\.|\bPub\.|\be\.g\.|\bi\.e\.|\bpp?\.|\bNo\.|\bDr\.|\bvs\.|\bSt\.|\b[A-Z]\.)$")


@dataclass
class AnswerSentence:
    text: str  # without markers
    markers: list[int]
    unresolved: int = 0
    unsupported_numbers: list[str] = field(default_factory=list)
    unsupported_entities: list[str] = field(default_factory=list)
    numbers_checked: int = 0
    similarity: float | None = None

    @property
    def supported(self) -> bool:
        return not self.unsupported_numbers and not self.unsupported_entities

    def render(self) -> str:
        marks = "".join(f"[{n}]" for n in self.markers)
        body = self.text.rstrip(" .。")
        end = "." if not re.search(r"[!?]$", body) else ""
        return f"{body} {marks}{end}".strip()


def split_sentences(answer: str) -> list[tuple[str, list[int]]]:
    answer = answer.strip()

    def move(m: re.Match[str]) -> str:
        if _DOTTED_END.search(answer[: m.start() + 1]):  # "U.S.C. [2] 에서": the dot is the abbreviation's
            return m.group(0)
        return " " + re.sub(r"\s+", "", m.group(2)) + m.group(1) + " "

    text = _MOVE.sub(move, answer)
    # Split after a sentence-final mark, but never inside "1.9" or after "U.S." / "p.".
    parts: list[str] = []
    start = 0
    for m in _SPLIT.finditer(text):
        before = text[start:m.start()]
        if _ABBREV.search(before):
            continue
        parts.append(before.strip())
        start = m.end()
    parts.append(text[start:].strip())
    parts = [p for p in parts if p]
    out = []
    for p in parts:
        markers = [int(x) for x in _MARKER.findall(p)]
        body = _MARKER.sub("", p).strip()
        body = re.sub(r"\s+([.!?。])", r"\1", re.sub(r"\s{2,}", " ", body))
        if body.strip(" .。"):
            out.append((body, markers))
    return out


def resolve(answer: str, units: list[EvidenceUnit]) -> tuple[list[AnswerSentence], int, int]:
    """Sentences with valid markers; returns (kept, unresolved markers, dropped sentences)."""
    valid = {u.n for u in units}
    kept: list[AnswerSentence] = []
    unresolved = dropped = 0
    for body, markers in split_sentences(answer):
        good = list(dict.fromkeys(m for m in markers if m in valid))
        unresolved += sum(1 for m in markers if m not in valid)
        if not good:
            dropped += 1
            continue
        kept.append(AnswerSentence(body, good))
    return kept, unresolved, dropped


def unit_texts(unit: EvidenceUnit) -> list[str]:
    return [unit.quote, unit.prompt_text, unit.prompt_for("en")]


def named_entities(text: str) -> set[str]:
    """Institutes, agencies, offices (AMNPO, the White House), places, countries and people a text
    names: the facts a wrong answer most often swaps."""
    from assistant.answer.slots import person_names

    gl = glossary()
    people = {f"person:{p}" for p in person_names(text)}
    countries = {f"country:{c}" for c in gl.countries_in(text)}
    return ({k for k in gl.entities_in(text) if gl.by_key[k].kind in _CHECKED_KINDS} | gl.places_in(text)
            | countries | people)


def unsupported_claims(text: str, units: list[EvidenceUnit], question: str = "") -> tuple[int, list[str], list[str]]:
    """(quantities checked, quantities missing, names missing) of a sentence vs its units.

    What the question itself states (a year, an agency) is not a claim of the answer.
    """
    sources = [t for u in units for t in unit_texts(u)] + ([question] if question else [])
    checked, missing = unsupported_quantities(text, sources)
    present = set().union(*(named_entities(t) for t in sources)) if sources else set()
    return checked, missing, sorted(named_entities(text) - present)


def holds_claims(text: str, units: list[EvidenceUnit], question: str = "") -> bool:
    """Together, the units hold every number and name the sentence states."""
    return not any(unsupported_claims(text, units, question)[1:])


def verify_claims(sentences: list[AnswerSentence], units: list[EvidenceUnit], question: str = "") -> None:
    """Numbers, named institutes/agencies/places and people of each sentence must be in its
    cited units (or the question)."""
    by_n = {u.n: u for u in units}
    for s in sentences:
        checked, missing, entities = unsupported_claims(s.text, [by_n[n] for n in s.markers], question)
        s.numbers_checked, s.unsupported_numbers, s.unsupported_entities = checked, missing, entities




def build_citations(sentences: list[AnswerSentence], units: list[EvidenceUnit], official_url: str,
                    page_offset: int | None, min_similarity: float) -> list[Citation]:
    by_n = {u.n: u for u in units}
    cited = list(dict.fromkeys(n for s in sentences for n in s.markers))
    out = []
    for n in cited:
        unit = by_n[n]
        citing = [s for s in sentences if n in s.markers]
        numbers_ok = all(s.supported for s in citing)
        similar = all(s.similarity is None or s.similarity >= min_similarity for s in citing)
        out.append(citation_for(unit, official_url, page_offset, verified=numbers_ok and similar,
                                unverified=[x for s in citing for x in
                                            (*s.unsupported_numbers, *s.unsupported_entities)]))
    return out


def citation_for(unit: EvidenceUnit, official_url: str, page_offset: int | None,
                 verified: bool = False, unverified: list[str] | None = None) -> Citation:
    hit = unit.hit
    link = None
    if hit.doc_id.startswith("plan/"):
        link = official_url
        if page_offset is not None and hit.page_start:
            link = f"{official_url}#page={hit.page_start + page_offset}"
    return Citation(
        n=unit.n, chunk_id=hit.chunk_id, doc_id=hit.doc_id, doc_title=hit.doc_title,
        page=hit.page_start, page_end=hit.page_end, page_label=hit.page_label, section=hit.section,
        quote=unit.quote, passage=hit.text, verified=verified, unverified_numbers=unverified or [],
        references=hit.references, link=link,
    )


def support_summary(sentences: list[AnswerSentence], citations: list[Citation], unresolved: int,
                    dropped: int, fallback: str | None = None) -> Support:
    verified = sum(1 for c in citations if c.verified)
    level = "none"
    if sentences:
        level = "full" if verified == len(citations) and not dropped else "partial"
    return Support(
        sentences=len(sentences) + dropped, cited_sentences=len(sentences), dropped_sentences=dropped,
        unresolved_markers=unresolved, numbers_checked=sum(s.numbers_checked for s in sentences),
        numbers_unverified=[x for s in sentences for x in (*s.unsupported_numbers, *s.unsupported_entities)],
        verified_citations=verified, total_citations=len(citations), level=level, fallback=fallback,
    )
