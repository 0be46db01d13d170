import pytest

from assistant.corpus.urls import find_urls, repair_url

CASES = [
    (
        "https://www.manufacturingusa.com/reports/national-network 제조-innovation-nnmi-program-strategic-plan,",
        "https://www.manufacturingusa.com/reports/national-network-manufacturing-innovation-nnmi-program-strategic-plan",
    ),
    (
        "https://www.whitehouse.gov/briefing-room/statements-releases/2022/10/24/readout-of-the-first-white-house-"
        "leadership-summit-with 제조-usa-innovation-institute-network -이사/",
        "https://www.whitehouse.gov/briefing-room/statements-releases/2022/10/24/readout-of-the-first-white-house-"
        "leadership-summit-with-manufacturing-usa-innovation-institute-network-directors/",
    ),
    (
        "http://uscode.house.gov/view.xhtml?req=(제목:15 섹션:278s 판: 예비)",
        "http://uscode.house.gov/view.xhtml?req=(title:15%20section:278s%20edition:prelim)",
    ),
    (
        "https://uscode.house.gov/view.xhtml?req=(제목:10%20섹션:4022%20edition:prelim)",
        "https://uscode.house.gov/view.xhtml?req=(title:10%20section:4022%20edition:prelim)",
    ),
    (
        "https://www.whitehouse.gov/briefing-room/presidential-actions/2023/07/28/executive-order-on-federal-research-"
        "and-development-in-support-of Domestic-manufacturing-and-united -상태-작업/",
        "https://www.whitehouse.gov/briefing-room/presidential-actions/2023/07/28/executive-order-on-federal-research-"
        "and-development-in-support-of-domestic-manufacturing-and-united-states-jobs/",
    ),
]


@pytest.mark.parametrize(("raw", "fixed"), CASES)
def test_repair(raw, fixed):
    assert repair_url(raw) == fixed


def test_find_urls_stops_at_next_footnote_and_keeps_percent_escapes():
    text = (
        "https://www.whitehouse.gov/x/fact-sheet-the-biden- %E2%81%A0harris-sprint-to-촉매-인력/ "
        "18 팩트 시트 https://a.gov/b.pdf 4 2021년 보고서"
    )
    urls = find_urls(text)
    assert [u.url for u in urls] == [
        "https://www.whitehouse.gov/x/fact-sheet-the-biden-%E2%81%A0harris-sprint-to-"
        "catalyze-workforce/",
        "https://a.gov/b.pdf",
    ]
    assert urls[0].repaired and not urls[1].repaired


def test_uscode_query_missing_paren():
    (u,) = find_urls(
        "성문화됨). http://uscode.house.gov/view.xhtml?req=(제목:15 섹션:278s 판: 예비 "
    )
    assert u.url.endswith("(title:15%20section:278s%20edition:prelim)")
