"""Exact answers from the plan's records: the query parser on questions it was not written
from (tests/data/record_query_cases.json, written separately from the eval set), execution,
rendering in both languages, and the records route of the pipeline."""

import json
from pathlib import Path

import pytest

from assistant.answer.frame import build_frame
from assistant.answer.records.execute import execute
from assistant.answer.records.query import RecordQuery, YearFilter, parse_record_query
from assistant.answer.records.render import render_result
from assistant.answer.trace import Code

CASES = json.loads(
    (Path(__file__).parent / "data" / "record_query_cases.json").read_text(encoding="utf-8")
)
# Cases the rules leave to the LLM (they stay "unsure"): a typo in a question word.
LEFT_TO_THE_LLM = {"wich institutes are in pensylvania"}


def _names(result) -> list[str]:
    return [
        getattr(x, "acronym", None) or getattr(x, "key", None) or getattr(x, "number", None)
        for x in result.items
    ]


def _matches(case: dict) -> bool:
    expect, kind = case["expect"], case["expect"]["kind"]
    parse = parse_record_query(build_frame(case["q"]))
    if parse.confidence != "sure" or parse.query is None:
        return kind == "none"
    q, res = parse.query, execute(parse.query)
    names = _names(res)
    if kind == "list":  # the described institutes listed with their focus count as the list
        return (
            q.table == "institutes"
            and q.action in ("list", "count", "lookup")
            and sorted(names) == sorted(expect["items"])
        )
    if kind == "count":
        got = res.count if q.distinct else len(names)
        return got == expect["value"] and (
            "items" not in expect or sorted(names) == sorted(expect["items"])
        )
    if kind == "lookup":
        inst = (
            expect["institute"] if isinstance(expect["institute"], list) else [expect["institute"]]
        )
        return (
            q.action == "lookup" and sorted(names) == sorted(inst) and expect["field"] in q.fields
        )
    if kind in ("first", "last"):
        return q.action == kind and sorted(names) == sorted(expect["items"])
    if kind == "objectives":
        return q.table == "objectives" and sorted(map(str, names)) == sorted(expect["items"])
    if kind == "objective":  # one objective, described by the words of its title
        return q.table == "objectives" and names == [expect["objective"]]
    if kind == "goal":  # one goal, named by number or by its place in Table 2
        return q.table == "goals" and q.action == "lookup" and names == [expect["goal"]]
    if kind == "goal_most":
        return q.table == "goals" and q.action == "most" and names == [expect["goal"]]
    if kind == "goal_of":
        return (
            q.action == "goal_of"
            and res.parent is not None
            and res.parent.number == expect["goal"]
            and names == [expect.get("objective", names[0] if names else None)]
        )
    if kind == "agencies":
        return q.table == "agencies" and sorted(names) == sorted(
            x.replace("HHS/FDA", "HHS") for x in expect["items"]
        )
    return False


@pytest.mark.parametrize("case", CASES, ids=[c["q"][:50] for c in CASES])
def test_parser_cases(case):
    if case["q"] in LEFT_TO_THE_LLM:
        assert parse_record_query(build_frame(case["q"])).confidence == "unsure"
        return
    assert _matches(case), case


def test_parser_cases_cover_both_languages_and_refuse_prose():
    assert (
        sum(c["lang"] == "ko" for c in CASES) >= 30 and sum(c["lang"] == "en" for c in CASES) >= 30
    )
    nones = [c for c in CASES if c["expect"]["kind"] == "none"]
    assert len(nones) >= 10 and all(_matches(c) for c in nones)


