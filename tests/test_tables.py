"""Tables 1 and 2 read from the seed and checked against the reviewed records, field by field."""

import copy

import pytest

from assistant.corpus.plan import (
    Outline,
    drop_debris,
    extract_footnotes,
    paginate,
    parse_plan,
    read_lines,
)
from assistant.corpus.tables import (
    check_goals,
    check_institutes,
    parse_goals_table,
    parse_institutes_table,
)
from assistant.errors import CorpusError
from assistant.knowledge.records import records
from assistant.paths import project_root

ROOT = project_root()
SOURCE, OUTLINE = ROOT / "corpus/plan/nist-ams-600-15.ko.txt", ROOT / "corpus/plan/outline.yaml"


@pytest.fixture(scope="module")
def table_lines():
    """The lines of Tables 1 and 2 as the seed prints them (pages 5-6 and 9)."""
    outline = Outline.load(OUTLINE)
    pages = paginate(read_lines(SOURCE), outline)
    drop_debris(pages, outline)
    extract_footnotes(pages, outline)
    t1, t2 = [], []
    for page in pages:
        if page.number in (5, 6):
            start = next((i for i, ln in enumerate(page.lines) if ln.startswith("표 1.")), 0)
            t1 += [(page.number, ln) for ln in page.lines[start:]]
        if page.number == 9:
            start = next(i for i, ln in enumerate(page.lines) if ln.startswith("표 2."))
            t2 += page.lines[start:]
    return t1, t2


@pytest.fixture(scope="module")
def parsed(table_lines):
    t1, _ = table_lines
    return parse_institutes_table([ln for _, ln in t1], 5, [pg for pg, _ in t1])


def test_the_seed_has_17_rows_that_match_the_records_field_by_field(parsed):
    reviewed = records().institutes
    assert len(parsed) == len(reviewed) == 17
    check_institutes(parsed, reviewed)  # raises on any difference
    for p, r in zip(parsed, reviewed, strict=True):
        assert (
            p.acronym,
            p.name_ko_mt,
            p.focus_ko_mt,
            p.agency,
            p.agency_ko_mt,
            p.hq_ko_mt,
            p.established,
            p.page,
        ) == (
            r.acronym,
            r.name_ko_mt,
            r.focus_ko_mt,
            r.agency,
            r.agency_ko_mt,
            r.hq_ko_mt,
            r.established,
            r.page,
        )
        assert p.places_en == {x for loc in r.locations for x in (loc.city, loc.state)}


def test_mt_artifacts_are_read_right(parsed):
    rows = {r.acronym: r for r in parsed}
    assert rows["IACMI"].established == "2015-06" and rows["IACMI"].agency == "DOE"  # 준, 암사슴
    assert rows["NIIMBL"].agency == "DOC" and rows["NIIMBL"].agency_ko_mt == "의사"
    assert rows["RAPID"].name_ko_mt.startswith("빠른") and rows["LIFT"].name_ko_mt.startswith(
        "승강기"
    )
    assert rows["AIM Photonics"].places_en == {"Rochester", "Albany", "New York"}
    assert (
        sum(r.agency == "DoD" for r in parsed) == 9 and sum(r.agency == "DOE" for r in parsed) == 7
    )
    assert [r.page for r in parsed].count(5) == 11


@pytest.mark.parametrize(
    ("field", "value"),
    [("established", "2014-03"), ("agency", "DOE"), ("hq_ko_mt", "미시간주 랜싱"), ("page", 6)],
)
def test_a_wrong_record_field_fails_the_build(parsed, field, value):
    reviewed = copy.deepcopy(records().institutes)
    lift = next(r for r in reviewed if r.acronym == "LIFT")
    setattr(lift, field, value)
    with pytest.raises(CorpusError, match="LIFT"):
        check_institutes(parsed, reviewed)


def test_goals_table_matches_the_records(table_lines):
    _, t2 = table_lines
    goals = parse_goals_table(t2)
    assert [len(g.objectives) for g in goals] == [4, 3, 3, 3]
    assert goals[2].objectives[1][0] == "3.2" and goals[0].outcome_ko_mt.startswith(
        "다양한 제조 생태계"
    )
    check_goals(goals, records().goals, 9)
    wrong = copy.deepcopy(records().goals)
    wrong[1].objectives[0].title_ko_mt = "다른 목표"
    with pytest.raises(CorpusError):
        check_goals(goals, wrong, 9)


def test_table_row_passages_render_the_records():
    plan = parse_plan(SOURCE, OUTLINE)
    row = next(p for p in plan.passages if p.kind == "table_row" and p.record == "institute:LIFT")
    assert "Headquarters: Detroit, Michigan" in row.text and "미시간주 디트로이트" in row.text
    assert row.section_path[-1] == "LIFT" and row.page_start == 5
    goal = next(p for p in plan.passages if p.kind == "goal" and p.record == "goal:2")
    assert "Objective 2.3" in goal.text and goal.page_start == 9
    assert plan.records.institutes == records().institutes
