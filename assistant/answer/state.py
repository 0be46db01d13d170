"""What the answer steps share: the per-question state and the per-process dependencies."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from assistant.answer.evidence import EvidenceUnit
from assistant.answer.frame import QuestionFrame
from assistant.answer.markers import AnswerSentence
from assistant.answer.trace import Code, Step, decision
from assistant.components.llm import Generator
from assistant.settings import Settings
from assistant.types import AnswerEvent, Decision, Hit, Query, Turn

Emit = Callable[[AnswerEvent], None]

# Decisions a run may switch off (`assistant eval --without NAME`, settings answer.disabled_steps),
# to measure what each one does to accuracy.
ABLATABLE = (
    "records",  # route: answer lookups/lists/counts from the plan's records
    "reading",  # route: compare an unsure record query, read back, with the question (embeddings)
    "query_llm",  # route: let the LLM fill the record query when the rules are unsure
    "gate_score",  # gate: refuse when the best passages score low
    "gate_constraints",  # gate: refuse when a year/amount/country the question states is absent
    "gate_kind",  # gate: refuse when no top passage holds the kind of fact asked
    "evidence_parts",  # evidence: add a sentence for the second part of a two-part question
    "other_rows",  # evidence: skip Table 1 rows of institutes the question does not name
    "recite",  # verify: move a marker to the passage that holds the claim
    "recover_retry",  # recover: one more generation from the strongest passage
    "recover_drop",  # recover: drop unsupported sentences when others are supported
    "language_fallback",  # language: quote the passages when the answer is in the wrong language
)


class Retrieval(Protocol):
    def embed_query(self, query: Query) -> np.ndarray: ...

    def search(
        self, query: Query, mode: str | None = None, qvec: np.ndarray | None = None
    ) -> list[Hit]: ...

    def sentences(self, hits: list[Hit], qvec: np.ndarray) -> list[list[tuple[str, float]]]: ...

    def bm25_tokens(self, query: Query) -> list[str]: ...


@dataclass
class Deps:
    """Per-process dependencies, shared by every question (built once by the service)."""

    settings: Settings
    retriever: Any  # assistant.retrieve.Retriever (Retrieval + record chunk lookup)
    embedder: Any  # assistant.components.embedding.Embedder
    generator: Callable[[str], Generator | None]


@dataclass
class AnswerState:
    """One question on its way through the steps."""

    question: str | bytes | None
    history: list[Turn]
    mode: str
    disabled: frozenset[str] = frozenset()
    t0: float = field(default_factory=time.perf_counter)
    # filled by the steps, in order
    text: str = ""
    notices: list[str] = field(default_factory=list)  # message keys (see assistant.answer.messages)
    problem: str | None = None  # input problem: nothing to answer
    frame: QuestionFrame | None = None
    query: Query | None = None
    qvec: np.ndarray | None = None
    hits: list[Hit] = field(default_factory=list)
    units: list[EvidenceUnit] = field(default_factory=list)
    record_sentences: list[AnswerSentence] = field(default_factory=list)
    route: str = "prose"  # prose | records | both
    record_queries: list[Any] = field(
        default_factory=list
    )  # RecordQuery (two for a two-part question)
    record_units: list[EvidenceUnit] = field(default_factory=list)
    records_only: bool = False
    raw: str = ""
    not_found: bool = False
    sentences: list[AnswerSentence] = field(default_factory=list)
    unresolved: int = 0
    dropped: int = 0
    llm_calls: int = 0
    refusal: Code | None = None
    trace: list[Decision] = field(default_factory=list)
    retrieve_s: float = 0.0
    first_token_s: float | None = None
    llm_id: str = ""

    @property
    def lang(self) -> str:
        return self.frame.lang if self.frame else "en"

    def note(self, step: Step, code: Code, detail: str = "") -> None:
        self.trace.append(decision(step, code, detail))

    def enabled(self, name: str) -> bool:
        return name not in self.disabled

    def mark_first_token(self) -> None:
        if self.first_token_s is None:
            self.first_token_s = time.perf_counter() - self.t0

    def refuse(self, step: Step, code: Code, detail: str = "") -> None:
        self.refusal = code
        self.note(step, code, detail)

    @property
    def units_by_n(self) -> dict[int, EvidenceUnit]:
        return {u.n: u for u in self.units}
