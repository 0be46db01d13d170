"""What an answer sentence claims, and whether its cited passages say it.

Hard checks (a failure makes the sentence unsupported):
* every number, amount, percentage and year stands in a cited passage (across languages:
  3억 700만 달러 = $307 million) and is attached there to the same thing: the nouns next to it
  map to a shared concept of ``corpus/lexicon/concepts.yaml`` ("2,500 member organizations" is
  not "2,500 projects");
* every institute, agency, office, place, country and person it names stands in a passage.
Soft checks (a failure makes it only partly supported):
* polarity and scope agree (a negation, a hedge such as "may" / "계획", "all" against "some");
* the sentence is close enough to the cited sentence (cross-lingual embedding similarity) and
  its content terms are found there (through the glossary for English against Korean).
The thresholds are calibrated on labelled pairs (``evals/verifier_pairs.jsonl``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from assistant.knowledge.glossary import glossary
from assistant.knowledge.lexicon import lexicon
from assistant.korean.tokens import tokenize
from assistant.numbers import Quantity, find_quantities, same_quantity

State = Literal["verified", "partial", "unsupported"]
_CHECKED_KINDS = ("institute", "agency", "office")
_NAME = re.compile(r"\b([A-Z][a-z]+)(?: [A-Z]\.)? ([A-Z][a-z]{2,})\b")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


@dataclass
class ClaimCheck:
    state: State
    reasons: list[str] = field(default_factory=list)  # number_missing, number_role, name_missing,
    # polarity, low_similarity, low_coverage
    numbers_checked: int = 0
    unsupported: list[str] = field(
        default_factory=list
    )  # the failing numbers and names, as written
    similarity: float | None = None
    coverage: float | None = None

    @property
    def hard_ok(self) -> bool:
        return self.state != "unsupported"


@dataclass(frozen=True)
class Thresholds:
    min_similarity: float
    min_coverage: float


# ----------------------------------------------------------------------------- names

_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9&]{1,}(?:/[A-Z]{2,})?(?![A-Za-z0-9])")
_LATIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z][A-Za-z0-9&'\-]{2,}")


def person_names(text: str) -> set[str]:
    """Personal names ("Jane Q. Doe"); organisation and place words are not people."""
    gl = glossary()
    org = lexicon().en.not_person_words
    pairs = (f"{a} {b}" for a, b in _NAME.findall(text) if a not in org and b not in org)
    return {p for p in pairs if not gl.countries_in(p) and not gl.places_in(p)}


def _glossary_forms() -> set[str]:
    gl = glossary()
    return {
        f.lower()
        for e in gl.entities
        for f in (e.key, *e.aliases_en, e.name_en, *e.ko)
        for f in f.split()
    }


def named_entities(text: str) -> set[str]:
    """Institutes, agencies, offices, places, countries and people a text names (the facts a
    wrong answer most often swaps), and acronyms the glossary does not know (CDER, CBER)."""
    gl = glossary()
    people = {f"person:{p}" for p in person_names(text)}
    countries = {f"country:{c}" for c in gl.countries_in(text)}
    known = {f.lower() for e in gl.entities for f in (e.key, *e.aliases_en)}
    acronyms = {
        f"acronym:{a}"
        for a in _ACRONYM.findall(text)
        if a.lower() not in known and not gl.entities_in(a)
    }
    return (
        {k for k in gl.entities_in(text) if gl.by_key[k].kind in _CHECKED_KINDS}
        | gl.places_in(text)
        | countries
        | people
        | acronyms
    )


def foreign_words(sentence: str) -> set[str]:
    """Latin words of a Korean sentence (product and company names the MT keeps in Latin:
    "LinkedIn", "Facebook"), which must stand in the passage as written."""
    if not _HANGUL.search(sentence):
        return set()
    forms = _glossary_forms()
    return {
        w
        for w in _LATIN_WORD.findall(sentence)
        if w.lower() not in forms and not _ACRONYM.fullmatch(w)
    }


# ----------------------------------------------------------------------------- number roles

_EN_STOP = re.compile(
    r"(?:and|or|that|which|who|is|are|was|were|has|have|had|with|to|from|by|as|than|since|"
    r"between|while|when|will|would|each|per|in|of|for|on|at|over|across|during|through|"
    r"into|involving|including|under|within|about)",
    re.I,
)
_CUT = re.compile(r"[()\[\];:.!?]|\s-\s|\s–\s")


def _ko_strip(word: str) -> tuple[str, bool]:
    """A Korean word without its trailing case particle, and whether it had one."""
    for p in lexicon().ko.noun_particles:
        if word.endswith(p) and len(word) > len(p):
            return word[: -len(p)], True
    return word, word in lexicon().ko.noun_particles


def _noun_phrase(text: str, start: int, end: int, korean: bool) -> list[str]:
    """The words of the noun phrase right after a number: "이상의 회원 조직" of
    "2,500개 이상의 회원 조직(…", "member organizations" of "2,500 member organizations (…"."""
    seg = text[start:end]
    cut = _CUT.search(seg)
    seg = seg[: cut.start()] if cut else seg
    out: list[str] = []
    if korean:
        fillers = set(lexicon().ko.quantity_fillers)
        for raw in seg.split()[:8]:
            word = raw.strip(",")
            if not out and (
                word in fillers
                or _ko_strip(word)[0] in fillers
                or _ko_strip(word)[1]
                and _ko_strip(word)[0] == word
            ):
                continue  # "이상의", a particle on its own
            if not _HANGUL.search(word) and not re.search(r"[A-Za-z]", word):
                break
            base, closed = _ko_strip(word)
            out.append(base)
            if closed and not raw.endswith(","):
                break  # a case particle closes the noun phrase
        return out
    for raw in seg.split()[:6]:
        word = raw.strip(",")
        if _EN_STOP.fullmatch(word):
            break
        out.append(word)
        if raw.endswith(","):
            break
    return out


def _nearest_before(text: str, start: int, end: int) -> list[str]:
    seg = text[start:end]
    cuts = list(_CUT.finditer(seg))
    if cuts:
        seg = seg[cuts[-1].end() :]
    return list(reversed(seg.split()[-2:]))


@dataclass(frozen=True)
class _Attached:
    q: Quantity
    head: frozenset[str]  # the concept of the noun the number counts (claims)
    phrase: frozenset[str]  # every concept of its noun phrase (passages: "학생, 교사 및 근로자")


def _attached(text: str) -> list[_Attached]:
    qs = find_quantities(text)
    korean = bool(_HANGUL.search(text))
    concepts = lexicon().concepts
    out = []
    for i, q in enumerate(qs):
        nxt = qs[i + 1].start if i + 1 < len(qs) else len(text)
        prev = qs[i - 1].end if i > 0 else 0
        words = _noun_phrase(text, q.end, min(nxt, q.end + 70), korean)
        per_word = [concepts.of(w) for w in words]
        with_concept = [c for c in per_word if c]
        if not with_concept:
            near = [concepts.of(w) for w in _nearest_before(text, max(prev, q.start - 50), q.start)]
            with_concept = [c for c in near if c][:1]
            head = with_concept[0] if with_concept else set()
        else:
            head = with_concept[-1]  # the head noun closes the phrase
        out.append(
            _Attached(
                q,
                frozenset(head),
                frozenset().union(*with_concept) if with_concept else frozenset(),
            )
        )
    return out


def quantity_concepts(text: str) -> list[tuple[str, set[str]]]:
    """(number as written, concept of the noun it counts) for every number of a text."""
    return [(a.q.raw, set(a.head)) for a in _attached(text)]


def _same_date(c: Quantity, p: Quantity) -> bool:
    """A claimed month (and day) must be the passage's: "August 28, 2023" is not "July 28, 2023"."""
    if c.unit != "year" or c.month is None:
        return True
    return p.month == c.month and (c.day is None or p.day is None or p.day == c.day)


