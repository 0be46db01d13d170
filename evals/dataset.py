"""The eval question format (one JSON object per line) and its loader."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.errors import AssistantError
from assistant.types import Turn


class AlsoEvidence(BaseModel):
    """Another place where the plan states the same fact (the plan repeats figures and goals)."""

    evidence: str
    page: int


class EvalQuestion(BaseModel):
    id: str
    split: str = Field("dev", description="dev: may be tuned on; test: frozen, never tuned on.")
    lang: str
    question: str
    history: list[Turn] = Field(default_factory=list)
    answerable: bool = True
    answer_keys: list[list[str]] = Field(default_factory=list)
    evidence: str = ""
    page: int | None = None
    also_evidence: list[AlsoEvidence] = Field(default_factory=list)
    type: str = "fact"

    def golds(self) -> list[tuple[str, int | None]]:
        """(evidence, page) of every passage that states the answer, the main one first."""
        return [(self.evidence, self.page)] + [(a.evidence, a.page) for a in self.also_evidence]


DEFAULT_FILES = ("evals/questions.jsonl", "evals/questions-test.jsonl")


def load_question_files(paths: list[Path]) -> list[EvalQuestion]:
    """Several question files as one set (ids must stay unique)."""
    out: list[EvalQuestion] = []
    for path in paths:
        out.extend(load_questions(path))
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise AssistantError(f"question ids appear twice: {', '.join(dup[:5])}")
    return out


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question file; a broken line names its line number."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"cannot read question file {path}: {exc}") from exc
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuestion.model_validate(json.loads(line)))
        except Exception as exc:  # noqa: BLE001 - json or validation error, same message
            raise AssistantError(f"{path}:{no}: not a valid question line: {exc}") from exc
    return out