def test_execution():
    assert [
        r.acronym
        for r in execute(RecordQuery(table="institutes", action="list", agency="DOC")).items
    ] == ["NIIMBL"]
    assert execute(RecordQuery(table="institutes", action="count", agency="DOE")).count == 7
    assert _names(execute(RecordQuery(table="institutes", action="first"))) == ["America Makes"]
    assert _names(execute(RecordQuery(table="institutes", action="last"))) == ["EPIXC"]
    assert _names(
        execute(
            RecordQuery(
                table="institutes", action="list", agency="DoD", year=YearFilter(op="eq", year=2014)
            )
        )
    ) == ["MxD", "LIFT"]
    assert set(
        _names(execute(RecordQuery(table="institutes", action="list", states=["New York"])))
    ) == {"AIM Photonics", "RAPID", "REMADE"}
    assert _names(execute(RecordQuery(table="institutes", action="list", states=["Florida"]))) == []
    assert execute(RecordQuery(table="institutes", action="count", distinct="states")).count == 14
    assert _names(
        execute(
            RecordQuery(table="institutes", action="list", year=YearFilter(op="before", year=2015))
        )
    ) == ["America Makes", "MxD", "LIFT"]
    most = execute(RecordQuery(table="agencies", action="most"))
    assert most.group == "DoD" and most.count == 9 and len(most.items) == 9
    assert _names(execute(RecordQuery(table="objectives", action="list", goal=2))) == [
        "2.1",
        "2.2",
        "2.3",
    ]
    assert (
        len(execute(RecordQuery(table="agencies", action="list", role="participating")).items) == 6
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_rendering_cites_every_item_to_its_row_and_counts_the_list(lang):
    res = execute(RecordQuery(table="institutes", action="list", agency="DoD"))
    out = render_result(res, lang)
    assert len(out) == 9 and all(len(r.cites) == 1 for r in out)
    assert [r.cites[0] for r in out] == [x.id for x in res.items]  # each item its own row
    assert out[0].text.startswith(
        "9 institutes" if lang == "en" else "국방부(DoD)가 후원하는 연구소는 9곳"
    )
    assert all(r.text.startswith("- ") for r in out[1:])
    names = " ".join(r.text for r in out)
    assert "America Makes" in names and "미국이 만든다" not in names  # the real English names
    goals = render_result(execute(RecordQuery(table="goals", action="list")), lang)
    quote = (
        "“Increase the competitiveness of U.S. manufacturing”"
        if lang == "en"
        else "“미국 제조업의 경쟁력 강화”"
    )
    assert quote in goals[0].text  # quoted, not paraphrased


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_all_partner_agencies_are_listed_with_which_sponsor_and_which_participate(lang):
    (all_of_them,) = render_result(execute(RecordQuery(table="agencies", action="list")), lang)
    said = all_of_them.text
    tail = said.split(";" if lang == "en" else "이 중", 1)[1]
    assert "DOC, DoD, DOE" in tail and "DOL, ED, HHS, NASA, NSF, USDA" in tail
    assert tail.index("DOC") < tail.index("DOL")  # sponsors first, as Figure 1
    (sponsors,) = render_result(
        execute(RecordQuery(table="agencies", action="list", role="sponsoring")), lang
    )
    assert "DOL" not in sponsors.text and "USDA" not in sponsors.text


def test_an_empty_list_says_none_in_the_askers_language():
    (en,) = render_result(
        execute(RecordQuery(table="institutes", action="list", states=["Florida"])), "en"
    )
    assert en.text.startswith("None of the 17 institutes") and "Florida" in en.text
    (ko,) = render_result(
        execute(RecordQuery(table="institutes", action="list", states=["Florida"])), "ko"
    )
    assert "없습니다" in ko.text


@pytest.fixture(scope="module")
def plan_services(tmp_path_factory):
    """The real plan indexed with the fake embedder (the records' rows are real chunks)."""
    import os

    from assistant.services import build_services
    from assistant.settings import load_settings

    home = tmp_path_factory.mktemp("records-home")
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_PROFILES": "test"}
    services = build_services(load_settings(env=env))
    services.build_index()
    return services


@pytest.mark.parametrize(
    ("question", "n_items", "lang"),
    [
        ("Which institutes does the Department of Defense sponsor?", 9, "en"),
        ("국방부가 후원하는 연구소는 어디인가요?", 9, "ko"),
        ("Which institutes are headquartered in New York?", 3, "en"),
        ("2016년에 설립된 연구소를 모두 알려주세요.", 3, "ko"),
    ],
)
def test_the_records_route_answers_without_an_llm(plan_services, question, n_items, lang):
    ans = plan_services.answers.answer(
        question, mode="local"
    )  # no LLM is loaded for a records answer
    assert not ans.refused and ans.language == lang and ans.llm_id == "records"
    assert Code.ROUTE_RECORDS in ans.codes() and Code.RECORDS_ANSWERED in ans.codes()
    assert len(ans.citations) == n_items and all(c.page in (5, 6) for c in ans.citations)
    assert all(c.support == "verified" for c in ans.citations)
    assert ans.answer.count("\n- ") == n_items  # the lead line, then one line per item
    assert ans.support.llm_calls == 0


def test_a_goal_question_is_answered_with_the_quoted_objectives(plan_services):
    ans = plan_services.answers.answer("List the objectives under Goal 2.", mode="extractive")
    assert (
        "Objective 2.1" in ans.answer
        and "Objective 2.3" in ans.answer
        and "Objective 1.1" not in ans.answer
    )
    assert {c.page for c in ans.citations} == {9}


def test_every_quoted_goal_and_objective_is_in_its_cited_passage(plan_services):
    """A goal's row can span two chunks (its objectives run on): the cited passage is the whole
    row, so the goal's title and each of its objectives are in what the reader is shown."""
    for question in ("What are the four goals?", "List the objectives under Goal 1."):
        ans = plan_services.answers.answer(question, mode="extractive")
        assert ans.citations and all(c.support == "verified" for c in ans.citations)
    goal1 = plan_services.retriever.record_hits(["goal:1"])["goal:1"]
    assert "(Goal 1: Increase the competitiveness" in goal1.text
    assert "(Objective 1.4: Provide leadership" in goal1.text


def test_a_two_part_question_gets_the_records_part_and_the_prose_part(plan_services):
    ans = plan_services.answers.answer(
        "Which institutes does DOE sponsor, and what is the mission of the program?",
        mode="extractive",
    )
    assert Code.ROUTE_BOTH in ans.codes() or Code.ROUTE_RECORDS in ans.codes()
    assert "CESMII" in ans.answer


def test_two_record_questions_in_one_are_both_answered(plan_services):
    ans = plan_services.answers.answer(
        "How many institutes are headquartered in Ohio and how many agencies sponsor institutes?",
        mode="local",
    )
    assert ans.codes().count(Code.RECORDS_ANSWERED) == 2 and ans.support.llm_calls == 0
    assert (
        "2" in ans.answer
        and "3" in ans.answer
        and "America Makes" in ans.answer
        and "DOE" in ans.answer
    )


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("How many participating agencies are there?", "participating"),
        (
            "Which agencies participate in the program without sponsoring any institute?",
            "participating",
        ),
        ("How many federal agencies take part in Manufacturing USA?", None),
        ("몇 개의 연방 기관이 Manufacturing USA에 참여하나요?", None),
        ("참여 기관은 몇 곳인가요?", "participating"),
    ],
)
def test_a_role_is_read_from_the_agency_noun_not_the_verb(question, role):
    parse = parse_record_query(build_frame(question))
    assert parse.query is not None and parse.query.table == "agencies" and parse.query.role == role


