"""Tables 1 and 2 of the plan as records.

The MT flattened Table 1 into a run of short lines (name, full name, focus, agency, city,
month, year) with mangled names (암사슴 for DOE, 준 for June, 승강기 for LIFT). A small
LLM answers "where is X headquartered?" wrongly from that run, so each row becomes one
clean record. Rows are anchored on the agency cell; the name is matched through the
glossary, which also supplies the English field values.
"""

from __future__ import annotations

import re

from assistant.errors import CorpusError
from assistant.korean.glossary import (
    MONTHS_EN,
    MONTHS_KO,
    PLACES_KO_EN,
    TABLE_AGENCIES_KO,
    glossary,
    institute_facts,
)
from assistant.types import GoalRecord, InstituteRecord, ObjectiveRecord

_HEADER_CELLS = {"학회", "기술 중점 영역", "대행사", "본사 위치", "날짜", "설립."}
_MONTH = re.compile(r"^(\d{1,2}월|준)$")
_YEAR = re.compile(r"^(\d{4})년?$")

# English titles of the 4 goals and 13 objectives (our rendering of the official plan).
GOAL_TITLES_EN = {
    1: "Increase the competitiveness of U.S. manufacturing",
    2: "Facilitate the transition of innovative technologies into scalable, cost-effective, and "
       "high-performing manufacturing capabilities",
    3: "Accelerate the development of an advanced manufacturing workforce",
    4: "Foster an institute network that builds long-term support for communities",
}
OBJECTIVE_TITLES_EN = {
    "1.1": "Foster the development and maturation of technologies that reduce costs and increase "
           "the productivity of domestic manufacturing",
    "1.2": "Promote a diverse advanced manufacturing ecosystem",
    "1.3": "Establish an applied research and development innovation portfolio",
    "1.4": "Provide leadership in support of the nation's advanced manufacturing priorities",
    "2.1": "Deliver proven advanced manufacturing technologies, materials, and equipment to U.S. "
           "manufacturers",
    "2.2": "Facilitate the sharing of technical knowledge and best practices to address advanced "
           "manufacturing challenges",
    "2.3": "Encourage multi-institute collaboration to accelerate the development and adoption of "
           "manufacturing technologies",
    "3.1": "Support the development and integration of advanced manufacturing credentials and "
           "certifications to meet industry employment needs",
    "3.2": "Expand work-based learning, registered apprenticeships, industry credentials, dual "
           "enrollment, career counseling, distance learning, and other innovations in career and "
           "technical programs",
    "3.3": "Encourage careers in manufacturing and provide culturally responsive outreach and "
           "engagement to students, especially diverse and underserved populations",
    "4.1": "Encourage membership structures that promote risk sharing and investment sharing in "
           "institute activities",
    "4.2": "Support the development of institute sustainment models that ensure continuity of "
           "operations",
    "4.3": "Support cross-network collaboration and the sharing of best practices, infrastructure, "
           "and activities",
}


def _clean(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def _match_institute(name_line: str) -> str:
    gl = glossary()
    for e in gl.entities:
        if e.kind != "institute":
            continue
        forms = {e.key, *e.aliases_en, *e.ko, *e.table_only}
        if name_line in forms:
            return e.key
    raise CorpusError(f"Table 1: no glossary institute for the row name {name_line!r}")


def _place_en(hq_ko: str) -> str:
    out = hq_ko
    for ko, en in sorted(PLACES_KO_EN.items(), key=lambda kv: -len(kv[0])):
        out = out.replace(ko, en)
    return out


def _place_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z.]+", text.replace(" and ", " "))) - {"and"}


