"""The plan's structure as reviewed records (``corpus/records/*.yaml``): Table 1 (institutes),
Table 2 (goals and objectives), Figure 1 / Appendix A (agencies)."""

from __future__ import annotations

from functools import lru_cache

from assistant.knowledge.data import load_yaml
from assistant.types import AgencyRecord, GoalRecord, InstituteRecord, Records


@lru_cache(maxsize=1)
def records() -> Records:
    inst = load_yaml("records/institutes.yaml")
    goals = load_yaml("records/goals.yaml")
    agencies = load_yaml("records/agencies.yaml")
    return Records(
        institutes=[
            InstituteRecord.model_validate({**r, "established": str(r["established"])})
            for r in inst["institutes"]
        ],
        goals=[GoalRecord.model_validate(g) for g in goals["goals"]],
        agencies=[AgencyRecord.model_validate(a) for a in agencies["agencies"]],
        agencies_evidence_ko_mt=agencies.get("evidence_ko_mt", ""),
        agencies_evidence_page=agencies.get("evidence_page", 2),
    )


def english_text(record_id: str | None) -> str | None:
    """A Table 1 row or Table 2 goal in English, from its record's reviewed English values
    (None for anything else)."""
    record = records().by_id(record_id) if record_id else None
    if isinstance(record, InstituteRecord):
        return (
            f"{record.acronym} ({record.full_name_en}) — headquarters: {record.hq_en}; established: "
            f"{record.established_en}; sponsoring agency: {record.agency}; technology focus: "
            f"{record.focus_en}"
        )
    if isinstance(record, GoalRecord):
        objectives = "; ".join(f"Objective {o.number}: {o.title_en}" for o in record.objectives)
        return f"Goal {record.number}: {record.title_en}. Objectives: {objectives}"
    return None