def test_a_question_about_one_named_agency_is_not_the_agency_list():
    assert (
        parse_record_query(
            build_frame("Which office of the Department of Labor handles workforce?")
        ).query
        is None
    )


LLM_OWN_QUERY = '{"route": "records", "table": "objectives", "action": "list"}'


def test_an_unsure_parse_runs_the_rules_query_when_the_llm_chooses_records(plan_services):
    # "Remind" is a word the rules cannot place; the LLM says the records answer it but its own
    # query drops the objective's number. The rules' query (Objective 2.3 -> its goal) runs.
    question = "Remind me which goal Objective 2.3 belongs to."
    assert parse_record_query(build_frame(question)).confidence == "unsure"
    gen = plan_services.answers.generator("fake")
    gen.queue(LLM_OWN_QUERY)
    ans = plan_services.answers.answer(question, mode="fake", disabled=["reading"])
    assert Code.QUERY_LLM in ans.codes() and Code.ROUTE_RECORDS in ans.codes()
    assert "Objective 2.3" in ans.answer and "Goal 2" in ans.answer
    assert "Objective 2.1" not in ans.answer  # not the LLM's list of every objective
    assert ans.support.llm_calls == 1


def test_an_unsure_parse_goes_to_prose_when_the_llm_chooses_prose(plan_services):
    question = "Remind me which goal Objective 2.3 belongs to."
    gen = plan_services.answers.generator("fake")
    gen.queue(LLM_OWN_QUERY.replace('"records"', '"prose"', 1), "NOT_FOUND")
    ans = plan_services.answers.answer(question, mode="fake", disabled=["reading"])
    assert Code.QUERY_LLM_REJECTED in ans.codes() and Code.ROUTE_PROSE in ans.codes()
    assert Code.ROUTE_RECORDS not in ans.codes()