def check_numbers(
    sentence: str, passages: list[str], question: str = ""
) -> tuple[int, list[str], list[str]]:
    """(quantities checked, missing, attached to another thing) of a sentence vs its passages.
    A quantity the question itself states is not a claim of the answer."""
    asked = find_quantities(question) if question else []
    claimed = [a for a in _attached(sentence) if not any(same_quantity(a.q, x) for x in asked)]
    freq_claims = lexicon().concepts.frequencies_in(sentence) - lexicon().concepts.frequencies_in(
        question
    )
    freq_found = (
        set().union(*(lexicon().concepts.frequencies_in(p) for p in passages))
        if passages
        else set()
    )
    missing_freq = sorted(freq_claims - freq_found)
    if not claimed:
        return len(freq_claims), missing_freq, []
    pool = [a for p in passages for a in _attached(p)]
    missing, wrong_role = list(missing_freq), []
    spans = lexicon().concepts.frequency_spans(sentence)
    for c in claimed:
        if any(s <= c.q.start < e for s, e in spans):
            continue  # "every two weeks": checked as a frequency
        matches = [p for p in pool if _supported(c.q, p.q, pool) and _same_date(c.q, p.q)]
        if not matches:
            missing.append(c.q.raw)
            continue
        if not c.head or c.q.unit == "year":
            continue
        if any(p.phrase & c.head for p in matches):
            continue
        if all(p.phrase for p in matches):
            wrong_role.append(c.q.raw)
    return len(claimed) + len(freq_claims), missing, wrong_role


