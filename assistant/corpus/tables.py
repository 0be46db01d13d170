"""Tables 1 and 2 of the plan, read from the machine translation and checked against the
reviewed records (corpus/records/*.yaml).

The MT flattened Table 1 into a run of short lines (name, full name, focus, agency, city,
month, year) with mangled names (암사슴 for DOE, 준 for June, 승강기 for LIFT). Rows are anchored
on the agency cell; the name is matched through the glossary. The parse yields what the seed
says (Korean cells, agency, places, date, page); the reviewed records add the English values,
and :func:`check_institutes` / :func:`check_goals` fail the build when the two disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.errors import CorpusError
from assistant.knowledge.glossary import glossary
from assistant.types import GoalRecord, InstituteRecord

_HEADER_CELLS = {"학회", "기술 중점 영역", "대행사", "본사 위치", "날짜", "설립."}
_MONTH = re.compile(r"^(\d{1,2}월|준)$")
_YEAR = re.compile(r"^(\d{4})년?$")


@dataclass
class ParsedRow:
    """One Table 1 row as the seed prints it."""

    acronym: str
    name_ko_mt: str
    focus_ko_mt: str
    agency: str
    agency_ko_mt: str
    hq_ko_mt: str
    places_en: set[str]
    established: str
    page: int


@dataclass
class ParsedGoal:
    number: int
    title_ko_mt: str
    objectives: list[tuple[str, str]] = field(default_factory=list)  # (number, title_ko_mt)
    outcome_ko_mt: str = ""


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


def parse_institutes_table(
    lines: list[str], first_page: int, page_of_line: list[int] | None = None
) -> list[ParsedRow]:
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
    gl = glossary()
    rows: list[ParsedRow] = []
    row: list[tuple[int, str]] = []
    i = 0
    while i < len(cells):
        page, cell = cells[i]
        if cell not in gl.table_agencies_ko:
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
        if not row:
            raise CorpusError(f"Table 1: agency cell {agency_ko!r} without a name")
        key = _match_institute(row[0][1])
        entity = gl.by_key[key]
        rest = " ".join(c for _, c in row[1:])
        full_forms = sorted((f for f in entity.ko if rest.startswith(f)), key=len, reverse=True)
        if not full_forms:
            raise CorpusError(f"Table 1: full name of {key} not found in {rest!r}")
        agency = gl.table_agencies_ko[agency_ko]
        if entity.sponsor and entity.sponsor != agency:
            raise CorpusError(f"Table 1: {key} sponsor {agency} disagrees with the glossary")
        hq_ko = "; ".join(hq)
        rows.append(
            ParsedRow(
                acronym=key,
                name_ko_mt=f"{row[0][1]} {full_forms[0]}",
                focus_ko_mt=rest[len(full_forms[0]) :].strip(),
                agency=agency,
                agency_ko_mt=agency_ko,
                hq_ko_mt=hq_ko,
                places_en={p.en for p in gl.place_matches(hq_ko)},
                established=f"{int(year.group(1)):04d}-{gl.months_ko[cells[j][1]]:02d}",
                page=row[0][0],
            )
        )
        row = []
        i = j + 2
    if row:
        raise CorpusError(f"Table 1: trailing cells without a row end: {row!r}")
    return rows


def check_institutes(parsed: list[ParsedRow], reviewed: list[InstituteRecord]) -> None:
    """Every reviewed Table 1 record must say what the seed's row says, field by field."""
    problems = []
    if [p.acronym for p in parsed] != [r.acronym for r in reviewed]:
        problems.append(
            f"rows {[p.acronym for p in parsed]} != records {[r.acronym for r in reviewed]}"
        )
    for p, r in zip(parsed, reviewed, strict=False):
        for name in (
            "name_ko_mt",
            "focus_ko_mt",
            "agency",
            "agency_ko_mt",
            "hq_ko_mt",
            "established",
            "page",
        ):
            if getattr(p, name) != getattr(r, name):
                problems.append(
                    f"{r.acronym}.{name}: seed {getattr(p, name)!r} != record {getattr(r, name)!r}"
                )
        places = {x for loc in r.locations for x in (loc.city, loc.state)}
        if p.places_en != places:
            problems.append(
                f"{r.acronym}.locations: seed {sorted(p.places_en)} != record {sorted(places)}"
            )
    if problems:
        raise CorpusError(
            "Table 1 records disagree with the plan text: " + "; ".join(problems),
            hint="Correct corpus/records/institutes.yaml.",
        )


def parse_goals_table(lines: list[str]) -> list[ParsedGoal]:
    """Table 2: 4 goals, 13 objectives and each goal's expected outcome."""
    goals: list[ParsedGoal] = []
    text = " ".join(_clean(ln) for ln in lines if _clean(ln))
    parts = re.split(r"(목표 \d(?:\.\d)?:|기대 결과:)", text)
    label = None
    for part in parts:
        if re.fullmatch(r"목표 \d(?:\.\d)?:|기대 결과:", part):
            label = part
            continue
        body = _clean(part)
        if label is None:
            continue
        if m := re.fullmatch(r"목표 (\d):", label):
            goals.append(ParsedGoal(int(m.group(1)), body))
        elif m := re.fullmatch(r"목표 (\d\.\d):", label):
            if not goals:
                raise CorpusError("Table 2: objective before any goal")
            goals[-1].objectives.append((m.group(1), body))
        elif goals:
            goals[-1].outcome_ko_mt = body
    if len(goals) != 4 or sum(len(g.objectives) for g in goals) != 13:
        raise CorpusError(
            f"Table 2: expected 4 goals and 13 objectives, found {len(goals)} and "
            f"{sum(len(g.objectives) for g in goals)}"
        )
    return goals


def check_goals(parsed: list[ParsedGoal], reviewed: list[GoalRecord], page: int) -> None:
    """Every reviewed Table 2 record must say what the seed says (Korean titles, outcome, page)."""
    problems = []
    for p, r in zip(parsed, reviewed, strict=False):
        if (p.number, p.title_ko_mt, p.outcome_ko_mt) != (r.number, r.title_ko_mt, r.outcome_ko_mt):
            problems.append(f"goal {r.number}")
        if p.objectives != [(o.number, o.title_ko_mt) for o in r.objectives]:
            problems.append(f"objectives of goal {r.number}")
        if r.table_page != page:
            problems.append(f"goal {r.number}.table_page")
    if len(parsed) != len(reviewed) or problems:
        raise CorpusError(
            "Table 2 records disagree with the plan text: " + ", ".join(problems),
            hint="Correct corpus/records/goals.yaml.",
        )
