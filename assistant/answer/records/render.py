"""A :class:`RecordResult` as answer sentences in the asker's language, each item cited to its own
row (Table 1 rows, Table 2 goals, the p. 2 agency sentence), with the real English names; goals
and objectives are quoted, never paraphrased. A count is the length of the list it introduces."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.records.execute import RecordResult
from assistant.answer.records.query import RecordQuery
from assistant.knowledge.glossary import glossary
from assistant.knowledge.records import records
from assistant.types import _MONTHS_EN, AgencyRecord, GoalRecord, InstituteRecord, ObjectiveRecord


@dataclass
class RenderedSentence:
    text: str
    cites: list[str]  # record ids (or "agencies") of the rows it stands on


_ROLE_ORDER = ("sponsoring", "participating")


def _agency_en(key: str) -> str:
    return f"the {glossary().by_key[key].name_en} ({key})"


def _agency_ko(key: str) -> str:
    a = next((x for x in records().agencies if x.key == key), None)
    return f"{a.name_ko if a else key}({key})"


def _focus_ko(r: InstituteRecord) -> str:
    return glossary().fix_artifacts(r.focus_ko_mt)


def _place_ko(name: str, is_state: bool) -> str:
    place = next(
        (p for p in glossary().places if p.en == name and (p.kind == "state") == is_state), None
    )
    return place.ko[0] if place and place.ko else name


def _filter_phrase(q: RecordQuery, lang: str) -> str:
    parts: list[str] = []
    if lang == "en":
        if q.agency:
            parts.append(f"sponsored by {_agency_en(q.agency)}")
        if q.not_agency:
            parts.append(f"sponsored by an agency other than {_agency_en(q.not_agency)}")
        places = [*q.cities, *q.states]
        if places:
            parts.append("headquartered in " + " or ".join(places))
        if q.not_states:
            parts.append("headquartered outside " + " and ".join(q.not_states))
        if q.year and q.year.month:
            y = q.year
            when = f"{_MONTHS_EN[y.month - 1]} {y.year}"
            parts.append(f"established {y.op} {y.anchor or when} ({when})")
        elif q.year:
            y = q.year
            if y.op == "between":
                parts.append(f"established from {y.year} to {y.year_to} (inclusive)")
            elif y.op == "in":
                parts.append("established in " + " or ".join(map(str, y.years)))
            else:
                word = {"eq": "in", "before": "before", "after": "after"}[y.op]
                if y.inclusive:
                    word = {"before": "in or before", "after": "in or after"}.get(y.op, word)
                parts.append(f"established {word} {y.year}")
        return " and ".join(parts)
    if q.agency:
        parts.append(f"{_agency_ko(q.agency)}가 후원하는")
    if q.not_agency:
        parts.append(f"{_agency_ko(q.not_agency)} 외의 기관이 후원하는")
    places = [*q.cities, *q.states]
    if places:
        ko = [_place_ko(name, name in q.states) for name in places]
        parts.append(" 또는 ".join(ko) + "에 본사를 둔")
    if q.not_states:
        ko = [_place_ko(name, True) for name in q.not_states]
        parts.append(" 및 ".join(ko) + " 외의 주에 본사를 둔")
    if q.year and q.year.month:
        y = q.year
        when = f"{y.year}년 {y.month}월"
        suffix = "보다 전에" if y.op == "before" else "보다 뒤에"
        parts.append(f"{y.anchor}({when}){suffix} 설립된" if y.anchor else f"{when}{suffix} 설립된")
    elif q.year and q.year.op == "between":
        parts.append(f"{q.year.year}년부터 {q.year.year_to}년까지 설립된")
    elif q.year and q.year.op == "in":
        parts.append(" 또는 ".join(f"{y}년" for y in q.year.years) + "에 설립된")
    elif q.year:
        y = q.year
        suffix = {
            "eq": "에",
            "before": " 이전에" if y.inclusive else "보다 전에",
            "after": " 이후에" if y.inclusive else "보다 뒤에",
        }[y.op]
        parts.append(f"{y.year}년{suffix} 설립된")
    return " ".join(parts)


def _institute_item(r: InstituteRecord, lang: str, q: RecordQuery) -> str:
    if lang == "en":
        return (
            f"- {r.acronym} ({r.full_name_en}): {r.focus_en[0].lower() + r.focus_en[1:]}; {r.hq_en}; "
            f"{r.agency}; established {r.established_en}"
        )
    return f"- {r.acronym}: {_focus_ko(r)}; {r.hq_ko_mt}; {_agency_ko(r.agency)}; {r.established_ko} 설립"


def _lookup(r: InstituteRecord, fields: list[str], lang: str) -> str:
    en: list[str] = []
    ko: list[str] = []
    for f in fields or ["hq", "agency", "established", "focus"]:
        if f == "hq":
            en.append(f"is headquartered in {r.hq_en}")
            ko.append(f"본사는 {r.hq_ko_mt}에 있습니다")
        elif f == "agency":
            en.append(f"is sponsored by {_agency_en(r.agency)}")
            ko.append(f"후원 기관은 {_agency_ko(r.agency)}입니다")
        elif f == "established":
            en.append(f"was established in {r.established_en}")
            ko.append(f"설립 시기는 {r.established_ko}입니다")
        elif f == "focus":
            en.append(f"works on {r.focus_en[0].lower() + r.focus_en[1:]}")
            ko.append(f"기술 중점 영역은 {_focus_ko(r)}입니다")
        elif f == "name":
            en.append(f"stands for {r.full_name_en}")
            ko.append(f"정식 명칭은 {r.full_name_en}입니다")
    if lang == "en":
        body = en[0] if len(en) == 1 else ", ".join(en[:-1]) + " and " + en[-1]
        return f"{r.acronym} ({r.full_name_en}) {body}"
    return f"{r.acronym}의 " + ", ".join(ko)


def _quote_goal(g: GoalRecord, lang: str) -> str:
    return (
        f"Goal {g.number}: “{g.title_en}”"
        if lang == "en"
        else f"목표 {g.number}: “{g.title_ko_mt}”"
    )


def _quote_objective(o: ObjectiveRecord, lang: str) -> str:
    return (
        f"Objective {o.number}: “{o.title_en}”"
        if lang == "en"
        else f"목표 {o.number}: “{o.title_ko_mt}”"
    )


def _goal_of(o: ObjectiveRecord) -> GoalRecord:
    return next(g for g in records().goals if any(x.number == o.number for x in g.objectives))


def render_result(res: RecordResult, lang: str) -> list[RenderedSentence]:
    q = res.query
    out: list[RenderedSentence] = []
    items = res.items
    if q.table == "institutes" or (q.table == "agencies" and q.action == "most"):
        rows = [r for r in items if isinstance(r, InstituteRecord)]
        if q.action == "lookup":
            return [RenderedSentence(_lookup(r, q.fields, lang), [r.id]) for r in rows]
        phrase = _filter_phrase(q, lang)
        if not rows:
            text = (
                f"None of the 17 institutes in Table 1 is {phrase}"
                if lang == "en"
                else f"표 1의 17개 연구소 중 {phrase} 연구소는 없습니다"
            )
            first = [records().institutes[0].id, records().institutes[-1].id]
            return [RenderedSentence(text, first)]
        n = len(rows)
        if q.action in ("first", "last"):
            word = "first" if q.action == "first" else "most recently"
            if lang == "en":
                who = " and ".join(r.acronym for r in rows)
                scope = f" of the institutes {phrase}" if phrase else ""
                verb = "was" if n == 1 else "were"
                lead = (
                    f"{who} {verb} established {word}{scope}, in {rows[0].established_en}"
                    if q.action == "first"
                    else f"{who} {verb} the most recently established{scope}, in {rows[0].established_en}"
                )
            else:
                who = ", ".join(r.acronym for r in rows)
                scope = f"{phrase} 연구소 중 " if phrase else ""
                lead = (
                    f"{scope}가장 먼저 설립된 연구소는 {who}({rows[0].established_ko})입니다"
                    if q.action == "first"
                    else f"{scope}가장 최근에 설립된 연구소는 {who}({rows[0].established_ko})입니다"
                )
            out.append(RenderedSentence(lead, [rows[0].id]))
            filtered = {
                "established",
                "agency" if q.agency else "",
                "hq" if q.states or q.cities else "",
            }
            asked = [f for f in q.fields if f not in filtered]
            if asked:  # "the newest one, and where is it?": the asked fields of each
                return out + [RenderedSentence(_lookup(r, asked, lang), [r.id]) for r in rows]
            return (
                out + [RenderedSentence(_institute_item(r, lang, q), [r.id]) for r in rows[1:]]
                if n > 1
                else out
            )
        if q.distinct:
            noun_en = "states" if q.distinct == "states" else "cities"
            noun_ko = "주" if q.distinct == "states" else "도시"
            scope_en = f"the institutes {phrase}" if phrase else "the 17 institutes"
            lead = (
                f"{scope_en[0].upper() + scope_en[1:]} are headquartered in {res.count} {noun_en} "
                f"({res.group}):"
                if lang == "en"
                else f"{(phrase + ' ') if phrase else ''}연구소의 본사가 있는 {noun_ko}는 {res.count}곳입니다 ({res.group}):"
            )
        elif q.table == "agencies":  # the agency that sponsors the most institutes
            key = res.group or rows[0].agency
            lead = (
                f"{_agency_en(key)[0].upper() + _agency_en(key)[1:]} sponsors {n} institutes, the most of the "
                f"three sponsoring agencies:"
                if lang == "en"
                else f"가장 많은 연구소를 후원하는 기관은 {_agency_ko(key)}로, {n}곳을 후원합니다:"
            )
        elif lang == "en":
            noun = "institute" if n == 1 else "institutes"
            verb = "is" if n == 1 else "are"
            lead = f"{n} {noun} {verb} {phrase}:" if phrase else f"Table 1 lists {n} {noun}:"
            if q.by_focus and not phrase:
                lead = f"{n} {noun} match:"
        else:
            lead = (
                f"{phrase} 연구소는 {n}곳입니다:"
                if phrase
                else f"표 1에 실린 연구소는 {n}곳입니다:"
            )
        lines = [_institute_item(r, lang, q) for r in rows]
        out.append(RenderedSentence(f"{lead}\n{lines[0]}", [rows[0].id]))
        out += [RenderedSentence(line, [r.id]) for line, r in zip(lines[1:], rows[1:], strict=True)]
        return out
    if q.table == "agencies":
        agencies = [a for a in items if isinstance(a, AgencyRecord)]
        n = len(agencies)
        if lang == "en":
            names = ", ".join(f"{a.key} ({a.name_en})" for a in agencies)
            role = {
                "sponsoring": "sponsoring agencies (they sponsor institutes)",
                "participating": "participating agencies",
            }.get(q.role or "", "federal partner agencies")
            text = f"Manufacturing USA has {n} {role}: {names}"
            if not q.role and q.action == "list":  # both roles: say which is which (Figure 1)
                by_role = {r: [a.key for a in agencies if a.role == r] for r in _ROLE_ORDER}
                text += (
                    f"; {len(by_role['sponsoring'])} sponsor institutes "
                    f"({', '.join(by_role['sponsoring'])}) and {len(by_role['participating'])} "
                    f"participate ({', '.join(by_role['participating'])})"
                )
        else:
            names = ", ".join(f"{a.name_ko}({a.key})" for a in agencies)
            role = {"sponsoring": "후원 기관", "participating": "참여 기관"}.get(
                q.role or "", "연방 파트너 기관"
            )
            text = f"Manufacturing USA의 {role}은 {n}곳입니다: {names}"
            if not q.role and q.action == "list":
                by_role = {r: [a.key for a in agencies if a.role == r] for r in _ROLE_ORDER}
                text += (
                    f". 이 중 후원 기관은 {len(by_role['sponsoring'])}곳"
                    f"({', '.join(by_role['sponsoring'])}), 참여 기관은 "
                    f"{len(by_role['participating'])}곳({', '.join(by_role['participating'])})입니다"
                )
        return [RenderedSentence(text, ["agencies"])]
    if q.table == "goals":
        goals = [g for g in items if isinstance(g, GoalRecord)]
        if q.action == "lookup" and len(goals) == 1 and q.fields == ["outcome"]:
            g = goals[0]
            text = (
                f"The expected outcome of {_quote_goal(g, 'en')} is (English rendering of the Korean text): "
                f"“{g.outcome_en.rstrip('.')}”"
                if lang == "en"
                else f"{_quote_goal(g, 'ko')}의 기대 결과는 “{g.outcome_ko_mt.rstrip('.')}”입니다"
            )
            return [RenderedSentence(text, [g.id])]
        if q.action == "most" and len(goals) > 1:
            lead = (
                f"{len(goals)} goals share the largest number of objectives ({res.count} each):"
                if lang == "en"
                else f"세부 목표가 가장 많은 목표는 {len(goals)}개로, 각각 {res.count}개입니다:"
            )
            lines = [f"- {_quote_goal(g, lang)}" for g in goals]
            return [RenderedSentence(f"{lead}\n{lines[0]}", [goals[0].id])] + [
                RenderedSentence(x, [g.id]) for x, g in zip(lines[1:], goals[1:], strict=True)
            ]
        if q.action in ("lookup", "most") and len(goals) == 1:
            g = goals[0]
            most = q.action == "most"
            lead = (
                f"{_quote_goal(g, 'en')} has {len(g.objectives)} objectives"
                + (", the most of the 4 goals:" if most else ":")
                if lang == "en"
                else f"{_quote_goal(g, 'ko')}에는 세부 목표가 {len(g.objectives)}개 있습니다"
                + ("(4개 목표 중 가장 많음):" if most else ":")
            )
            lines = [f"- {_quote_objective(o, lang)}" for o in g.objectives]
            return [RenderedSentence(f"{lead}\n{lines[0]}", [g.id])] + [
                RenderedSentence(x, [g.id]) for x in lines[1:]
            ]
        n = len(goals)
        lead = (
            f"The plan sets {n} strategic goals (Table 2):"
            if lang == "en"
            else f"전략 목표는 {n}가지입니다(표 2):"
        )
        lines = [f"- {_quote_goal(g, lang)}" for g in goals]
        out.append(RenderedSentence(f"{lead}\n{lines[0]}", [goals[0].id]))
        return out + [
            RenderedSentence(x, [g.id]) for x, g in zip(lines[1:], goals[1:], strict=True)
        ]
    # objectives
    objs = [o for o in items if isinstance(o, ObjectiveRecord)]
    if q.action == "goal_of" and objs:
        o, g = objs[0], res.parent or _goal_of(objs[0])
        text = (
            f"{_quote_objective(o, 'en')} belongs to {_quote_goal(g, 'en')}"
            if lang == "en"
            else f"{_quote_objective(o, 'ko')}는 {_quote_goal(g, 'ko')}에 속합니다"
        )
        return [RenderedSentence(text, [g.id])]
    if q.action == "lookup" and objs:
        o = objs[0]
        g = res.parent or _goal_of(o)
        text = (
            f"{_quote_objective(o, 'en')} (under Goal {g.number})"
            if lang == "en"
            else f"{_quote_objective(o, 'ko')} (목표 {g.number}의 세부 목표)"
        )
        return [RenderedSentence(text, [g.id])]
    n = len(objs)
    if res.parent is not None:
        g = res.parent
        lead = (
            f"{_quote_goal(g, 'en')} has {n} objectives:"
            if lang == "en"
            else f"{_quote_goal(g, 'ko')}의 세부 목표는 {n}개입니다:"
        )
    elif q.objectives:
        lead = (
            f"{n} objectives of Table 2 fit this description:"
            if lang == "en"
            else f"표 2에서 이에 해당하는 세부 목표는 {n}개입니다:"
        )
    else:
        lead = (
            f"Table 2 lists {n} objectives under the 4 goals:"
            if lang == "en"
            else f"표 2에는 4개 목표 아래 세부 목표 {n}개가 있습니다:"
        )
    lines = [f"- {_quote_objective(o, lang)}" for o in objs]
    first_goal = _goal_of(objs[0]).id if objs else ""
    out.append(RenderedSentence(f"{lead}\n{lines[0]}", [first_goal]))
    return out + [
        RenderedSentence(x, [_goal_of(o).id]) for x, o in zip(lines[1:], objs[1:], strict=True)
    ]


_READ_FIELD = {
    "hq": "where is {x} headquartered",
    "agency": "which agency sponsors {x}",
    "established": "when was {x} established",
    "focus": "what technology does {x} work on",
    "name": "what is the full name of {x}",
    "outcome": "what are the expected outcomes of {x}",
}
_READ_HEAD = {
    "count": "How many institutes are",
    "first": "Which institute was established first among institutes",
    "last": "Which institute was established most recently among institutes",
    "list": "Which institutes are",
    "most": "Which agency sponsors the most institutes",
}


_READ_FIELD_KO = {
    "hq": "{x}의 본사는 어디에 있나요",
    "agency": "{x}를 후원하는 기관은 어디인가요",
    "established": "{x}는 언제 설립되었나요",
    "focus": "{x}는 어떤 기술 분야를 다루나요",
    "name": "{x}의 정식 명칭은 무엇인가요",
    "outcome": "{x}의 기대 결과는 무엇인가요",
}
_READ_HEAD_KO = {
    "count": "{p} 연구소는 몇 곳인가요",
    "first": "{p} 연구소 중 가장 먼저 설립된 곳은 어디인가요",
    "last": "{p} 연구소 중 가장 최근에 설립된 곳은 어디인가요",
    "list": "{p} 연구소는 어디인가요",
    "most": "가장 많은 연구소를 후원하는 기관은 어디인가요",
}


def reading(q: RecordQuery, lang: str = "en") -> str:
    """The query read back as a plain question (in the asker's language for Table 1 queries).
    The route compares it with the asked question (embeddings) when the rules left words
    unplaced: does this reading answer it?"""
    if q.table == "institutes" and lang == "ko":
        if q.action == "lookup":
            x = ", ".join(q.institutes)
            return "; ".join(_READ_FIELD_KO[f].format(x=x) for f in (q.fields or ["focus"]))
        return _READ_HEAD_KO[q.action].format(p=_filter_phrase(q, "ko")).strip()
    if q.table == "institutes":
        if q.action == "lookup":
            x = " and ".join(q.institutes)
            return "; ".join(_READ_FIELD[f].format(x=x) for f in (q.fields or ["focus"]))
        bits = []
        if q.agency:
            bits.append(f"sponsored by {q.agency}")
        if q.states or q.cities:
            bits.append("headquartered in " + " or ".join([*q.cities, *q.states]))
        if q.year:
            bits.append(f"established {q.year.op} {q.year.year}")
        return f"{_READ_HEAD[q.action]} {' and '.join(bits)}".strip()
    plan = "of the Manufacturing USA strategic plan"
    if q.table == "agencies":
        if q.action == "most":
            return _READ_HEAD["most"]
        who = {
            "sponsoring": "federal agencies sponsor Manufacturing USA institutes",
            "participating": "federal agencies participate in Manufacturing USA without sponsoring",
        }.get(
            q.role or "",
            "federal agencies are partners of Manufacturing USA, sponsoring or participating",
        )
        return f"{'How many' if q.action == 'count' else 'Which'} {who}"
    if q.table == "goals":
        return (
            f"What is Goal {q.goal} {plan}"
            if q.goal
            else f"What are the four strategic goals {plan}"
        )
    if q.objective:
        tail = " and which goal does it belong to" if q.action == "goal_of" else ""
        return f"What is Objective {q.objective} {plan}{tail}"
    return (
        f"What are the objectives under Goal {q.goal} {plan}"
        if q.goal
        else f"What are the objectives {plan}"
    )
