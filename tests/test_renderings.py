"""Renderings of cited sentences in the reader's language (assistant.renderings): which quotes
need one, the prompt (real names, no MT artifacts), the checks that withhold a rendering that
changed a number, a name or the polarity, the cache per build (a second ask makes no LLM call,
a restart keeps it, a rebuild carries it forward) and record rows rendered from their reviewed
English values."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.components.llm import FakeGenerator
from assistant.renderings import (
    NO_HANGUL_LINE,
    Renderer,
    build_messages,
    check_rendering,
    quote_sentences,
    repair_hint,
    target_lang,
)
from assistant.settings import load_settings
from assistant.types import Answer, Citation, QuoteRendering

FUNDING_KO = "2022 회계연도에 연구소들은 3억 700만 달러의 비핵심 자금을 유치했습니다."
FUNDING_EN = "In FY 2022 the institutes attracted $307 million in non-core funding."
LIFT_KO = "승강기 본사는 미시간주 디트로이트에 있습니다."


def _settings():
    settings = load_settings(profiles=["test"])
    settings.renderings.enabled = True
    return settings


def _renderer(tmp_path: Path, gen: FakeGenerator, store: str = "r.sqlite") -> Renderer:
    return Renderer(_settings(), lambda mode: gen, lambda: tmp_path / store)


def _citation(n: int, quote: str, record: str | None = None) -> Citation:
    return Citation(
        n=n, chunk_id=f"c{n}", doc_id="plan/nist-ams-600-15", doc_title="plan", page=5,
        page_label="p. 5", section="s", quote=quote, passage=quote, record=record,
    )  # fmt: skip


def _answer(lang: str, *citations: Citation) -> Answer:
    return Answer(question="q", language=lang, answer="a [1].", refused=False,
                  citations=list(citations))  # fmt: skip


@pytest.mark.parametrize(
    ("quote", "lang", "target"),
    [
        (FUNDING_KO, "en", "en"),
        (FUNDING_KO, "ko", None),
        ("Each institute shall report annually to the Secretary.", "ko", "ko"),
        ("Each institute shall report annually to the Secretary.", "en", None),
        ("2,017", "ko", None),
    ],
)
def test_a_rendering_is_made_only_where_the_reader_needs_one(quote, lang, target):
    assert target_lang(quote, lang) == target


def test_the_prompt_gives_the_real_names_never_the_mt_artifact():
    system, user = build_messages(LIFT_KO, "en")
    assert "승강기" not in user["content"] and "LIFT" in user["content"]
    assert "LIFT = LIFT (Lightweight Innovations for Tomorrow)" in user["content"]
    assert "<<<" in user["content"] and "Keep every number" in system["content"]


def test_a_faithful_rendering_passes_the_checks():
    assert check_rendering(FUNDING_KO, FUNDING_EN, "en") == []
    assert check_rendering(LIFT_KO, "LIFT is headquartered in Detroit, Michigan.", "en") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("In FY 2022 the institutes attracted $370 million in non-core funding.", "number"),
        ("The institutes attracted $307 million in non-core funding.", "number left out"),
        ("In FY 2022 DOE attracted $307 million in non-core funding.", "name not in the source"),
        ("In FY 2022 the institutes did not attract $307 million in non-core funding.", "polarity"),
        ("2022 회계연도에 the institutes attracted $307 million.", "script"),
        ("", "empty"),
    ],
)
def test_a_rendering_that_changes_the_claim_is_flagged(text, problem):
    assert any(p.startswith(problem) for p in check_rendering(FUNDING_KO, text, "en"))


def test_a_plan_term_the_rendering_lost_is_flagged():
    source = "연방 기관 리더 팀은 격주로 만나 연구소 활동을 조정합니다."
    faithful = "A team of federal agency leaders meets biweekly to coordinate institute activities."
    assert check_rendering(source, faithful, "en") == []
    drifted = "A team of international leaders meets regularly to adjust research center work."
    (problem,) = [p for p in check_rendering(source, drifted, "en") if p.startswith("term")]
    assert "연방 (federal)" in problem and "격주 (biweekly)" in problem
    assert "연구소 (institutes)" in problem


def test_a_dropped_name_is_flagged():
    problems = check_rendering(LIFT_KO, "The headquarters is in Detroit, Michigan.", "en")
    assert "name left out: LIFT" in problems


def test_renderings_are_cached_by_sentence_and_survive_a_restart(tmp_path):
    gen = FakeGenerator().queue(FUNDING_EN)
    first = _renderer(tmp_path, gen).render([FUNDING_KO], "en")
    assert [(r.status, r.text, r.cached) for r in first] == [("ok", FUNDING_EN, False)]
    assert len(gen.calls) == 1 and gen.calls[0]["grammar"] == NO_HANGUL_LINE
    again = _renderer(tmp_path, gen)  # a new process over the same build's cache
    (second,) = again.render([FUNDING_KO], "en")
    assert second.cached and second.text == FUNDING_EN
    assert len(gen.calls) == 1 and again.llm_calls == 0


def test_a_rendering_that_changed_a_number_is_withheld_and_not_shown_as_text(tmp_path):
    wrong = "In FY 2022 the institutes attracted $370 million."
    gen = FakeGenerator().queue(wrong, wrong)
    (r,) = _renderer(tmp_path, gen).render([FUNDING_KO], "en")
    assert r.status == "withheld" and any("370" in p for p in r.problems)
    assert r.attempts == 2 and len(gen.calls) == 2


def test_a_failed_check_asks_again_with_what_it_found(tmp_path):
    gen = FakeGenerator().queue("In FY 2022 the institutes attracted $370 million.", FUNDING_EN)
    (r,) = _renderer(tmp_path, gen).render([FUNDING_KO], "en")
    assert (r.status, r.text, r.attempts, r.problems) == ("ok", FUNDING_EN, 2, [])
    first, retry = gen.calls[0]["messages"], gen.calls[1]["messages"]
    assert retry[0] == first[0] and len(retry) == 2  # the same (warmed) system prompt
    assert retry[1]["content"].startswith(first[1]["content"])  # the same sentence, then
    assert "Do not add: $370 million" in retry[1]["content"]  # what the checks found


@pytest.mark.parametrize(
    ("problems", "hint"),
    [
        (["term left out: 연방 (federal), 후원 (sponsor)"], "Keep in the translation: federal; sponsor."),
        (["number left out: 2021년 4월", "name left out: ED, HHS"],
         "Keep in the translation: 2021년 4월; ED; HHS."),
        (["name not in the source: FDA"], "Do not add: FDA."),
        (["meaning: similarity 0.80 to the source is below 0.85"], None),
        (["polarity: a negation was added or lost"], None),
    ],
)  # fmt: skip
def test_the_next_attempt_is_told_what_to_keep_and_what_not_to_add(problems, hint):
    assert repair_hint(problems) == hint


def test_no_second_attempt_when_repairs_are_off(tmp_path):
    settings = _settings()
    settings.renderings.repair_attempts = 0
    gen = FakeGenerator().queue("In FY 2022 the institutes attracted $370 million.", FUNDING_EN)
    (r,) = Renderer(settings, lambda mode: gen, lambda: tmp_path / "r.sqlite").render(
        [FUNDING_KO], "en"
    )
    assert r.status == "withheld" and r.attempts == 1 and len(gen.calls) == 1


def test_an_answer_fills_in_after_it_was_shown(tmp_path):
    gen = FakeGenerator().queue(FUNDING_EN)
    renderer = _renderer(tmp_path, gen)
    ans = _answer("en", _citation(1, FUNDING_KO), _citation(2, LIFT_KO, record="institute:LIFT"))
    shown = renderer.pending(ans)  # what the final answer carries: no LLM call yet
    assert gen.calls == []
    assert [r.status for r in shown.citations[0].renderings] == ["pending"]
    row = shown.citations[1].renderings
    assert [(r.origin, r.status) for r in row] == [("record", "ok")]
    assert row[0].text.startswith("LIFT (Lightweight Innovations for Tomorrow)")
    assert "Detroit, Michigan" in row[0].text
    filled = renderer.fill_citation(shown.citations[0])
    assert [(r.status, r.text) for r in filled.renderings] == [("ok", FUNDING_EN)]
    assert len(gen.calls) == 1


def test_korean_readers_get_korean_renderings_of_english_sources(tmp_path):
    statute = "Each institute shall report to the Secretary not later than 2 years after 2014."
    gen = FakeGenerator().queue(
        "각 연구소는 2014년 이후 2년 이내에 장관에게 보고해야 합니다.",
        "각 연구소는 2014년 이후 3년 이내에 장관에게 보고해야 합니다.",
        "각 연구소는 2014년 이후 3년 이내에 장관에게 보고해야 합니다.",
    )
    renderer = Renderer(_settings(), lambda mode: gen, lambda: tmp_path / "k.sqlite")
    (r,) = renderer.fill(_answer("ko", _citation(1, statute))).citations[0].renderings
    assert r.lang == "ko" and gen.calls[0]["grammar"] is None
    assert r.status == "ok" and "장관" in r.text
    (bad,) = renderer.render([statute.replace("Secretary", "Director")], "ko")
    assert bad.status == "withheld" and any("3" in p for p in bad.problems)


def test_no_llm_no_renderings(tmp_path):
    settings = _settings()
    settings.llm.mode = "extractive"
    renderer = Renderer(settings, lambda mode: None, lambda: tmp_path / "x.sqlite")
    ans = _answer("en", _citation(1, FUNDING_KO))
    assert renderer.pending(ans).citations[0].renderings == []


def test_a_rebuild_carries_the_renderings_forward(tiny_bundle):
    from assistant.services import build_services

    settings = load_settings(profiles=["test"])
    services = build_services(settings)
    services.index_service().build(tiny_bundle)
    renderer = services.renderer
    renderer.settings.renderings.enabled = True
    store = renderer._store()
    assert store is not None
    store.put("k", "fake", QuoteRendering(source="s", lang="en", text="t", status="ok"))
    old_path = store.path
    services.index_service().build(tiny_bundle, force=True)
    services.retriever._snapshot = None  # reopen: the pointer moved
    new_store = services.renderer._store()
    assert new_store is not None and new_store.path != old_path
    assert new_store.get("k") is not None and new_store.get("k").text == "t"


def test_a_refusal_renders_the_nearest_passages_it_shows(tmp_path):
    gen = FakeGenerator().queue(FUNDING_EN)
    refusal = Answer(question="q", language="en", answer="The plan does not say.", refused=True,
                     related=[_citation(1, FUNDING_KO)])  # fmt: skip
    shown = _renderer(tmp_path, gen).fill(refusal)
    assert [(r.status, r.text) for r in shown.related[0].renderings] == [("ok", FUNDING_EN)]
    assert shown.citations == []


def test_a_rendering_far_in_meaning_from_its_source_is_withheld(tmp_path):
    gen = FakeGenerator().queue(FUNDING_EN, FUNDING_EN)
    renderer = Renderer(_settings(), lambda mode: gen, lambda: tmp_path / "r.sqlite",
                        similarity=lambda source, text: 0.5)  # fmt: skip
    (r,) = renderer.render([FUNDING_KO], "en")
    assert r.status == "withheld" and r.problems[0].startswith("meaning: similarity 0.50")
    assert r.attempts == 1  # nothing to name: no second attempt


def test_a_footnotes_bare_url_is_not_rendered():
    url = "Footnote 12: https://www.whitehouse.gov/briefing-room/2022/10/24/readout 제조-usa-이사/"
    assert quote_sentences(url) == []
    assert quote_sentences(FUNDING_KO) == [FUNDING_KO]


def test_the_warmed_rendering_prefix_starts_every_rendering_prompt(tmp_path):
    # The generator keeps a snapshot of each warmed prefix and restores it only for prompts that
    # start with it: the renderings' warm-up must be the exact start of their prompts.
    from assistant.components.llm import chatml

    gen = FakeGenerator().queue(FUNDING_EN)
    renderer = _renderer(tmp_path, gen)
    renderer.warm()
    warmed = [chatml(c["messages"], open_assistant=False) for c in gen.calls if c.get("warm")]
    assert len(warmed) == 2
    renderer.render([FUNDING_KO], "en")
    prompt = chatml(gen.calls[-1]["messages"])
    assert sum(prompt.startswith(w) for w in warmed) == 1


def test_korean_amounts_reach_the_model_in_their_english_form():
    # 억 is 10^8: the 1.5B model turned "6,440억 달러" into "$64.4 billion"; it copies the exact
    # English form it is given, and the check still compares with the Korean amount.
    user = build_messages(
        "민간 부문은 6,440억 달러를 투자했고 비용은 1,250억~1,500억 달러입니다.", "en"
    )[1]
    assert "$644 billion" in user["content"] and "$125 billion–$150 billion" in user["content"]
    assert "억" not in user["content"]
    src = "민간 부문은 6,440억 달러를 투자했습니다."
    assert check_rendering(src, "The private sector invested $644 billion.", "en") == []
    assert check_rendering(src, "The private sector invested $64.4 billion.", "en")
