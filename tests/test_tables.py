import pytest

from assistant.corpus.plan import parse_plan
from assistant.paths import project_root

ROOT = project_root()


@pytest.fixture(scope="module")
def plan():
    return parse_plan(ROOT / "corpus/plan/nist-ams-600-15.ko.txt", ROOT / "corpus/plan/outline.yaml")


def test_17_institutes_with_corrected_fields(plan):
    rows = {r.acronym: r for r in plan.institutes}
    assert len(rows) == 17
    assert rows["LIFT"].hq_en == "Detroit, Michigan" and rows["LIFT"].established == "2014-02"
    assert rows["IACMI"].established_en == "June 2015" and rows["IACMI"].agency == "DOE"  # 준, 암사슴
    assert rows["NIIMBL"].agency == "DOC" and rows["NIIMBL"].agency_ko == "의사"
    assert rows["RAPID"].name_ko.startswith("빠른") and rows["RAPID"].hq_en == "New York, New York"
    assert rows["AIM Photonics"].hq_ko == "로체스터, 뉴욕; 올버니, 뉴욕"
    assert rows["EPIXC"].established == "2023-05" and rows["CyManII"].established == "2020-09"
    assert sum(r.agency == "DoD" for r in rows.values()) == 9
    assert sum(r.agency == "DOE" for r in rows.values()) == 7
    assert [r.page for r in plan.institutes].count(5) == 11


def test_table_row_passages_are_clean_records(plan):
    row = next(p for p in plan.passages if p.kind == "table_row" and "LIFT" in p.entities)
    assert "Headquarters: Detroit, Michigan" in row.text and "미시간주 디트로이트" in row.text
    assert row.section_path[-1] == "LIFT"


def test_goals_table(plan):
    assert len(plan.goals) == 4
    assert [len(g.objectives) for g in plan.goals] == [4, 3, 3, 3]
    assert plan.goals[2].objectives[1].number == "3.2"
    assert plan.goals[0].outcome_ko.startswith("다양한 제조 생태계")
