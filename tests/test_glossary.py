"""Every institute and agency is reachable by English name, acronym or Korean form."""

import pytest

from assistant.knowledge.glossary import glossary
from assistant.knowledge.records import records

INSTITUTES = [r.acronym for r in records().institutes]
AGENCIES = ["DOC", "DoD", "DOE", "DOL", "ED", "HHS", "NASA", "NSF", "USDA"]


def test_counts():
    assert len(INSTITUTES) == 17
    g = glossary()
    assert all(g.by_key[a].kind == "agency" for a in AGENCIES)


@pytest.mark.parametrize("key", INSTITUTES + AGENCIES)
def test_each_entity_found_by_every_form(key):
    g = glossary()
    e = g.by_key[key]
    for form in {e.key, e.name_en, *e.aliases_en, *e.ko}:
        assert key in g.entities_in(f"질문: {form} 에 대해"), form


@pytest.mark.parametrize(
    ("artifact", "real"),
    [
        ("암사슴", "DOE"),
        ("승강기", "LIFT"),
        ("리메이크", "REMADE"),
        ("사이맨 2", "CyManII"),
        ("무기|BioFabUSA", "ARMI|BioFabUSA"),
        ("AFFA", "AFFOA"),
        ("미국이 만든다", "America Makes"),
        ("상학과", "DOC"),
        ("교육학과", "ED"),
        ("에너지학과", "DOE"),
    ],
)
def test_artifacts_fixed(artifact, real):
    g = glossary()
    assert g.entities_in(f"{artifact}는") == [real] or real in g.entities_in(f"{artifact}는")
    assert real in g.fix_artifacts(f"{artifact}가 후원합니다")
    assert artifact not in g.fix_artifacts(f"{artifact}가 후원합니다")


def test_table_only_artifacts_do_not_fire_in_body_text():
    g = glossary()
    assert (
        g.entities_in("의사와 빠른 결정") == []
    )  # "doctor", "fast": DOC/RAPID only inside Table 1


def test_short_acronyms_need_capitals():
    g = glossary()
    assert g.entities_in("lift the arm and aim") == []
    assert g.entities_in("LIFT and the ARM Institute") == ["LIFT", "ARM Institute"]


def test_expansion_both_ways():
    g = glossary()
    en = g.expansion_terms("Where is LIFT headquartered and who sponsors it?", "en")
    assert "승강기" in en and "본사 위치" in en and "후원 대행사" in en
    ko = g.expansion_terms("에너지부가 후원하는 연구소는?", "ko")
    assert "DOE" in ko and "암사슴" in ko


def test_annotate_keeps_mt_wording():
    assert glossary().annotate_artifacts("승강기 본사") == "승강기(LIFT) 본사"


def test_places_both_languages_longest_korean_form_first():
    g = glossary()
    assert {p.en for p in g.place_matches("뉴욕주 로체스터")} == {"New York", "Rochester"}
    assert [p.kind for p in g.place_matches("뉴욕주")] == ["state"]
    assert g.places_in("Detroit, Michigan") == {"place:Detroit", "place:Michigan"}
    assert (
        g.place_matches("Florida")[0].kind == "state"
    )  # a state without an institute is still a place


def test_fuzzy_places_only_when_asked():
    g = glossary()
    assert g.place_matches("pensylvania") == []
    assert [p.en for p in g.place_matches("pensylvania", fuzzy=True)] == ["Pennsylvania"]
    assert [p.en for p in g.place_matches("뉴헴프셔에 있는", fuzzy=True)] == ["New Hampshire"]
    assert g.place_matches("the new ecosystem", fuzzy=True) == []


def test_the_glossary_is_data():
    from assistant.knowledge.data import corpus_dir

    text = (corpus_dir() / "glossary.yaml").read_text(encoding="utf-8")
    assert "승강기" in text and "암사슴" in text  # reviewed file, readable by a person
    assert len(glossary().entities) >= 50