def test_an_llm_choice_of_another_table_than_the_rules_goes_to_prose(plan_services):
    question = "Remind me which goal Objective 2.3 belongs to."
    gen = plan_services.answers.generator("fake")
    gen.queue(LLM_OWN_QUERY.replace('"objectives"', '"institutes"'), "NOT_FOUND")
    ans = plan_services.answers.answer(question, mode="fake", disabled=["reading"])
    assert Code.QUERY_LLM_REJECTED in ans.codes() and Code.ROUTE_RECORDS not in ans.codes()
    (entry,) = [t for t in ans.trace if t.code == Code.QUERY_LLM_REJECTED]
    assert "table institutes" in entry.detail and "the rules' table: objectives" in entry.detail


def test_an_llm_choice_of_the_other_level_of_table_2_agrees_with_the_rules(plan_services):
    # Goals and objectives are one table of the plan: naming "goals" for an objective question
    # is not another table, so the records (the rules' objective query) answer it.
    question = "Remind me which goal Objective 2.3 belongs to."
    gen = plan_services.answers.generator("fake")
    gen.queue(LLM_OWN_QUERY.replace('"objectives"', '"goals"'))
    ans = plan_services.answers.answer(question, mode="fake", disabled=["reading"])
    assert Code.QUERY_LLM in ans.codes() and Code.ROUTE_RECORDS in ans.codes()
    assert "Objective 2.3" in ans.answer and "Goal 2" in ans.answer


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_goal_with_the_most_objectives_is_quoted_with_them(lang):
    res = execute(RecordQuery(table="goals", action="most"))
    assert [g.number for g in res.items] == [1] and res.count == 4
    sentences = render_result(res, lang)
    text = "\n".join(s.text for s in sentences)
    assert ("Goal 1:" if lang == "en" else "목표 1:") in text
    assert text.count("\n- ") == 4  # its four objectives, one line each
    assert all(s.cites == ["goal:1"] for s in sentences)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_excluded_sponsor_and_a_year_range_are_said_in_the_lead(lang):
    q = RecordQuery(
        table="institutes",
        action="list",
        not_agency="DoD",
        year=YearFilter(op="between", year=2015, year_to=2017, inclusive=True),
    )
    res = execute(q)
    assert _names(res) == ["PowerAmerica", "IACMI", "CESMII", "NIIMBL", "RAPID", "REMADE"]
    lead = render_result(res, lang)[0].text.split("\n")[0]
    if lang == "en":
        assert "other than the Department of Defense (DoD)" in lead and "2015 to 2017" in lead
    else:
        assert "국방부(DoD) 외의 기관이 후원하는" in lead and "2015년부터 2017년까지" in lead
    assert "6" in lead


