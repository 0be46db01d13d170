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
