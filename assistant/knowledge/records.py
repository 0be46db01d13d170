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
