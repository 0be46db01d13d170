"""Tests for assistant.korean.numbers: cross-language number normalisation and checking."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.numbers import (
    Quantity,
    annotate_ko,
    find_quantities,
    format_en,
    format_ko,
    same_quantity,
    unsupported_quantities,
)


def one(text: str) -> Quantity:
    """The single quantity in ``text`` (fails if there is not exactly one)."""
    qs = find_quantities(text)
    assert len(qs) == 1, (text, qs)
    return qs[0]


# ------------------------------------------------------------------ Korean recognition

KO_MONEY = [
    ("3억 700만 달러", 307e6, "usd"),
    ("1,900만 달러", 19e6, "usd"),
    ("7천만 달러", 70e6, "usd"),
    ("5000억 달러", 500e9, "usd"),
    ("6,440억 달러", 644e9, "usd"),
    ("1억 1,400만 유로", 114e6, "eur"),
    ("30억 유로", 3e9, "eur"),
    ("14억 달러", 1.4e9, "usd"),
    ("7억 2,900만 달러", 729e6, "usd"),
    ("65억 달러", 6.5e9, "usd"),
    ("1억 900만 달러", 109e6, "usd"),
    ("8900만 달러", 89e6, "usd"),
    ("190만 달러", 1.9e6, "usd"),
    ("5천만 달러", 50e6, "usd"),
    ("5,400만 달러", 54e6, "usd"),
    ("3,000억 달러", 300e9, "usd"),
    ("2억 8,500만 달러", 285e6, "usd"),
]


@pytest.mark.parametrize(("text", "value", "unit"), KO_MONEY)
def test_korean_money(text: str, value: float, unit: str) -> None:
    q = one(f"연구소는 {text}를 받았습니다.")
    assert q.value == pytest.approx(value)
    assert q.unit == unit
    assert q.raw == text
    assert q.upper is None


def test_korean_money_range() -> None:
    q = one("연간 비용은 1,250억~1,500억 달러에 달합니다.")
    assert (q.value, q.upper, q.unit) == (125e9, 150e9, "usd")
    assert q.raw == "1,250억~1,500억 달러"
    assert q.is_range


def test_korean_money_range_lower_inherits_unit() -> None:
    q = one("1,250~1,500억 달러")
    assert (q.value, q.upper) == (125e9, 150e9)


def test_korean_money_span_and_particle() -> None:
    text = "활동에 3억 700만 달러를 기부했으며"
    q = one(text)
    assert text[q.start : q.end] == "3억 700만 달러"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2,500개", 2500),
        ("106,000명", 106000),
        ("17개", 17),
        ("9개", 9),
        ("13가지", 13),
        ("700개 이상", 700),
        ("68개 이상", 68),
        ("2,017명", 2017),
        ("7,620개", 7620),
        ("21개 센터", 21),
        ("76개", 76),
    ],
)
def test_korean_counts(text: str, value: int) -> None:
    q = one(text)
    assert (q.value, q.unit) == (value, "count")


@pytest.mark.parametrize(
    ("text", "value"), [("63%", 63), ("30%", 30), ("25% 증가", 25), ("약 86%", 86)]
)
def test_korean_percent(text: str, value: int) -> None:
    q = one(text)
    assert (q.value, q.unit) == (value, "percent")


def test_korean_years_and_dates() -> None:
    assert (one("2012년").value, one("2012년").unit) == (2012, "year")
    d = one("2023년 5월 16일, DOE는")
    assert (d.value, d.unit, d.month, d.day) == (2023, "year", 5, 16)
    assert d.raw == "2023년 5월 16일"
    fy = one("2022 회계연도에")
    assert (fy.value, fy.unit) == (2022, "year")
    span = find_quantities("2016년부터 2020년까지")
    assert [(q.value, q.unit) for q in span] == [(2016, "year"), (2020, "year")]
    table = one("오하이오주 영스타운  8월 \n2012년 MxD")
    assert (table.value, table.unit, table.month) == (2012, "year", 8)


def test_korean_duration_is_not_a_year() -> None:
    q = one("향후 5년 동안")
    assert (q.value, q.unit) == (5, "count")


@pytest.mark.parametrize(
    ("text", "value"),
    [("2.8:1 투자 매칭", 2.8), ("최소 1:1로", 1.0), ("3대 1", 3.0), ("거의 3대 1의 투자", 3.0)],
)
def test_korean_ratios(text: str, value: float) -> None:
    q = one(text)
    assert (q.value, q.unit) == (pytest.approx(value), "ratio")


def test_korean_fraction_matches_three_quarters() -> None:
    ko = one("그 중 거의 4분의 3이 중소기업")
    assert ko.value == 0.75
    for en in ("three-quarters", "three quarters of them", "3/4"):
        assert same_quantity(ko, one(en)), en
    assert same_quantity(ko, one("75%"))
    assert not same_quantity(ko, one("73%"))


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [("5~7년의 초기 자금", 5, 7), ("TRL 4-7", 4, 7), ("MRL 7-10", 7, 10), ("5-10년", 5, 10)],
)
def test_korean_ranges(text: str, lo: int, hi: int) -> None:
    q = one(text)
    assert (q.value, q.upper) == (lo, hi)
    assert q.unit in (None, "count")


def test_korean_native_numerals_with_counters() -> None:
    assert [q.value for q in find_quantities("네 가지 목표와 두 개의 연구소")] == [4, 2]
    # "세 번째" is an ordinal, not a count.
    assert find_quantities("세 번째 평가 보고서") == []


# ------------------------------------------------------------------ English recognition

EN_MONEY = [
    ("$307 million", 307e6, "usd"),
    ("$19 million", 19e6, "usd"),
    ("$70 million", 70e6, "usd"),
    ("$1.9 million", 1.9e6, "usd"),
    ("$500 billion", 500e9, "usd"),
    ("$644 billion", 644e9, "usd"),
    ("$6.5 billion", 6.5e9, "usd"),
    ("$1.4 billion", 1.4e9, "usd"),
    ("US$ 307 million", 307e6, "usd"),
    ("307 million dollars", 307e6, "usd"),
    ("$307,000,000", 307e6, "usd"),
    ("€114 million", 114e6, "eur"),
    ("114 million euros", 114e6, "eur"),
    ("EUR 3 billion", 3e9, "eur"),
    ("€3 billion", 3e9, "eur"),
]


@pytest.mark.parametrize(("text", "value", "unit"), EN_MONEY)
def test_english_money(text: str, value: float, unit: str) -> None:
    q = one(f"They received {text} in total.")
    assert q.value == pytest.approx(value)
    assert q.unit == unit
    assert q.raw == text


@pytest.mark.parametrize(
    ("text", "value", "units"),
    [
        ("2,500 members", 2500, {None, "count"}),
        ("2500", 2500, {None, "count"}),
        ("106,000 people", 106000, {None, "count"}),
        ("17 institutes", 17, {"count"}),
        ("700+ projects", 700, {"count"}),
        ("63%", 63, {"percent"}),
        ("63 percent", 63, {"percent"}),
        ("2.8:1", 2.8, {"ratio"}),
        ("1:1", 1, {"ratio"}),
        ("3-to-1", 3, {"ratio"}),
        ("a 3 to 1 match", 3, {"ratio"}),
        ("2012", 2012, {"year"}),
        ("FY2022", 2022, {"year"}),
        ("FY 2022", 2022, {"year"}),
        ("fiscal year 2022", 2022, {"year"}),
        ("seventeen institutes", 17, {"count"}),
        ("nine agencies", 9, {"count"}),
        ("two events", 2, {"count"}),
    ],
)
def test_english_numbers(text: str, value: float, units: set[str | None]) -> None:
    q = one(text)
    assert q.value == pytest.approx(value)
    assert q.unit in units


@pytest.mark.parametrize("text", ["three-quarters", "three quarters"])
def test_english_fraction_words(text: str) -> None:
    assert one(text).value == 0.75


@pytest.mark.parametrize(
    ("text", "lo", "hi", "unit"),
    [
        ("$125–150 billion", 125e9, 150e9, "usd"),
        ("$125 billion to $150 billion", 125e9, 150e9, "usd"),
        ("5–7 years", 5, 7, "count"),
        ("5-7", 5, 7, None),
        ("TRL 4–7", 4, 7, None),
        ("five to seven years", 5, 7, "count"),
    ],
)
def test_english_ranges(text: str, lo: float, hi: float, unit: str | None) -> None:
    q = one(text)
    assert (q.value, q.upper, q.unit) == (lo, hi, unit)


@pytest.mark.parametrize(
    ("text", "year", "month", "day"),
    [
        ("founded in August 2012", 2012, 8, None),
        ("since June 2015", 2015, 6, None),
        ("on May 16, 2023", 2023, 5, 16),
        ("on 16 May 2023", 2023, 5, 16),
        ("on 2023-05-16", 2023, 5, 16),
    ],
)
def test_english_dates_yield_the_year(text: str, year: int, month: int, day: int | None) -> None:
    q = one(text)
    assert (q.value, q.unit, q.month, q.day) == (year, "year", month, day)


def test_quantities_are_ordered_and_non_overlapping() -> None:
    text = "In FY 2022, 2,500 members (63% manufacturers) and $307 million, a 2.8:1 match."
    qs = find_quantities(text)
    assert [q.raw for q in qs] == ["FY 2022", "2,500", "63%", "$307 million", "2.8:1"]
    for a, b in zip(qs, qs[1:], strict=False):
        assert a.end <= b.start
    for q in qs:
        assert text[q.start : q.end] == q.raw


def test_quantity_is_frozen() -> None:
    q = one("$7 million")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.value = 1.0  # type: ignore[misc]


# ------------------------------------------------------------------ formatting


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (Quantity(307e6, "usd", "", 0, 0), "$307 million"),
        (Quantity(19e6, "usd", "", 0, 0), "$19 million"),
        (Quantity(1.9e6, "usd", "", 0, 0), "$1.9 million"),
        (Quantity(644e9, "usd", "", 0, 0), "$644 billion"),
        (Quantity(114e6, "eur", "", 0, 0), "€114 million"),
        (Quantity(2500, "count", "", 0, 0), "2,500"),
        (Quantity(63, "percent", "", 0, 0), "63%"),
        (Quantity(2.8, "ratio", "", 0, 0), "2.8:1"),
        (Quantity(2012, "year", "", 0, 0), "2012"),
        (Quantity(125e9, "usd", "", 0, 0, upper=150e9), "$125 billion–$150 billion"),
        (Quantity(5, None, "", 0, 0, upper=7), "5–7"),
    ],
)
def test_format_en(q: Quantity, expected: str) -> None:
    assert format_en(q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (Quantity(307e6, "usd", "", 0, 0), "3억 700만 달러"),
        (Quantity(70e6, "usd", "", 0, 0), "7,000만 달러"),
        (Quantity(114e6, "eur", "", 0, 0), "1억 1,400만 유로"),
        (Quantity(2500, "count", "", 0, 0), "2,500"),
        (Quantity(63, "percent", "", 0, 0), "63%"),
        (Quantity(2012, "year", "", 0, 0), "2012년"),
        (Quantity(125e9, "usd", "", 0, 0, upper=150e9), "1,250억~1,500억 달러"),
    ],
)
def test_format_ko(q: Quantity, expected: str) -> None:
    assert format_ko(q) == expected


@pytest.mark.parametrize("text", [ko for ko, _, _ in KO_MONEY] + [en for en, _, _ in EN_MONEY])
def test_format_ko_round_trips(text: str) -> None:
    q = one(text)
    assert same_quantity(one(format_ko(q)), q)
    assert same_quantity(one(format_en(q)), q)


PAIRS = [
    ("3억 700만 달러", "$307 million"),
    ("1,900만 달러", "$19 million"),
    ("7천만 달러", "$70 million"),
    ("5000억 달러", "$500 billion"),
    ("6,440억 달러", "$644 billion"),
    ("1억 1,400만 유로", "€114 million"),
    ("30억 유로", "€3 billion"),
    ("14억 달러", "$1.4 billion"),
    ("7억 2,900만 달러", "$729 million"),
    ("65억 달러", "$6.5 billion"),
    ("1억 900만 달러", "$109 million"),
    ("8900만 달러", "$89 million"),
    ("190만 달러", "$1.9 million"),
    ("5천만 달러", "$50 million"),
    ("5,400만 달러", "$54 million"),
    ("3,000억 달러", "$300 billion"),
    ("2억 8,500만 달러", "$285 million"),
    ("1,250억~1,500억 달러", "$125 billion–$150 billion"),
    ("2,500개", "2,500"),
    ("106,000명", "106,000"),
    ("63%", "63%"),
    ("2.8:1", "2.8:1"),
    ("3대 1", "3:1"),
    ("2012년", "2012"),
    ("5~7년", "5–7"),
    ("4분의 3", "3/4"),
]


@pytest.mark.parametrize(("ko", "en"), PAIRS)
def test_pairs_match_both_ways_and_format(ko: str, en: str) -> None:
    qk, qe = one(ko), one(en)
    assert same_quantity(qk, qe)
    assert same_quantity(qe, qk)
    assert format_en(qk) == en


# ------------------------------------------------------------------ annotate_ko


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3억 700만 달러를 기부했으며", "3억 700만 달러(= $307 million)를 기부했으며"),
        ("7천만 달러", "7천만 달러(= $70 million)"),
        ("1,900만 달러", "1,900만 달러(= $19 million)"),
        ("1,250억~1,500억 달러에", "1,250억~1,500억 달러(= $125 billion–$150 billion)에"),
        ("1억 1,400만 유로의", "1억 1,400만 유로(= €114 million)의"),
    ],
)
def test_annotate_ko(text: str, expected: str) -> None:
    assert annotate_ko(text) == expected


def test_annotate_ko_is_idempotent() -> None:
    text = "주 기금은 3억 700만 달러를 기부했으며, EPIXC는 최대 7천만 달러를 할당합니다."
    once = annotate_ko(text)
    assert once.count("(= ") == 2
    assert annotate_ko(once) == once


def test_annotate_ko_leaves_plain_numbers_years_percents() -> None:
    text = "2022 회계연도에 2,500개 이상의 회원 조직(63%)과 2012년부터 협력했습니다."
    assert annotate_ko(text) == text


# ------------------------------------------------------------------ same_quantity


def test_same_quantity_tolerance_and_units() -> None:
    assert same_quantity(one("$307 million"), one("3억 700만 달러"))
    assert same_quantity(one("$307.9 million"), one("3억 700만 달러"))  # within 0.5%
    assert not same_quantity(one("$300 million"), one("3억 700만 달러"))
    assert not same_quantity(one("$307 million"), one("3억 700만 유로"))
    assert not same_quantity(one("$19 million"), one("1,900만 명"))
    assert same_quantity(one("2,500개"), one("2500"))
    assert not same_quantity(one("63%"), one("63개"))
    assert not same_quantity(one("2.8:1"), one("2.8"))


def test_same_quantity_years_are_exact() -> None:
    assert same_quantity(one("2012년"), one("in 2012"))
    assert not same_quantity(one("2012년"), one("2013"))
    assert same_quantity(one("August 2012"), one("8월 \n2012년"))
    assert not same_quantity(one("2012년"), one("63%"))


def test_same_quantity_ranges() -> None:
    rng = one("1,250억~1,500억 달러")
    assert same_quantity(rng, one("$125 billion to $150 billion"))
    assert same_quantity(rng, one("$130 billion"))
    assert same_quantity(one("$130 billion"), rng)
    assert not same_quantity(rng, one("$160 billion"))
    assert not same_quantity(rng, one("$125–160 billion"))


# ------------------------------------------------------------------ unsupported_quantities


def test_unsupported_en_answer_ko_source_ok() -> None:
    sources = ["… 주, 산업 및 비핵심 연방 기금은 이러한 활동에 3억 700만 달러를 기부했으며 …"]
    assert unsupported_quantities("The institutes attracted $307 million [1].", sources) == (1, [])


def test_unsupported_catches_planted_wrong_number() -> None:
    sources = ["…최대 7천만 달러를 할당할 것입니다…"]
    assert unsupported_quantities("EPIXC will get up to $7 million [1].", sources) == (
        1,
        ["$7 million"],
    )


def test_unsupported_ko_answer_en_source_ok() -> None:
    sentence = "연구소는 2,500개 이상의 회원 조직과 협력했습니다 [1]."
    assert unsupported_quantities(sentence, ["… 2,500 member organizations …"]) == (1, [])
    sentence = "연구소는 3억 700만 달러를 유치했습니다 [1]."
    assert unsupported_quantities(sentence, ["The institutes attracted $307 million."]) == (1, [])


def test_unsupported_money_magnitude() -> None:
    sources = ["…DARPA는 AIM Photonics에 1,900만 달러를 지원했습니다."]
    assert unsupported_quantities("DARPA gave AIM Photonics $19 million [2].", sources) == (1, [])
    assert unsupported_quantities("DARPA gave AIM Photonics $190 million [2].", sources) == (
        1,
        ["$190 million"],
    )


def test_unsupported_percent() -> None:
    sources = ["회원 조직(63%가 제조업체, 그 중 73%가 중소 제조업체)"]
    assert unsupported_quantities("63% were manufacturers [1].", sources) == (1, [])
    assert unsupported_quantities("68% were manufacturers [1].", sources) == (1, ["68%"])


def test_unsupported_year() -> None:
    sources = ["MxD  매뉴팩처링 x 디지털  국방부  일리노이주 시카고  8월 \n2012년"]
    assert unsupported_quantities("MxD was founded in 2012 [3].", sources) == (1, [])
    assert unsupported_quantities("MxD was founded in 2013 [3].", sources) == (1, ["2013"])


def test_unsupported_date_day_is_not_a_separate_fact() -> None:
    sources = ["5 2023년 5월 16일, DOE는 애리조나 주립대학교를 … 선정했다고 발표했습니다."]
    assert unsupported_quantities("On May 16, 2023, DOE selected ASU [1].", sources) == (1, [])
    assert unsupported_quantities("DOE chose ASU in 2023 [1].", sources) == (1, [])


@pytest.mark.parametrize(
    "sentence",
    [
        "Objective 1.2 promotes diverse ecosystems [1][2].",
        "목표 1.2는 다양한 생태계를 촉진합니다 [1].",
        "Table 1 and Figure 3 list the institutes [2][3].",
        "표 2와 그림 1을 참조하십시오 [1].",
        "See p. 19, page 19 and 19쪽 of Appendix A [4].",
        "Goal 3 accelerates workforce development [1, 2].",
        "The Act (Pub. L. 113-235, 15 U.S.C. § 278s(h)(2)(C)) requires reports [5].",
        "CHIPS and Science Act, Section 10263, codified at 42 USC 18972 [1].",
        "The COVID-19 pandemic and report GAO-22-103979 [2].",
    ],
)
def test_labels_citations_and_statutes_are_not_checked(sentence: str) -> None:
    assert unsupported_quantities(sentence, ["nothing numeric here"]) == (0, [])


def test_fiscal_year_and_trl_are_facts() -> None:
    src = ["2022 회계연도에 … 기술 준비 수준(TRL) 4에서 6으로 이동"]
    assert unsupported_quantities("In FY 2022 projects reached TRL 4 [1].", src) == (2, [])
    assert unsupported_quantities("In FY2021 projects reached TRL 5 [1].", src) == (
        2,
        ["FY2021", "5"],
    )


def test_unsupported_range_needs_range_or_both_ends() -> None:
    src = ["5~7년의 초기 자금 조달 기간 이후"]
    assert unsupported_quantities("Initial funding lasts 5–7 years [1].", src) == (1, [])
    assert unsupported_quantities("Initial funding lasts five to seven years [1].", src) == (1, [])
    assert unsupported_quantities("Initial funding lasts 5–9 years [1].", src) == (1, ["5–9 years"])
    both_ends = ["TRL 4에서 6으로"]
    assert unsupported_quantities("from TRL 4 to 6 [1]", both_ends) == (1, [])


def test_unsupported_mixed_sentence() -> None:
    src = [
        "2022 회계연도에 연구소는 기본 연방 자금 1억 900만 달러 외에 3억 700만 달러를 유치했습니다. "
        "이 2.8:1 투자 매칭은 프로그램 설계의 1:1 매칭을 능가하며 106,000명의 근로자가 참여했는데, "
        "이는 전년도에 비해 25% 증가한 수치입니다."
    ]
    sentence = (
        "In FY 2022 the institutes attracted $307 million on top of $109 million of base funding, "
        "a 2.8:1 match, and trained 106,000 people, up 35% [1]."
    )
    assert unsupported_quantities(sentence, src) == (6, ["35%"])


def test_unsupported_english_number_words_against_korean() -> None:
    src = [
        "현재 17개 연구소와 9개의 후원 및 참여 연방 기관을 통합하여 … 매년 최소 2개의 이벤트를 지원"
    ]
    sentence = "Seventeen institutes and nine agencies hold two events a year [1]."
    assert unsupported_quantities(sentence, src) == (3, [])
    assert unsupported_quantities("Eighteen institutes [1].", src) == (1, ["Eighteen"])


def test_unsupported_no_quantities() -> None:
    assert unsupported_quantities("The program supports manufacturing [1].", []) == (0, [])


def test_find_quantities_handles_a_plan_sized_text() -> None:
    # Its speed is measured by `assistant bench` (numbers_plan_s), not asserted here.
    chunk = (
        "2022 회계연도에 Manufacturing USA 연구소는 2,500개 이상의 회원 조직(63%가 제조업체)과 "
        "협력하여 3억 700만 달러를 유치했으며 2.8:1 매칭을 달성했습니다 (Pub. L. 113-235, "
        "15 U.S.C. § 278s). In FY 2022 the institutes attracted $307 million [1].\n"
    )
    text = chunk * 700  # about the size of the translated plan
    qs = find_quantities(text)
    assert len(qs) == 700 * 7
