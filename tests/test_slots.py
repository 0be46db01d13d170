"""Is the asked-for kind of fact in the evidence? (pure logic on hand-made evidence units)"""

from assistant.answer.evidence import EvidenceUnit
from assistant.answer.slots import asked_slot, missing_facts, person_names
from assistant.types import Hit


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
