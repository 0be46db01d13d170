"""Question -> :class:`RecordQuery`: a typed query over the plan's records (fields, filters,
aggregate), parsed from the frame with the vocabulary of ``corpus/lexicon/records.yaml``, the
glossary (institutes, agencies, places) and the records themselves (technology words).

The rules say how sure they are: ``sure`` when every content word of the question is explained
(a field, an action, a value, a neutral word), ``unsure`` when a record question also holds
words the rules cannot place ("Which institutes work with the Army?"), ``none`` when nothing
points at the records. An unsure parse may be handed to the LLM (:mod:`.llm_parse`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from assistant.answer.frame import QuestionFrame
from assistant.knowledge.data import load_yaml
from assistant.knowledge.glossary import glossary
from assistant.knowledge.lexicon import lexicon, without_self_description
from assistant.knowledge.records import records
from assistant.korean.tokens import nouns, tokenize
from assistant.numbers import find_quantities

Table = Literal["institutes", "goals", "objectives", "agencies"]
Action = Literal["list", "count", "lookup", "first", "last", "most", "goal_of"]
FieldName = Literal["hq", "agency", "established", "focus", "name", "outcome"]
FIELDS: tuple[str, ...] = ("hq", "agency", "established", "focus", "name")
SPONSORS = ("DoD", "DOE", "DOC")
# The plan's source of each table: goals and objectives are the two levels of one table.
SOURCE: dict[str, str] = {
    "institutes": "Table 1",
    "goals": "Table 2",
    "objectives": "Table 2",
    "agencies": "Figure 1",
}


class YearFilter(BaseModel):
    op: Literal["eq", "before", "after", "between", "in"]
    year: int
    inclusive: bool = False
    year_to: int | None = Field(None, description="Last year of a 'between' range (inclusive).")
    years: list[int] = Field(default_factory=list, description="The years of an 'in' set.")
    month: int | None = Field(
        None, description="Month of a before/after date (an institute's founding: 'after LIFT')."
    )
    anchor: str | None = Field(None, description="The institute whose founding date this is.")


class RecordQuery(BaseModel):
    """What to look up in which records. Filters are ANDed."""

    table: Table
    action: Action
    fields: list[FieldName] = Field(default_factory=list, description="Asked fields (lookups).")
    institutes: list[str] = Field(
        default_factory=list, description="Named (or described) institutes."
    )
    agency: str | None = None
    not_agency: str | None = Field(None, description="Institutes of every sponsor but this one.")
    states: list[str] = Field(default_factory=list)
    not_states: list[str] = Field(
        default_factory=list, description="States the institutes are not headquartered in."
    )
    cities: list[str] = Field(default_factory=list)
    year: YearFilter | None = None
    goal: int | None = None
    objective: str | None = None
    objectives: list[str] = Field(
        default_factory=list, description="Objectives described by their title words (a tie)."
    )
    role: Literal["sponsoring", "participating"] | None = None
    by_focus: bool = Field(
        False, description="The institutes were found by their technology words."
    )
    distinct: Literal["states", "cities"] | None = Field(
        None, description="Count the distinct values of this field over the matching institutes."
    )
    with_list: bool = Field(True, description="List the matching records (a count names them too).")


@dataclass
class RecordParse:
    query: RecordQuery | None
    confidence: Literal["sure", "unsure", "none"]
    unexplained: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- vocabulary


@dataclass
class _Vocab:
    tables: dict[str, re.Pattern[str]]
    fields: dict[str, re.Pattern[str]]
    actions: dict[str, re.Pattern[str]]
    before: re.Pattern[str]
    after: re.Pattern[str]
    inclusive: re.Pattern[str]
    between: re.Pattern[str]
    ordinals: dict[int, re.Pattern[str]]
    roles: dict[str, re.Pattern[str]]
    count_targets: dict[str, re.Pattern[str]]
    excluding: re.Pattern[str]
    all_roles: re.Pattern[str]
    neutral: frozenset[str]
    spans: list[re.Pattern[str]]  # every pattern above, to mark explained words


def _rx(group: dict) -> re.Pattern[str]:
    pats = [*group.get("en", []), *group.get("ko", [])]
    return re.compile("|".join(f"(?:{p})" for p in pats) or r"(?!x)x", re.IGNORECASE)


@lru_cache(maxsize=1)
def vocab() -> _Vocab:
    data = load_yaml("lexicon/records.yaml")
    tables = {k: _rx(v) for k, v in data["tables"].items()}
    fields = {k: _rx(v) for k, v in data["fields"].items()}
    actions = {k: _rx(v) for k, v in data["actions"].items()}
    roles = {k: _rx(v) for k, v in data["roles"].items()}
    before, after, inclusive = _rx(data["before"]), _rx(data["after"]), _rx(data["inclusive"])
    between = _rx(data.get("between", {}))
    ordinals = {int(k): _rx(v) for k, v in data.get("ordinals", {}).items()}
    neutral = frozenset(
        w.lower() for lang in ("en", "ko") for w in str(data["neutral"][lang]).split()
    )
    targets = {k: _rx(v) for k, v in data.get("count_targets", {}).items()}
    excluding = _rx(data.get("excluding", {}))
    all_roles = _rx(data.get("all_roles", {}))
    spans = [
        *tables.values(),
        *fields.values(),
        *actions.values(),
        *roles.values(),
        *targets.values(),
        before,
        after,
        excluding,
        all_roles,
        between,
        *ordinals.values(),
    ]
    return _Vocab(
        tables,
        fields,
        actions,
        before,
        after,
        inclusive,
        between,
        ordinals,
        roles,
        targets,
        excluding,
        all_roles,
        neutral,
        spans,
    )


_GENERIC = frozenset(
    """manufacturing institute innovation innovations america american national advanced
