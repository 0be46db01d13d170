"""The question parsed once: language, kinds of fact, entities, constraints, parts, follow-ups."""

import pytest

from assistant.answer.frame import build_frame, query_for
from assistant.types import Turn


@pytest.mark.parametrize(
    ("question", "lang", "kinds"),
    [
        (
            "How many institutes does DoD sponsor, and when was the first one established?",
            "en",
            ["count", "date"],
        ),
        ("Where is LIFT headquartered?", "en", ["place"]),
        ("EPIXC는 얼마의 연방 자금을 받나요?", "ko", ["amount"]),
        ("What share of member organizations are manufacturers?", "en", ["percent"]),
        (
            "MxD의 원장은 누구인가요?",
            "ko",
            ["person"],
        ),  # not a yes/no question: it holds a question word
        ("Is NSF a sponsoring agency?", "en", ["yesno"]),
        ("What does TRL stand for?", "en", ["definition"]),
        ("Tell me about the council.", "en", []),
    ],
)
def test_kinds_of_fact(question, lang, kinds):
    f = build_frame(question)
    assert f.lang == lang and f.kinds == kinds


def test_open_quantity_questions_ask_for_no_kind_of_quantity():
    f = build_frame("How often does the council meet?")
    assert f.open_quantity and f.quantity_kinds == []
    assert build_frame("위원회는 얼마나 자주 만나나요?").open_quantity


def test_entities_places_countries_and_constraints():
    f = build_frame(
        "What was BioMADE's budget in FY2025, compared with Germany's Fraunhofer in Rochester?"
    )
    assert f.entities[:1] == ["BioMADE"] and "Fraunhofer" in f.entities
    assert [c.raw for c in f.constraints] == ["FY2025"] and f.countries == ["Germany"]
    assert f.places == ["Rochester"]
    assert [
        c.unit for c in build_frame("Which projects got more than $70 million?").constraints
    ] == ["usd"]


def test_two_part_questions_are_split():
    f = build_frame("How many institutes does DoD sponsor, and when was the first one established?")
    assert f.parts == [
        "How many institutes does DoD sponsor",
        "when was the first one established?",
    ]
    assert len(build_frame("Where and when was LIFT founded?").parts) == 1


def test_two_questions_in_one_message_are_two_parts():
    assert build_frame(
        "Which agencies sponsor institutes? Which of those are in Michigan?"
    ).parts == [
        "Which agencies sponsor institutes",
        "Which of those are in Michigan?",
    ]
    assert build_frame(
        "어느 부처가 연구소를 후원하나요? 그중 미시간에 있는 연구소는 어디예요?"
    ).parts == [
        "어느 부처가 연구소를 후원하나요",
        "그중 미시간에 있는 연구소는 어디예요?",
    ]
    # the second sentence asks nothing: one part
    assert len(build_frame("Where is LIFT? I ask because we are nearby.").parts) == 1


def test_follow_up_resolution_uses_the_history_once():
    history = [
        Turn(role="user", content="Tell me about LIFT."),
        Turn(role="assistant", content="LIFT is a DoD institute."),
    ]
    f = build_frame("Where is it headquartered?", history)
    assert f.followup and f.resolved == ["LIFT"] and f.search_text.endswith("LIFT")
    assert f.all_entities == ["LIFT"]
    g = build_frame("Where is MxD headquartered?", history)  # names its own institute
    assert not g.followup and g.search_text == "Where is MxD headquartered?"
    k = build_frame("언제 설립되었죠?", [Turn(role="user", content="EPIXC에 대해 알려줘")])
    assert k.lang == "ko" and "EPIXC" in k.search_text


def test_questions_about_documents():
    assert build_frame("When was the GAO report published?").about_documents
    assert build_frame("보고서는 언제 발간되었나요?").about_documents
    assert not build_frame("What is the mission of the program?").about_documents


def test_query_for_hands_the_frame_to_retrieval():
    f = build_frame("LIFT 본사는 어디에 있나요?")
    q = query_for(f, top_k=7)
    assert q.lang == "ko" and q.top_k == 7 and q.search_text == f.search_text


def test_the_vocabulary_is_data():
    from assistant.knowledge.data import corpus_dir

    en = (corpus_dir() / "lexicon" / "en.yaml").read_text(encoding="utf-8")
    ko = (corpus_dir() / "lexicon" / "ko.yaml").read_text(encoding="utf-8")
    assert "how many" in en and "몇" in ko and "kinds:" in en and "kinds:" in ko


def test_a_question_naming_its_own_topic_is_not_a_follow_up():
    history = [Turn(role="user", content="Where is LIFT headquartered?")]
    f = build_frame("What does the plan say about supply chain resilience?", history)
    assert not f.followup and f.search_text.endswith("resilience?")
    assert build_frame("Who sponsors?", history).followup  # a few words, naming nothing
    assert not build_frame("공급망 탄력성에 대해 계획은 무엇을 말하나요?", history).followup