def test_a_date_relative_to_a_named_institute_compares_to_the_month_and_leaves_it_out():
    # NIIMBL (March 2017) was founded after the ARM Institute (January 2017), in the same year.
    parse = parse_record_query(build_frame("Which institutes opened after the ARM Institute?"))
    assert parse.query.year.anchor == "ARM Institute" and parse.query.institutes == []
    names = _names(execute(parse.query))
    assert "NIIMBL" in names and "ARM Institute" not in names and "ARMI|BioFabUSA" not in names
    lead = render_result(execute(parse.query), "en")[0].text
    assert "after ARM Institute (January 2017)" in lead


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("Which DoD institute is the newest, and in which city is it?", "en", "St. Paul"),
        ("국방부 연구소 중 가장 최근에 생긴 곳의 본사는 어디인가요?", "ko", "세인트폴"),
    ],
)
def test_a_superlative_answers_the_field_asked_with_it(question, lang, expected):
    parse = parse_record_query(build_frame(question))
    assert parse.query.action == "last" and "hq" in parse.query.fields
    sentences = render_result(execute(parse.query), lang)
    assert "BioMADE" in sentences[0].text and expected in sentences[1].text
    assert all(s.cites == ["institute:BioMADE"] for s in sentences)


class _Embedder:
    """Vectors chosen by the test: the question's and the reading's similarity is ``sim``."""

    def __init__(self, sim: float) -> None:
        self.sim = sim

    def embed_queries(self, texts):
        import numpy as np

        a = np.array([1.0, 0.0], dtype=np.float32)
        b = np.array([self.sim, (1 - self.sim**2) ** 0.5], dtype=np.float32)
        return np.stack([a, b])


@pytest.mark.parametrize(
    ("sim", "route", "code"),
    [(0.95, "records", Code.ROUTE_RECORDS), (0.7, "both", Code.ROUTE_BOTH), (0.3, None, None)],
)
def test_an_unsure_parse_is_routed_by_how_close_its_reading_is_to_the_question(
    sim, route, code, tmp_path
):
    from assistant.answer.state import AnswerState, Deps
    from assistant.answer.steps import route as route_step
    from assistant.settings import load_settings

    question = "Restricting to DoD institutes, which ones were established before 2016?"
    parse = parse_record_query(build_frame(question))
    assert parse.confidence == "unsure" and parse.unexplained == ["restricting"]
    settings = load_settings(env={"ASSISTANT_PROFILES": "test", "ASSISTANT_HOME": str(tmp_path)})
    deps = Deps(
        settings=settings, retriever=None, embedder=_Embedder(sim), generator=lambda m: None
    )
    state = AnswerState(question=question, history=[], mode="extractive")
    state.frame = build_frame(question)
    route_step.run(state, deps)
    codes = [d.code for d in state.trace]
    assert Code.QUERY_READING in codes
    if route is None:
        assert state.route != "records" and not state.record_queries
    else:
        assert state.route == route and code in codes
        assert state.record_queries[0].agency == "DoD"


def test_the_llm_query_grammar_only_admits_json():
    """Every sentence the record-query grammar admits must parse as JSON: expand each rule by
    each of its alternatives in turn (the grammar is flat) and read the result."""
    import json as _json
    import re as _re

    from assistant.answer.records.llm_parse import grammar, to_query

    rules = dict(line.split(" ::= ", 1) for line in grammar().splitlines())
    literal = _re.compile(r'"(?:[^"\\]|\\.)*"')
    alts = {
        name: [_json.loads(a) for a in literal.findall(body)]
        for name, body in rules.items()
        if name != "root"
    }
    for pick in range(max(len(v) for v in alts.values())):
        out = ""
        for token in _re.findall(r'"(?:[^"\\]|\\.)*"|[a-z]+', rules["root"]):
            out += (
                _json.loads(token)
                if token.startswith('"')
                else alts[token][pick % len(alts[token])]
            )
        data = _json.loads(out)  # raises on the bare words the unquoted grammar produced
        assert data["route"] in ("records", "prose")
        to_query(data)  # and the validator takes it without an exception


def test_an_unsure_two_part_question_the_llm_sends_to_the_records_runs_both_parts(plan_services):
    question = "How many goals and how many objectives are laid down?"
    assert parse_record_query(build_frame(question)).confidence == "unsure"
    gen = plan_services.answers.generator("fake")
    gen.queue('{"route": "records", "table": "goals", "action": "count"}')
    ans = plan_services.answers.answer(question, mode="fake", disabled=["reading"])
    assert Code.QUERY_LLM in ans.codes() and Code.ROUTE_RECORDS in ans.codes()
    assert "4" in ans.answer and "13" in ans.answer  # the goals and the objectives counted