technologies technology products product processes process design tomorrow integrated energy clean smart
for and the of in 제조 연구소 혁신 미국 기술 국립 첨단 고급 제품 프로세스 분야 관련 국내""".split()
)


@lru_cache(maxsize=1)
def focus_index() -> dict[str, frozenset[str]]:
    """Technology word -> the institutes whose focus or full name uses it (words shared by more
    than two institutes say nothing about which one is meant)."""
    index: dict[str, set[str]] = {}
    gl = glossary()
    for r in records().institutes:
        words = set(re.findall(r"[a-z]{4,}", f"{r.focus_en} {r.full_name_en}".lower()))
        words |= {
            t for t in tokenize(gl.fix_artifacts(f"{r.focus_ko_mt} {r.name_ko_mt}")) if len(t) >= 2
        }
        for w in words - _GENERIC:
            index.setdefault(w, set()).add(r.acronym)
    return {w: frozenset(s) for w, s in index.items() if len(s) <= 2}


def _focus_matches(text: str) -> tuple[list[str], list[str]]:
    """Institutes a question describes by technology ("the photonics institute"), and the words."""
    index = focus_index()
    words = set(re.findall(r"[a-z]{4,}", text.lower())) | {t for t in tokenize(text) if len(t) >= 2}
    hits: dict[str, int] = {}
    used = []
    for w in words - _GENERIC - vocab().neutral:
        keys = [
            k for k in index if k == w or (len(w) >= 5 and (k.startswith(w) or w.startswith(k)))
        ]
        for k in keys:
            used.append(w)
            for acr in index[k]:
                hits[acr] = hits.get(acr, 0) + 1
    if not hits:
        return [], []
    top = max(hits.values())
    return sorted(a for a, n in hits.items() if n == top), sorted(set(used))


def _title_words(text: str) -> set[str]:
    """Words a goal or objective title is recognised by: English words of 4+ letters and Korean
    tokens of 2+ syllables, glossary artifacts fixed."""
    latin = set(re.findall(r"[a-z]{4,}", text.lower()))
    return latin | {t for t in tokenize(glossary().fix_artifacts(text)) if len(t) >= 2}


@lru_cache(maxsize=1)
def title_index() -> dict[str, frozenset[str]]:
    """Title word -> the goals ("goal:1") and objectives ("objective:3.2") whose title uses it,
    for words of at most two titles (a word of many titles says nothing about which is meant)."""
    index: dict[str, set[str]] = {}
    for g in records().goals:
        for rec in (g, *g.objectives):
            for w in _title_words(f"{rec.title_en} {rec.title_ko_mt}") - _GENERIC:
                index.setdefault(w, set()).add(rec.id)
    return {w: frozenset(s) for w, s in index.items() if len(s) <= 2}


def _same_word(a: str, b: str) -> bool:
    """One word, inflected ("accelerating" / "accelerate"): equal, or sharing a 6-letter stem."""
    if a == b:
        return True
    n = len(os.path.commonprefix([a, b]))
    return n >= 6 or (n >= 5 and n == min(len(a), len(b)))


def _title_matches(text: str, within: set[str] | None = None) -> tuple[list[str], list[str]]:
    """Goals/objectives a question describes by the words of their title ("the objective on
    registered apprenticeships"), best first, and the words that matched. ``within``: a goal or
    objective the question names by number; every word of its own title explains itself."""
    if within:
        recs = records()
        index: dict[str, frozenset[str]] = {}
        for rid in within:
            rec = recs.by_id(rid)
            for w in _title_words(f"{rec.title_en} {rec.title_ko_mt}"):
                index[w] = index.get(w, frozenset()) | {rid}
    else:
        index = title_index()
    hits: dict[str, set[str]] = {}
    words = _title_words(text) - vocab().neutral
    for w in words if within else words - _GENERIC:
        for k, ids in index.items():
            if _same_word(w, k):
                for rid in ids:
                    if within is None or rid in within:
                        hits.setdefault(rid, set()).add(w)
    ranked = sorted(hits, key=lambda r: (-len(hits[r]), r))
    return ranked, sorted({w for ws in hits.values() for w in ws})


def _gap(m: re.Match[str], start: int, end: int) -> int:
    """Characters between a match and the span ``start:end`` (0 when they touch)."""
    return max(m.start() - end, start - m.end(), 0)


def _year_filter(text: str) -> YearFilter | None:
    """The year condition of a question: a range ("between 2016 and 2020", "2016–2020",
    "2016년부터 2020년까지"), or one year with the comparison word nearest to it ("2016년부터
    현재까지" is from 2016 on, though "까지" is a before-word too)."""
    v = vocab()
    qs = [q for q in find_quantities(text) if q.unit == "year"]
    if not qs:
        return None
    if qs[0].upper is not None:
        return YearFilter(
            op="between", year=int(qs[0].value), year_to=int(qs[0].upper), inclusive=True
        )

    def near(pattern: re.Pattern[str], q: object, within: int = 6) -> bool:
        return any(_gap(m, q.start, q.end) <= within for m in pattern.finditer(text))

    if len(qs) >= 2 and (
        v.between.search(text) or (near(v.after, qs[0]) and near(v.before, qs[1]))
    ):
        lo, hi = sorted((int(qs[0].value), int(qs[1].value)))
        return YearFilter(op="between", year=lo, year_to=hi, inclusive=True)
    y = qs[0]
    if len(qs) >= 2 and not (v.before.search(text) or v.after.search(text)):
        # "in 2014 or 2015", "2016년이랑 2017년": any of the years named
        years = sorted({int(q.value) for q in qs})
        return YearFilter(op="in", year=years[0], years=years)
    nearest: tuple[int, str] | None = None
    for op, pattern in (("before", v.before), ("after", v.after)):
        for m in pattern.finditer(text):
            gap = _gap(m, y.start, y.end)
            if nearest is None or gap < nearest[0]:
                nearest = (gap, op)
    op = nearest[1] if nearest else "eq"
    return YearFilter(
        op=op, year=int(y.value), inclusive=bool(v.inclusive.search(text)) and op != "eq"
    )


def _anchor_date(
    text: str,
    institutes: list[str],
    described: list[str],
    actions: list[str],
    tables: list[str],
    year: YearFilter | None,
) -> YearFilter | None:
    """ "Which institutes were established after the ARM Institute?", "ARM 연구소보다 나중에 설립된
    연구소들": one named institute is the date the others are compared with (to the month), not
    the subject. A year the question also gives must be that institute's own ("opened in 2017")."""
    v = vocab()
    if len(institutes) != 1 or described or not ("institutes" in tables or actions):
        return None
    befores, afters = v.before.search(text), v.after.search(text)
    if bool(befores) == bool(afters):
        return None
    spans = [(s, e) for key, s, e in glossary().entity_spans(text) if key == institutes[0]]
    word = befores or afters
    adjacent = any(_gap(word, s, e) <= 3 for s, e in spans)  # "LIFT보다 먼저", "after LIFT"
    if not adjacent and not ({"list", "count", "first", "last"} & set(actions)):
        return None
    rec = next((r for r in records().institutes if r.acronym == institutes[0]), None)
    if rec is None or (year is not None and (year.op == "between" or year.year != rec.year)):
        return None
    return YearFilter(
        op="before" if befores else "after", year=rec.year, month=rec.month, anchor=rec.acronym
    )


def _excluded(text: str, spans: list[tuple[int, int]]) -> bool:
    """ "other than the Department of Defense", "뉴욕주가 아닌": a name left out, not asked for."""
    v = vocab()
    return any(
        v.excluding.search(text[max(0, s - 24) : s] + " " + text[e : e + 8]) for s, e in spans
    )


def _excluded_agency(text: str, agency: str) -> bool:
    return _excluded(text, [(s, e) for key, s, e in glossary().entity_spans(text) if key == agency])


def _excluded_states(text: str, states: list[str]) -> list[str]:
    out = []
    for place in glossary().place_matches(text, fuzzy=False):
        if place.en in states:
            spans = [
                m.span()
                for form in (place.en, *place.ko)
                for m in re.finditer(re.escape(form), text, re.IGNORECASE)
            ]
            if _excluded(text, spans):
                out.append(place.en)
    return out


def _ordinal_goal(text: str) -> int | None:
    """ "the first goal", "첫 번째 전략 목표": a goal named by its place in Table 2."""
    v = vocab()
    for n, pattern in v.ordinals.items():
        for m in pattern.finditer(text):
            if v.tables["goals"].match(text[m.end() :].lstrip()):
                return n
    return None


# ----------------------------------------------------------------------------- parse


def _content_words(text: str) -> list[str]:
    latin = [
        re.sub(r"'s$|'re$|'ve$|n't$", "", w) for w in re.findall(r"[A-Za-z][A-Za-z.'\-]*", text)
    ]
    return [w.lower().strip(".'-") for w in latin] + nouns(re.sub(r"[A-Za-z]", " ", text))


def _word_span(text: str, s: int, e: int) -> tuple[int, int]:
    """A Latin match grows to its whole word ("headquarter" -> "headquartered")."""
    while s > 0 and text[s - 1].isascii() and text[s - 1].isalpha():
        s -= 1
    while e < len(text) and text[e].isascii() and text[e].isalpha():
        e += 1
    return s, e


def _explained_spans(text: str, frame: QuestionFrame) -> str:
    """The question with every explained span blanked (patterns, names, places, numbers)."""
    gl = glossary()
    out = text
    spans = [m.span() for p in vocab().spans for m in p.finditer(text)]
    spans += [(s, e) for _, s, e in gl.entity_spans(text)]
    places = gl.place_matches(text, fuzzy=True)
    for place in places:
        for form in (place.en, *place.ko):
            spans += [m.span() for m in re.finditer(re.escape(form), text, re.IGNORECASE)]
    if places and not any(
        re.search(re.escape(f), text, re.I) for p in places for f in (p.en, *p.ko)
    ):
        # a misspelt place name: blank the word closest to it
        words = list(re.finditer(r"[A-Za-z]+|[가-힣]+", text))
        from assistant.knowledge.glossary import _edits

        best = min(
            words,
            key=lambda m: min(
                _edits(m.group(0).lower(), f.lower()) for p in places for f in (p.en, *p.ko)
            ),
        )
        spans.append(best.span())
    spans += [(q.start, q.end) for q in find_quantities(text)]
    spans += [m.span() for m in re.finditer(r"\d+(?:\.\d)?", text)]
    particles = re.compile(
        r"(?:에도|에는|에서|에게|으로|이나|이요|이죠|인가요|이에요|예요|의|에|는|은|이|가|을|를|도|로|와|과)"
    )
    for s, e in spans:
        s, e = _word_span(text, s, e)
        if m := particles.match(text, e):  # "조지아주에도": the particle goes with the name
            e = m.end()
        out = out[:s] + " " * (e - s) + out[e:]
    return out


def _names_a_filter(text: str) -> bool:
    """A place, an agency or a year: a condition of a Table 1 question."""
    gl = glossary()
    agencies = {a.key for a in records().agencies}
    return bool(
        gl.place_matches(text, fuzzy=True)
        or any(k in agencies for k in gl.entities_in(text))
        or any(q.unit == "year" for q in find_quantities(text))
    )


def parse_record_query(frame: QuestionFrame, text: str | None = None) -> RecordParse:
    """Rules first: which table, which action, which fields and filters, and how sure."""
    text = text if text is not None else frame.text
    v = vocab()
    gl = glossary()
    recs = records()
    signals: list[str] = []
    names = gl.entities_in(text)
    if text == frame.text and not names:
        # "Where is it headquartered?": "it" is the institute the conversation was about.
        names = [k for k in frame.resolved if gl.by_key[k].kind == "institute"][:1]
    institutes = [k for k in names if gl.by_key.get(k) and gl.by_key[k].kind == "institute"]
    # Another organisation, programme or country named: the question is about it, not the records.
    others = [
        k
        for k in names
        if gl.by_key.get(k)
        and gl.by_key[k].kind in ("organization", "law", "office")
        or (gl.by_key.get(k) and gl.by_key[k].kind == "program" and k != "Manufacturing USA")
    ]
    if others or gl.countries_in(without_self_description(text, lexicon().both())):
        return RecordParse(None, "none", [], [f"other:{','.join(others) or 'country'}"])
    agencies = [k for k in names if k in {a.key for a in recs.agencies}]
    described, focus_words = ([], []) if institutes else _focus_matches(text)
    asked = without_self_description(text, lexicon().both())
    if described and asked != text and not _focus_matches(asked)[0] and _names_a_filter(asked):
        # "We're a sensor company. Which institutes are in California?": the technology of the
        # asker's own description is a filter only when the question itself names none.
        described = []
    places = gl.place_matches(text, fuzzy=True)
    states = sorted({p.en for p in places if p.kind == "state"})
    cities = sorted({p.en for p in places if p.kind == "city" and p.en not in states})
    years = [int(q.value) for q in find_quantities(text) if q.unit == "year" and q.upper is None]
    goal_m = re.search(r"(?:\bgoal|목표)\s*(\d)(?!\.?\d)", text, re.I)
    obj_m = re.search(r"(?<![\d.])([1-4]\.[1-4])(?![\d])", text)
    goal_no = int(goal_m.group(1)) if goal_m else None
    if goal_no is None and not obj_m:
        goal_no = _ordinal_goal(text)
    obj_no = obj_m.group(1) if obj_m else None
    tables = [t for t, p in v.tables.items() if p.search(text)]
    fields = [f for f, p in v.fields.items() if p.search(text)]
    actions = [a for a, p in v.actions.items() if p.search(text)]
    roles, excluded = [], []
    for r, p in v.roles.items():
        for m in p.finditer(text):
            near = text[max(0, m.start() - 14) : m.start()] + " " + text[m.end() : m.end() + 8]
            if not v.excluding.search(near):
                roles.append(r)
                break
            excluded.append(r)
    if not roles and len(set(excluded)) == 1:  # "agencies that do not sponsor": the other role
        roles = [r for r in v.roles if r not in excluded][:1]
    if v.all_roles.search(text):
        roles = []
    target = next((t for t, p in v.count_targets.items() if p.search(text)), None)
    signals += (
        [f"table:{t}" for t in tables]
        + [f"field:{f}" for f in fields]
        + [f"action:{a}" for a in actions]
    )

    # A goal or objective named by number may be followed by its own title ("Goal 3
    # (accelerating ... workforce development)"); one described by its title words alone is
    # that record when exactly one title matches best with two or more words.
    named_titles = set()
    if goal_no and recs.by_id(f"goal:{goal_no}") is not None:
        named_titles.add(f"goal:{goal_no}")
    if obj_no and recs.by_id(f"objective:{obj_no}") is not None:
        named_titles.add(f"objective:{obj_no}")
    _, title_words = _title_matches(text, named_titles) if named_titles else ([], [])
    described_title, described_objectives = None, []
    if not named_titles and not goal_no and ("goals" in tables or "objectives" in tables):
        ranked, words = _title_matches(text)
        if ranked:
            top = _title_matches(text, {ranked[0]})[1]
            tied = [r for r in ranked if len(_title_matches(text, {r})[1]) == len(top)]
            if len(top) >= 2 and len(tied) == 1:
                described_title, title_words = ranked[0], top
            elif len(top) >= 2 and all(r.startswith("objective:") for r in tied):
                # "objectives that involve sharing best practices": every best match
                described_objectives = sorted(r.split(":", 1)[1] for r in tied)
                title_words = sorted({w for r in tied for w in _title_matches(text, {r})[1]})
    # The asker's words about themselves ("We're a Korean supplier", "…에서 문의드립니다") are
    # not part of the query: they need no explaining.
    unexplained_text = without_self_description(_explained_spans(text, frame), lexicon().both())
    leftover = [w for w in _content_words(unexplained_text) if w and w.lower() not in v.neutral]
    explained_titles = {w.lower() for w in title_words}
    leftover = [
        w
        for w in leftover
        if w not in focus_words
        and not w.isdigit()
        and not (w.isascii() and len(w) < 2)  # the "s" of "Defense Department's"
        and not (w.lower() in explained_titles or set(_title_words(w)) & explained_titles)
    ]
    confidence: Literal["sure", "unsure"] = "unsure" if leftover else "sure"

    def done(q: RecordQuery) -> RecordParse:
        return RecordParse(q, confidence, leftover, signals)

    # -- goals and objectives
    if described_title and described_title.startswith("objective:"):
        obj_no = described_title.split(":", 1)[1]
    elif described_title:
        goal_no = int(described_title.split(":", 1)[1])
    if described_objectives:
        return done(RecordQuery(table="objectives", action="list", objectives=described_objectives))
    if "most" in actions and "goals" in tables and "objectives" in tables and not obj_no:
        # "Which goal has the most objectives?": the goal with the longest list under it
        return done(RecordQuery(table="goals", action="most"))
    if obj_no and ("goals" in tables or "objectives" in tables or goal_no is None):
        number = obj_no
        if recs.by_id(f"objective:{number}") is not None:
            asks_goal = (
                bool(re.search(r"\bgoal\b|어느 목표|어떤 목표|속한|속하", text, re.I))
                and not fields
            )
            return done(
                RecordQuery(
                    table="objectives",
                    action="goal_of" if asks_goal else "lookup",
                    objective=number,
                )
            )
    if goal_no and ("goals" in tables or "objectives" in tables):
        n = goal_no
        if recs.by_id(f"goal:{n}") is None:
            return RecordParse(None, "none", leftover, signals)
        wants_objectives = "objectives" in tables or re.search(
            r"objective|세부|목적|하위", text, re.I
        )
        if "outcome" in fields:
            return done(RecordQuery(table="goals", action="lookup", fields=["outcome"], goal=n))
        if wants_objectives:
            return done(
                RecordQuery(
                    table="objectives", action="count" if "count" in actions else "list", goal=n
                )
            )
        return done(RecordQuery(table="goals", action="lookup", goal=n))
    if (
        ("goals" in tables or "objectives" in tables)
        and not institutes
        and not agencies
        and not states
    ):
        which = (
            "objectives"
            if "objectives" in tables and not re.search(r"\bgoals\b", text, re.I)
            else "goals"
        )
        if "count" in actions:
            return done(RecordQuery(table=which, action="count"))
        if actions or re.search(r"\bwhat (?:are|is)\b|무엇|뭐", text, re.I):
            return done(RecordQuery(table=which, action="list"))
        return RecordParse(None, "none", leftover, signals)

    # -- agencies (Figure 1)
    agency_table = (
        "agencies" in tables
        and not institutes
        and not states
        and not cities
        and not years
        and not (
            described
            and [f for f in fields if f != "agency"] + (["agency"] if "agency" in fields else [])
        )
    )
    if agency_table and "most" in actions:
        return done(RecordQuery(table="agencies", action="most"))
    if (
        agency_table
        and (roles or "count" in actions or "list" in actions)
        and not fields[:1] == ["focus"]
    ):
        if agencies and not roles and "count" not in actions and "institutes" not in tables:
            # "Which office of DOL handles workforce?": about the named agency, not the list
            # ("Which institute is run under DOC?" names the institutes table: Table 1 below)
            return RecordParse(None, "none", leftover, signals)
        if not (agencies and "institutes" in tables):
            role = roles[0] if len(roles) == 1 else None
            return done(
                RecordQuery(
                    table="agencies", action="count" if "count" in actions else "list", role=role
                )
            )

    # -- institutes (Table 1)
    sponsor = next((a for a in agencies if a in SPONSORS), None)
    not_sponsor = sponsor if sponsor and _excluded_agency(text, sponsor) else None
    if not_sponsor:
        sponsor = None
    # A written range ("2016–2020") is a condition on the founding date only when the question
    # asks about founding ("DOC's 2022-2026 strategic plan" is a plan's period).
    ranged = any(q.unit == "year" and q.upper is not None for q in find_quantities(text))
    year = _year_filter(text) if years or (ranged and "established" in fields) else None
    if anchor := _anchor_date(text, institutes, described, actions, tables, year):
        institutes, year = [], anchor
    not_states = _excluded_states(text, states)
    states = [x for x in states if x not in not_states]
    has_filter = bool(sponsor or not_sponsor or states or not_states or cities or year)
    named = institutes or described
    instituteish = bool(named or "institutes" in tables or (has_filter and (fields or actions)))
    if not instituteish:
        return RecordParse(None, "none", leftover, signals)
    if agencies and not (sponsor or not_sponsor):  # a participating agency sponsors no institute
        return RecordParse(None, "none", leftover, signals)
    field_list = [f for f in FIELDS if f in fields]
    if (
        named
        and not has_filter
        and field_list
        and not ({"count", "first", "last", "most"} & set(actions))
    ):
        if "list" in actions and described and not institutes and field_list == ["focus"]:
            field_list = ["focus"]
        return done(
            RecordQuery(
                table="institutes",
                action="lookup",
                fields=field_list,
                institutes=named,
                by_focus=bool(described and not institutes),
            )
        )
    if named and not has_filter and not field_list and described and not institutes and actions:
        # "Which institute works on photonics?" -> the described institute with its focus
        return done(
            RecordQuery(
                table="institutes",
                action="lookup",
                fields=["focus"],
                institutes=named,
                by_focus=True,
            )
        )
    if named and not (actions or has_filter):
        return RecordParse(None, "none", leftover, signals)
    if institutes and not has_filter and not ({"count", "first", "last", "most"} & set(actions)):
        return RecordParse(None, "none", leftover, signals)  # "Tell me about LIFT": prose
    if (
        not institutes
        and described
        and not ({"first", "last", "count"} & set(actions))
        and not has_filter
    ):
        return RecordParse(None, "none", leftover, signals)
    base = dict(
        table="institutes",
        agency=sponsor,
        not_agency=not_sponsor,
        not_states=not_states,
        states=states,
        cities=cities,
        year=year,
        # "Which is older, LIFT or MxD?": a superlative over the institutes named
        institutes=described or (institutes if {"first", "last"} & set(actions) else []),
        by_focus=bool(described),
    )
    if "most" in actions and re.search(r"agenc|department|sponsor|기관|부처|후원", text, re.I):
        return done(RecordQuery(table="agencies", action="most"))
    if "first" in actions:
        return done(RecordQuery(action="first", fields=field_list, **base))
    if "last" in actions and not re.search(r"\blast year\b", text, re.I):
        return done(RecordQuery(action="last", fields=field_list, **base))
    if "count" in actions or target:
        return done(RecordQuery(action="count", distinct=target, **base))
    if "list" in actions or has_filter:
        if not has_filter and not described and "institutes" in tables and not actions:
            return RecordParse(None, "none", leftover, signals)
        return done(RecordQuery(action="list", fields=field_list, **base))
    return RecordParse(None, "none", leftover, signals)
