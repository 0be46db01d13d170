"""Answer text -> sentences with their [n] markers (and back).

Every answer sentence must end with [n] markers that resolve to an evidence unit; markers
that resolve to nothing are removed and counted, and a sentence left without one is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer.claims import ClaimCheck

_MARKER = re.compile(r"\[(\d{1,2})\]")
_MOVE = re.compile(r"([.!?。])\s*((?:\[\d{1,2}\]\s*)+)")  # ". [1]" -> " [1]."
_SPLIT = re.compile(r"(?<=[.!?。])\s+(?=\S)")
_DOTTED_END = re.compile(r"\b(?:[A-Za-z]\.){2,}$")  # U.S.C. (a single "B." may end a sentence)
_ABBREV = re.compile(
    r"(?:\bU\.S\.|\bPub\.|\be\.g\.|\bi\.e\.|\bpp?\.|\bNo\.|\bDr\.|\bvs\.|\bSt\.|\b[A-Z]\.)$"
)


@dataclass
class AnswerSentence:
    text: str  # without markers
    markers: list[int]
    check: ClaimCheck | None = None
    origin: str = "generated"  # generated | retry | quoted | records
    history: list[str] = field(default_factory=list)  # codes of what happened to it

    @property
    def state(self) -> str:
        return self.check.state if self.check else "unsupported"

    def render(self) -> str:
        marks = "".join(f"[{n}]" for n in self.markers)
        body = self.text.rstrip(" .。")
        end = "." if not re.search(r"[!?]$", body) else ""
        return f"{body} {marks}{end}".strip()


def split_sentences(answer: str) -> list[tuple[str, list[int]]]:
    answer = answer.strip()

    def move(m: re.Match[str]) -> str:
        if _DOTTED_END.search(
            answer[: m.start() + 1]
        ):  # "U.S.C. [2] 에서": the dot is the abbreviation's
            return m.group(0)
        return " " + re.sub(r"\s+", "", m.group(2)) + m.group(1) + " "

    text = _MOVE.sub(move, answer)
    # Split after a sentence-final mark, but never inside "1.9" or after "U.S." / "p.".
    parts: list[str] = []
    start = 0
    for m in _SPLIT.finditer(text):
        before = text[start : m.start()]
        if _ABBREV.search(before):
            continue
        parts.append(before.strip())
        start = m.end()
    parts.append(text[start:].strip())
    parts = [p for p in parts if p]
    out = []
    for p in parts:
        markers = [int(x) for x in _MARKER.findall(p)]
        body = _MARKER.sub("", p).strip()
        body = re.sub(r"\s+([.!?。])", r"\1", re.sub(r"\s{2,}", " ", body))
        if body.strip(" .。"):
            out.append((body, markers))
    return out


def resolve(
    answer: str, valid: set[int], origin: str = "generated"
) -> tuple[list[AnswerSentence], int, int]:
    """Sentences with valid markers; returns (kept, unresolved markers, dropped sentences)."""
    kept: list[AnswerSentence] = []
    unresolved = dropped = 0
    for body, markers in split_sentences(answer):
        good = list(dict.fromkeys(m for m in markers if m in valid))
        unresolved += sum(1 for m in markers if m not in valid)
        if not good:
            dropped += 1
            continue
        kept.append(AnswerSentence(body, good, origin=origin))
    return kept, unresolved, dropped


def render(sentences: list[AnswerSentence]) -> str:
    """The answer text; list items ("- …") go on their own lines."""
    out = ""
    for s in sentences:
        text = s.render()
        out += ("\n" if out and text.startswith("- ") else " " if out else "") + text
    return out
