"""Page map, footnotes, markers and sections of the real plan source."""

from pathlib import Path

import pytest

from assistant.corpus.plan import link_markers, parse_plan
from assistant.paths import project_root

ROOT = project_root()


@pytest.fixture(scope="module")
def plan():
    return parse_plan(
        ROOT / "corpus/plan/nist-ams-600-15.ko.txt", ROOT / "corpus/plan/outline.yaml"
    )


def _page_of(plan, needle):
    return next(p.page_start for p in plan.passages if needle in p.text)


def test_44_numbered_pages(plan):
    assert [p.number for p in plan.pages] == list(range(0, 45))


def test_pages_match_the_official_pdf(plan):
    vision = next(p for p in plan.passages if p.section_path[-1] == "Vision")
    mission = next(p for p in plan.passages if p.section_path[-1] == "Mission")
    assert vision.page_start == 7 and mission.page_start == 7
    assert next(p for p in plan.passages if p.kind == "goal").page_start == 9  # Table 2
    app_a = [
        p
        for p in plan.passages
        if p.section_path[0].startswith("Appendix A") and p.kind != "footnote"
    ]
    app_b = [p for p in plan.passages if p.section_path[0].startswith("Appendix B")]
    assert min(p.page_start for p in app_a) == 36
    assert min(p.page_start for p in app_b) == 42
    assert _page_of(plan, "3억 700만 달러를 기부했으며") == 19


def test_blog_chrome_toc_and_back_cover_are_gone(plan):
    text = "\n".join(p.text for p in plan.passages)
    for junk in (
        "반응형",
        "제이훈의 스마트 사업관리",
        "내용물",
        "N2024-0915",
        "20222110",
        "디그만큼디",
        "미국 제조 프로그램 7을 위한 전략적 계획",
    ):
        assert junk not in text


def test_footnotes_complete(plan):
    ids = [f.id for f in plan.footnotes]
    assert ids.count("fn-title") == 1
    assert [f"fn-{n}" for n in range(1, 61)] == [
        i for i in ids if i.startswith("fn-") and i != "fn-title"
    ]
    assert [f"sidebar-{n}" for n in range(1, 5)] == [i for i in ids if i.startswith("sidebar-")]
    by_id = {f.id: f for f in plan.footnotes}
    assert all(by_id[f"sidebar-{n}"].page == 27 for n in range(1, 5))
    assert by_id["fn-5"].page == 4 and "7천만 달러" in by_id["fn-5"].text
    assert len(by_id["fn-10"].urls) == 2  # footnote 10 cites two documents
    assert by_id["fn-1"].urls == [
        "https://www.nist.gov/chips/research-development-programs/chips-manufacturing-usa-institute"
    ]
    assert by_id["fn-13"].urls == [] and by_id["fn-13"].text.startswith("출처")


def test_every_numbered_footnote_has_a_body_marker(plan):
    linked = {f for p in plan.passages if p.kind != "footnote" for f in p.footnotes}
    missing = [f.id for f in plan.footnotes if f.id not in linked and f.id != "fn-title"]
    assert missing == []


def test_markers_removed_from_text_and_linked(plan):
    p = next(p for p in plan.passages if "탄력적 제조를 위한 인공지능 연구소 설립 의향서" in p.text)
    assert "의향서.2" not in p.text and {"fn-1", "fn-2"} <= set(p.footnotes)


def test_link_markers_only_takes_footnotes_of_the_page():
    text, found = link_markers("코로나19 팬데믹과 2,500개 조직이 협력했습니다.19 또한", {19})
    assert found == [19] and "코로나19" in text and "협력했습니다. 또한" in text
    assert link_markers("법안3 DOC는", set())[1] == []


def test_sections(plan):
    paths = {" > ".join(p.section_path) for p in plan.passages}
    assert any(
        x.endswith(
            "Objective 1.1: Foster the development and maturation of technologies that reduce "
            "costs and increase the productivity of domestic manufacturing"
        )
        for x in paths
    )
    sidebar = [
        p for p in plan.passages if "International takeaways (China and Germany)" in p.section_path
    ]
    assert sidebar and all(p.page_start == 27 for p in sidebar)
    fig = [p for p in plan.passages if p.kind == "figure"]
    assert len(fig) == 3
    fn54 = next(p for p in plan.passages if p.kind == "footnote" and "fn-54" in p.footnotes)
    assert fn54.section_path[:2] == [
        "Appendix A. Federal agencies participating in Manufacturing USA",
        "Department of Commerce",
    ]


def test_wrong_source_fails_clearly(tmp_path):
    from assistant.errors import CorpusError

    bad = tmp_path / "x.txt"
    bad.write_text("not the plan\n")
    with pytest.raises(CorpusError, match="title line"):
        parse_plan(bad, ROOT / "corpus/plan/outline.yaml")


def test_missing_footer_fails(tmp_path):
    import re

    from assistant.errors import CorpusError

    src = (ROOT / "corpus/plan/nist-ams-600-15.ko.txt").read_text(encoding="utf-8")
    broken = tmp_path / "plan.txt"
    broken.write_text(
        re.sub(r"미국\s제조\s프로그램\s12를\s위한\s전략적\s계획", "", src, count=1),
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match="page"):
        parse_plan(broken, ROOT / "corpus/plan/outline.yaml")
    assert Path(broken).exists()