def _supported(q: Quantity, p: Quantity, pool: list[_Attached]) -> bool:
    if q.upper is None or p.upper is not None:
        return same_quantity(q, p)
    # A range claimed by the answer needs both ends in the passages.
    from dataclasses import replace

    lo, hi = replace(q, upper=None), replace(q, value=q.upper, upper=None)
    return same_quantity(lo, p) and any(same_quantity(hi, x.q) for x in pool)


# ----------------------------------------------------------------------------- soft checks


def polarity(text: str) -> dict[str, bool]:
    """Negation, hedge (may, plans to, 계획), universal (all) and partial (some) markers."""
    lex = lexicon()["ko" if _HANGUL.search(text) else "en"]
    return {
        "negation": bool(lex.negation.search(text)),
        "hedge": bool(lex.hedge.search(text)),
        "universal": bool(lex.universal.search(text)),
        "partial": bool(lex.partial.search(text)),
    }


def polarity_conflict(sentence: str, passage: str) -> str | None:
    s, p = polarity(sentence), polarity(passage)
    if s["negation"] != p["negation"]:
        return "negation"
    if p["hedge"] and not s["hedge"]:
        return "hedge"
    if s["universal"] and p["partial"] and not p["universal"]:
        return "scope"
    return None


def content_terms(sentence: str) -> list[tuple[str, tuple[str, ...]]]:
    """(term, forms to look for in a passage) of a sentence's content words.

    English: glossary entities and places (all their forms), the domain terms of the glossary
    (their Korean words) and the concept words; Korean: the content morphemes."""
    gl = glossary()
    terms: list[tuple[str, tuple[str, ...]]] = []
    if _HANGUL.search(sentence):
        stop = lexicon().ko.stopwords
        for tok in dict.fromkeys(tokenize(sentence)):
            if len(tok) >= 2 and tok not in stop and not tok.isdigit():
                terms.append((tok, (tok,)))
        return terms
    for key in gl.entities_in(sentence):
        e = gl.by_key[key]
        terms.append((key, (e.key, *e.aliases_en, *e.ko, *e.mt_artifacts, *e.table_only)))
    for place in gl.place_matches(sentence):
        terms.append((place.en, (place.en, *place.ko)))
    stripped = sentence
    for key in gl.entities_in(sentence):
        for form in (key, *gl.by_key[key].aliases_en):
            stripped = re.sub(re.escape(form), " ", stripped, flags=re.I)
    for ko in gl.korean_terms(stripped):
        terms.append((ko, tuple(ko.split())))
    return terms


def coverage(sentence: str, passage_texts: list[str]) -> float | None:
    """Share of the sentence's content terms found in the passages (None: no checkable term)."""
    terms = content_terms(sentence)
    if not terms:
        return None
    hay = " ".join(passage_texts)
    low = hay.lower()
    found = sum(
        1
        for _, forms in terms
        if any((f.lower() in low) if f.isascii() else (f in hay) for f in forms)
    )
    return found / len(terms)


# ----------------------------------------------------------------------------- the check


def check_claim(
    sentence: str,
    passages: list[str],
    question: str,
    similarity: float | None,
    thresholds: Thresholds,
    polarity_against: str | None = None,
    lang: str | None = None,
) -> ClaimCheck:
    """Hard checks, then soft checks; ``passages`` are the cited units' texts (quote, the text
    the LLM saw, the English rendering of a table row). The question's own words are not claims.
    ``polarity_against`` is the cited sentence whose negations and hedges must agree (None: a
    record, whose fields carry none). ``lang``: the answer's language (Latin words of a Korean
    answer are names that must stand in the passage)."""
    checked, missing, wrong_role = check_numbers(sentence, passages, question)
    present = (
        set().union(*(named_entities(t) for t in [*passages, question])) if passages else set()
    )
    absent = sorted(named_entities(sentence) - present)
    hay = " ".join([*passages, question]).lower()
    if lang == "ko":
        absent += sorted(w for w in foreign_words(sentence) if w.lower() not in hay)
    reasons = []
    if missing:
        reasons.append("number_missing")
    if wrong_role:
        reasons.append("number_role")
    if absent:
        reasons.append("name_missing")
    cov = coverage(sentence, [*passages, question])
    check = ClaimCheck(
        "verified", reasons, checked, [*missing, *wrong_role, *absent], similarity, cov
    )
    if reasons:
        check.state = "unsupported"
        return check
    conflict = polarity_conflict(sentence, polarity_against) if polarity_against else None
    if conflict:
        reasons.append(f"polarity_{conflict}")
    if similarity is not None and similarity < thresholds.min_similarity:
        reasons.append("low_similarity")
    if cov is not None and cov < thresholds.min_coverage:
        reasons.append("low_coverage")
    if reasons:
        check.state = "partial"
    return check
