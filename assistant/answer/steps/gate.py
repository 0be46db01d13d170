"""Step ``gate``: refuse before generating when the evidence cannot answer.

Three checks, each switchable for ablation:
* ``gate_score``: the best passage is far from the question (dense and sentence scores);
* ``gate_constraints``: a year, amount, percentage or country the question states is in none
  of the top passages ("… in FY2025?" when the plan has no FY2025 figure);
* ``gate_kind``: the question asks for an amount, percentage, count, date or person and no top
  passage states one.
"""

from __future__ import annotations

from assistant.answer.evidence import holds_kind
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step
from assistant.knowledge.glossary import glossary
from assistant.numbers import Quantity, find_quantities, same_quantity

_GATED_KINDS = ("amount", "percent", "count", "date", "person")


def run(state: AnswerState, deps: Deps) -> None:
    frame, cfg = state.frame, deps.settings.answer
    assert frame is not None
    units = state.units
    if not units:
        state.refuse(Step.GATE, Code.GATE_LOW_SCORE, "no evidence")
        return
    context = state.hits[: cfg.context_chunks]
    best_dense = max((h.dense_score or 0.0 for h in context), default=0.0)
    if state.enabled("gate_score") and (
        best_dense < cfg.min_dense_score or units[0].score < cfg.min_evidence_score
    ):
        state.refuse(
            Step.GATE, Code.GATE_LOW_SCORE, f"dense {best_dense:.3f}, sentence {units[0].score:.3f}"
        )
        return
    top = units[: cfg.gate_top_units]
    # A cited report's date (shown for questions about documents) dates the report, not the event.
    texts = [t for u in top for t in (u.quote, u.own_text)]
    if frame.about_documents:
        texts += [u.prompt_text for u in top]
    if state.enabled("gate_constraints"):
        found = [q for t in texts for q in find_quantities(t)]
        for c in frame.constraints:
            q = Quantity(c.value, c.unit, c.raw, 0, 0, c.upper)
            if not any(same_quantity(q, f) for f in found):
                state.refuse(Step.GATE, Code.GATE_CONSTRAINT_ABSENT, c.raw)
                return
        named = set().union(*(glossary().countries_in(t) for t in texts))
        if absent := sorted(set(frame.countries) - named):
            state.refuse(Step.GATE, Code.GATE_CONSTRAINT_ABSENT, absent[0])
            return
    kind = frame.main_kind
    if (
        state.enabled("gate_kind")
        and not frame.open_quantity
        and kind in _GATED_KINDS
        and not any(holds_kind(kind, t) for t in texts)
    ):
        state.refuse(Step.GATE, Code.GATE_KIND_ABSENT, kind)
        return
    state.note(Step.GATE, Code.GATE_PASS)
