"""What a sentence claims, checked against what its cited passage says."""

import pytest

from assistant.answer.claims import (
    Thresholds,
    check_claim,
    check_numbers,
    coverage,
    named_entities,
    polarity_conflict,
    quantity_concepts,
)

FY22 = (
    "2022 회계연도에 Manufacturing USA 연구소는 2,500개 이상의 회원 조직(63%가 제조업체)과 공동으로 협력하여 "
    "700개 이상의 주요 기술 및 인력 적용 R&D 프로젝트에서 협력했습니다."
)
FREE = Thresholds(-1.0, 0.0)


def test_the_noun_a_number_counts():
    concepts = dict(quantity_concepts(FY22))
    assert "organization" in concepts["2,500개"] and concepts["700개"] == {"project"}
    assert dict(quantity_concepts("They worked with 2,500 member organizations on 700 projects."))[
        "700"
    ] == {"project"}


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("In FY2022 the institutes worked with more than 2,500 member organizations.", True),
        ("In FY2022 the institutes worked on more than 700 projects.", True),
        (
            "In FY2022 the institutes worked with more than 700 member organizations.",
            False,
        ),  # 700 counts projects
        ("2022 회계연도에 연구소는 2,500개 이상의 프로젝트를 수행했습니다.", False),
        ("2022 회계연도에 연구소는 2,500개 이상의 회원 조직과 협력했습니다.", True),
    ],
)
def test_a_number_must_count_the_same_thing_across_languages(sentence, ok):
    _, missing, wrong = check_numbers(sentence, [FY22])
    assert not missing
    assert (not wrong) == ok


def test_missing_numbers_months_and_frequencies():
    row = "설립: 2014년 2월 (Established: February 2014)."
    assert check_numbers("LIFT was established in February 2014.", [row])[1] == []
    assert check_numbers("LIFT was established in March 2014.", [row])[1] == ["March 2014"]
    meets = "후원 기관의 리더 팀은 격주로 만나 활동을 조정합니다."
    assert check_numbers("The leaders meet every two weeks.", [meets])[1] == []
    assert check_numbers("The leaders meet annually.", [meets])[1] == ["yearly"]
    assert (
        check_numbers("LIFT was established in 2014.", [row], "When was LIFT established in 2014?")[
            0
        ]
        == 0
    )


def test_names_the_passage_does_not_hold():
    passage = (
        "식품의약청(FDA) 생물의약품 평가 및 연구 센터와 함께 BioFabUSA는 파트너십을 구축했습니다."
    )
    assert (
        check_claim(
            "BioFabUSA built a partnership with FDA's CBER.", [passage], "", None, FREE
        ).state
        == "unsupported"
    )  # CBER is not in the passage
    assert (
        check_claim("BioFabUSA built a partnership with the FDA.", [passage], "", None, FREE).state
        == "verified"
    )
    social = "웹사이트와 소셜 미디어(LinkedIn 및 Twitter/X)를 통해 소식을 공유합니다."
    assert (
        check_claim(
            "Manufacturing USA는 Facebook으로 소식을 공유합니다.",
            [social],
            "",
            None,
            FREE,
            lang="ko",
        ).state
        == "unsupported"
    )
    assert "DOE" in named_entities("sponsored by the Department of Energy")


def test_polarity_and_scope():
    passage = "첨단 제조에는 로봇 공학, 자동화 및 경우에 따라 인공 지능 사용이 포함됩니다."
    assert polarity_conflict("첨단 제조에는 항상 인공지능 사용이 포함됩니다.", passage) == "scope"
    assert (
        polarity_conflict(
            "The program will fund new institutes.", "프로그램은 새 연구소에 자금을 지원합니다."
        )
        is None
    )
    assert (
        polarity_conflict("The institutes are funded.", "연구소는 자금을 지원받을 수 있습니다.")
        == "hedge"
    )
    check = check_claim(
        "첨단 제조에는 항상 인공지능 사용이 포함됩니다.",
        [passage],
        "",
        None,
        FREE,
        polarity_against=passage,
    )
    assert check.state == "partial" and "polarity_scope" in check.reasons


def test_coverage_through_the_glossary():
    passage = "목표 3: 고급 제조 인력 개발 가속화"
    assert coverage("Goal 3 is to accelerate workforce development.", [passage]) == 1.0
    assert coverage("Goal 3 is to expand semiconductor patents.", [passage]) < 0.5


def test_soft_thresholds_make_a_sentence_partial_never_unsupported():
    passage = "목표 3: 고급 제조 인력 개발 가속화"
    strict = Thresholds(0.9, 0.9)
    c = check_claim("Goal 3 is to expand semiconductor patents.", [passage], "", 0.5, strict)
    assert c.state == "partial" and {"low_similarity", "low_coverage"} <= set(c.reasons)
    assert (
        check_claim(
            "Goal 3 is to accelerate workforce development.", [passage], "", 0.95, strict
        ).state
        == "verified"
    )
