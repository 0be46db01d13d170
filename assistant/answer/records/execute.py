"""Run a :class:`RecordQuery` over the reviewed records: exact, no LLM."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answer.records.query import RecordQuery
from assistant.knowledge.records import records
from assistant.types import AgencyRecord, GoalRecord, InstituteRecord, ObjectiveRecord

Record = InstituteRecord | GoalRecord | ObjectiveRecord | AgencyRecord


@dataclass
class RecordResult:
    query: RecordQuery
    items: list[Record] = field(default_factory=list)
    count: int | None = None
    group: str | None = None  # the agency of "which agency sponsors the most institutes"
    parent: GoalRecord | None = None  # the goal of an objective / of listed objectives


def _matches(r: InstituteRecord, q: RecordQuery) -> bool:
    if q.agency and r.agency != q.agency:
        return False
    if q.not_agency and r.agency == q.not_agency:
        return False
    if q.states and not any(loc.state in q.states for loc in r.locations):
        return False
    if q.not_states and any(loc.state in q.not_states for loc in r.locations):
        return False
    if q.cities and not any(loc.city in q.cities for loc in r.locations):
        return False
    if q.institutes and r.acronym not in q.institutes:
        return False
    if q.year and q.year.month:  # a founding date to the month ("after the ARM Institute")
        y = q.year
        mine, theirs = (r.year, r.month), (y.year, y.month)
        if r.acronym == y.anchor or (mine >= theirs if y.op == "before" else mine <= theirs):
            return False
    elif q.year:
        y = q.year
        if y.op == "eq" and r.year != y.year:
            return False
        if y.op == "before" and not (r.year < y.year or (y.inclusive and r.year == y.year)):
            return False
        if y.op == "after" and not (r.year > y.year or (y.inclusive and r.year == y.year)):
            return False
        if y.op == "between" and not (y.year <= r.year <= (y.year_to or y.year)):
            return False
        if y.op == "in" and r.year not in y.years:
            return False
    return True


def execute(q: RecordQuery) -> RecordResult:
    recs = records()
    if q.table == "institutes":
        rows = [r for r in recs.institutes if _matches(r, q)]
        if q.action == "lookup":
            order = {a: i for i, a in enumerate(q.institutes)}
            rows = sorted(
                (r for r in recs.institutes if r.acronym in order), key=lambda r: order[r.acronym]
            )
            return RecordResult(q, rows)
        if q.action in ("first", "last") and rows:
            pick = min if q.action == "first" else max
            when = pick(r.established for r in rows)
            return RecordResult(q, [r for r in rows if r.established == when])
        if q.distinct:
            values = {
                loc.state if q.distinct == "states" else loc.city
                for r in rows
                for loc in r.locations
            }
            return RecordResult(q, rows, count=len(values), group=", ".join(sorted(values)))
        return RecordResult(q, rows, count=len(rows) if q.action == "count" else None)
    if q.table == "agencies":
        if q.action == "most":
            counts = {
                a.key: sum(1 for r in recs.institutes if r.agency == a.key) for a in recs.agencies
            }
            best = max(counts.values())
            winners = [a for a in recs.agencies if counts[a.key] == best]
            rows = [r for r in recs.institutes if r.agency in {w.key for w in winners}]
            return RecordResult(q, rows, count=best, group=",".join(w.key for w in winners))
        rows = [a for a in recs.agencies if q.role is None or a.role == q.role]
        return RecordResult(q, rows, count=len(rows) if q.action == "count" else None)
    if q.table == "goals":
        if q.action == "most":  # the goal(s) with the most objectives
            best = max(len(g.objectives) for g in recs.goals)
            rows = [g for g in recs.goals if len(g.objectives) == best]
            return RecordResult(q, rows, count=best)
        rows = [g for g in recs.goals if q.goal is None or g.number == q.goal]
        return RecordResult(q, rows, count=len(rows) if q.action == "count" else None)
    # objectives
    if q.objective:
        goal = next(g for g in recs.goals if any(o.number == q.objective for o in g.objectives))
        obj = next(o for o in goal.objectives if o.number == q.objective)
        return RecordResult(q, [obj], parent=goal)
    goals = [g for g in recs.goals if q.goal is None or g.number == q.goal]
    rows = [o for g in goals for o in g.objectives]
    if q.objectives:  # described by their title words
        rows = [o for o in rows if o.number in q.objectives]
        goals = [g for g in goals if any(o in rows for o in g.objectives)]
    return RecordResult(
        q,
        rows,
        count=len(rows) if q.action == "count" else None,
        parent=goals[0] if len(goals) == 1 and not q.objectives else None,
    )
