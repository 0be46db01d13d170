"""Is the asked-for kind of fact in the evidence? (pure logic on hand-made evidence units)"""

from assistant.answer.evidence import EvidenceUnit, select_evidence
from assistant.answer.slots import (
    asked_slot,
    asked_slots,
    further_slot_checks,
    missing_facts,
    person_names,
    strong_evidence,
    unanswered_part,
)
from assistant.types import Hit, ReferenceLink


def unit(n, text):
    hit = Hit(chunk_id=f"c{n}", doc_id="d", doc_title="D", kind="text", text=text, lang="ko", page_start=1,
              page_end=1, section="S", score=1.0, rank=n)
    return EvidenceUnit(hit, text, 1.0, n)


def test_asked_slot():
    assert asked_slot("What is the annual membership fee to join MxD?") == "money"
    assert asked_slot("NIIMBL 회원 가입비는 얼마인가요?") == "money"
    assert asked_slot("How many employees does America Makes have?") == "count"
    assert asked_slot("America Makes의 직원 수는 몇 명인가요?") == "count"
    assert asked_slot("When was IACMI established?") == "date"
    assert asked_slot("현재 NIST 원장은 누구인가요?") == "person"
    assert asked_slot("Manufacturing USA 네트워크 회의는 얼마나 자주 열리나요?") is None  # how often
    assert asked_slot("What is the report number of GAO's December 2021 report?") is None
    assert asked_slot("Under Objective 3.1, who will convene the institutes?") is None  # who, no title


def test_missing_facts():
    budget = [unit(1, "BioMADE는 미네소타주 세인트폴에 있습니다."), unit(2, "BioMADE는 2020년 10월에 설립되었습니다.")]
    assert "money" in missing_facts("What is BioMADE's budget?", budget)
    assert "2025" in missing_facts("What is BioMADE's budget for fiscal year 2025?", budget)
    funded = [unit(1, "EPIXC는 향후 5년 동안 연방 자금에서 최대 7천만 달러를 할당할 것입니다.")]
    assert missing_facts("How much federal funding will EPIXC get?", funded) is None
    assert missing_facts("EPIXC는 얼마의 연방 자금을 받나요?", funded) is None
    assert "person" in missing_facts("Who is the director of NIST?",
                                     [unit(1, "NIST에 본부를 둔 AMNPO(Advanced Manufacturing National Program Office)")])
    assert missing_facts("Who is the director of NIST?", [unit(1, "Director Jane Q. Doe leads NIST.")]) is None


def test_person_names_are_not_organisations():
    assert person_names("Michael R. Taylor was named director") == {"Michael Taylor"}
    assert person_names("Advanced Manufacturing National Program Office (AMNPO)") == set()
    assert person_names("National Institute for Innovation in Manufacturing Biopharmaceuticals") == set()


def test_two_part_questions_ask_for_two_slots():
    q = "How many research institutes does Germany's Fraunhofer network have, and when was it founded?"
    assert asked_slots(q) == ["count", "date"]
    (holds_year,) = further_slot_checks(q)
    assert holds_year("1949년에 설립된 이 네트워크는 응용 연구를 촉진합니다.")
    assert not holds_year("독일 프라운호퍼 학회는 76개의 연구 기관이 있습니다.")
    assert further_slot_checks("How many institutes are there?") == []


def test_a_country_the_question_names_must_be_in_the_evidence():
    plan_only = [unit(1, "Manufacturing USA는 현재 17개 연구소를 통합합니다.")]
    assert "Korea" in missing_facts("한국에는 Manufacturing USA와 비슷한 연구소가 몇 개 있나요?", plan_only)
    assert missing_facts("한국어로 답해 주세요: 연구소는 몇 개인가요?", plan_only) is None  # the language, not the country
    benchmark = [unit(1, "벤치마킹 연구는 독일, 일본, 한국의 제조 R&D 프로그램 12개를 검토했습니다.")]
    assert missing_facts("How many programs in South Korea were reviewed?", benchmark) is None


def test_a_cited_reports_date_does_not_answer_when_an_event_happened():
    u = unit(1, "Footnote 48: https://www.commerce.gov/news/press-releases/2024/05/digital-twin")
    u.hit.references = [ReferenceLink(id="r1", title="CHIPS for America announces funding", date="2024-05-06")]
    u.with_references = True
    assert "2024" in u.prompt_text and "date" in missing_facts("When did the digital twin institute open?", [u])
    assert missing_facts("When was the CHIPS funding announcement published?", [u]) is None


def test_strong_evidence_needs_the_asked_quantity_and_a_high_score():
    units = [unit(1, "협의회는 연구소 간 협력을 촉진합니다."), unit(2, "2,500개 이상의 회원 조직이 참여했습니다.")]
    units[0].score, units[1].score = 0.7, 0.65
    assert strong_evidence(units, "count", 0.6) is units[1]
    assert strong_evidence(units, "count", 0.66) is None
    assert strong_evidence(units, "place", 0.0) is None and strong_evidence(units, None, 0.0) is None


def test_unanswered_part_of_a_question():
    where_when = "ARMI|BioFabUSA는 언제, 어디에 설립되었나요?"
    assert unanswered_part(where_when, "ARMI|BioFabUSA는 2016년 12월에 설립되었습니다 [1].") == "place"
    assert unanswered_part(where_when, "뉴햄프셔주 맨체스터에 2016년 12월에 설립되었습니다 [1].") is None
    assert unanswered_part("How much federal funding will EPIXC get?", "EPIXC gets federal funds [1].") == "money"
    assert unanswered_part("How much federal funding will EPIXC get?", "Up to $70 million [1].") is None
    # "어디인가요" asks which organisation, not where.
    assert unanswered_part("NASA에서 가장 밀접하게 관련된 조직은 어디인가요?", "STMD입니다 [1].") is None


def test_country_names_are_not_people():
    assert person_names("programs in South Korea and the United Kingdom") == set()


def test_evidence_brings_in_a_sentence_for_the_second_part_of_a_question():
    hits = [unit(1, "x").hit]
    sentences = [[("독일 프라운호퍼 학회에는 76개의 연구 기관이 있습니다.", 0.63),
                  ("76개 연구소는 독립적인 연구 프로젝트를 수행합니다.", 0.47),
                  ("각 연구소는 민관 파트너십입니다.", 0.31),
                  ("1949년에 설립된 이 네트워크는 응용 연구를 촉진합니다.", 0.30)]]
    q = "How many institutes does the Fraunhofer network have, and when was it founded?"
    plain = select_evidence(hits, sentences, [], 2, per_chunk=4)
    assert not any("1949" in u.quote for u in plain)
    covered = select_evidence(hits, sentences, [], 2, per_chunk=4, must_hold=further_slot_checks(q))
    assert [u.quote[:6] for u in covered] == ["독일 프라운", "1949년에"] and [u.n for u in covered] == [1, 2]
