"""Step ``renumber``: drop repeated sentences and number the cited units 1..k in the order the
answer cites them (a reader who sees "[2]" looks for a "[1]")."""

from __future__ import annotations

import dataclasses

from assistant.answer.markers import AnswerSentence
from assistant.answer.state import AnswerState, Deps
from assistant.answer.trace import Code, Step


def dedupe(sentences: list[AnswerSentence]) -> list[AnswerSentence]:
    seen: set[str] = set()
    out = []
    for s in sentences:
        if s.render() not in seen:
            seen.add(s.render())
            out.append(s)
    return out


def merge_records(state: AnswerState) -> None:
    """A two-part question: the records part first, then the prose part, numbered apart."""
    offset = len(state.record_units)
    for s in state.sentences:
        s.markers = [m + offset for m in s.markers]
    state.units = [
        *state.record_units,
        *(dataclasses.replace(u, n=u.n + offset) for u in state.units),
    ]
    state.sentences = [*state.record_sentences, *state.sentences]


def run(state: AnswerState, deps: Deps) -> None:
    if state.route == "both" and state.record_sentences:
        merge_records(state)
    state.sentences = dedupe(state.sentences)
    order = list(dict.fromkeys(n for s in state.sentences for n in s.markers))
    new_n = {old: i for i, old in enumerate(order, start=1)}
    for s in state.sentences:
        s.markers = [new_n[m] for m in s.markers]
    state.units = [dataclasses.replace(u, n=new_n[u.n]) for u in state.units if u.n in new_n]
    state.units.sort(key=lambda u: u.n)
    if order != list(range(1, len(order) + 1)):
        state.note(Step.RENUMBER, Code.RENUMBERED, " ".join(f"{o}->{n}" for o, n in new_n.items()))