def parse_institutes_table(
    lines: list[str], first_page: int, page_of_line: list[int] | None = None
) -> list[InstituteRecord]:
    """Rows of Table 1 from its flattened lines (header and '(계속)' lines included)."""
    cells: list[tuple[int, str]] = []
    in_header = True  # the column headers follow the title on each page of the table
    for i, raw in enumerate(lines):
        line = _clean(raw)
        page = page_of_line[i] if page_of_line else first_page
        if line.startswith("표 1."):
            in_header = True
            continue
        if not line or (in_header and line in _HEADER_CELLS):
            continue
        in_header = False
        cells.append((page, line))
    records: list[InstituteRecord] = []
    row: list[tuple[int, str]] = []
    i = 0
    gl = glossary()
    while i < len(cells):
        page, cell = cells[i]
        if cell not in TABLE_AGENCIES_KO:
            row.append((page, cell))
            i += 1
            continue
        agency_ko = cell
        j = i + 1
        hq: list[str] = []
        while j < len(cells) and not _MONTH.match(cells[j][1]):
            hq.append(cells[j][1])
            j += 1
        if j + 1 >= len(cells) or not (year := _YEAR.match(cells[j + 1][1])):
            raise CorpusError(f"Table 1: row ending at {agency_ko!r} has no month/year cells")
        month_ko = cells[j][1]
        if not row:
            raise CorpusError(f"Table 1: agency cell {agency_ko!r} without a name")
        key = _match_institute(row[0][1])
        entity = gl.by_key[key]
        rest = " ".join(c for _, c in row[1:])
        full_forms = sorted((f for f in entity.ko if rest.startswith(f)), key=len, reverse=True)
        if not full_forms:
            raise CorpusError(f"Table 1: full name of {key} not found in {rest!r}")
        name_ko = f"{row[0][1]} {full_forms[0]}"
        focus_ko = rest[len(full_forms[0]):].strip()
        month = MONTHS_KO[month_ko]
        yr = int(year.group(1))
        facts = institute_facts(key)
        agency = TABLE_AGENCIES_KO[agency_ko]
        if entity.sponsor and entity.sponsor != agency:
            raise CorpusError(f"Table 1: {key} sponsor {agency} disagrees with the glossary")
        hq_ko = "; ".join(hq)
        # Korean writes "State City" or "City, State": compare the place names as sets.
        if _place_words(_place_en(hq_ko)) != _place_words(facts.hq_en):
            raise CorpusError(f"Table 1: {key} headquarters {hq_ko!r} != {facts.hq_en!r}")
        records.append(InstituteRecord(
            acronym=key,
            name_en=entity.name_en,
            name_ko=name_ko,
            focus_en=facts.focus_en,
            focus_ko=focus_ko,
            agency=agency,  # type: ignore[arg-type]
            agency_ko=agency_ko,
            hq_en=facts.hq_en,
            hq_ko=hq_ko,
            established=f"{yr:04d}-{month:02d}",
            established_en=f"{MONTHS_EN[month - 1]} {yr}",
            established_ko=f"{yr}년 {month}월",
            page=row[0][0],
        ))
        row = []
        i = j + 2
    if row:
        raise CorpusError(f"Table 1: trailing cells without a row end: {row!r}")
    return records


def parse_goals_table(lines: list[str], page: int) -> list[GoalRecord]:
    """Table 2: 4 goals, 13 objectives and each goal's expected outcome."""
    goals: list[GoalRecord] = []
    text = " ".join(_clean(ln) for ln in lines if _clean(ln))
    parts = re.split(r"(목표 \d(?:\.\d)?:|기대 결과:)", text)
    current: dict | None = None
    label = None
    for part in parts:
        if re.fullmatch(r"목표 \d(?:\.\d)?:|기대 결과:", part):
            label = part
            continue
        body = _clean(part)
        if label is None:
            continue
        if m := re.fullmatch(r"목표 (\d):", label):
            if current:
                goals.append(GoalRecord(**current))
            n = int(m.group(1))
            current = {"number": n, "title_ko": body, "title_en": GOAL_TITLES_EN[n],
                       "objectives": [], "page": page}
        elif m := re.fullmatch(r"목표 (\d\.\d):", label):
            if current is None:
                raise CorpusError("Table 2: objective before any goal")
            num = m.group(1)
            current["objectives"].append(
                ObjectiveRecord(number=num, title_ko=body, title_en=OBJECTIVE_TITLES_EN[num]))
        elif current is not None:
            current["outcome_ko"] = body
    if current:
        goals.append(GoalRecord(**current))
    if len(goals) != 4 or sum(len(g.objectives) for g in goals) != 13:
        raise CorpusError(
            f"Table 2: expected 4 goals and 13 objectives, found {len(goals)} and "
            f"{sum(len(g.objectives) for g in goals)}")
    return goals
