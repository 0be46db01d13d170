"""Question hygiene at the edge: bad input gets a clear message in the asker's language.

Control characters and lone surrogates are removed, overlong questions cut, and sentences that
give the assistant instructions ("ignore the rules above …", lexicon ``injection``) are removed
from the question; what was done is returned as notice keys (assistant.answer.messages).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.knowledge.lexicon import lexicon

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")
# A sentence ends at . ! ? or 。 — not at the point of a decimal ("Objective 2.3", "$1.5 billion").
_SENTENCE = re.compile(r"(?:[^.!?。\n]|(?<=\d)\.(?=\d))+[.!?。]*")


@dataclass
class CleanQuestion:
    text: str
    problem: str | None = None  # "empty" | "binary": nothing to answer
    notices: list[str] = field(default_factory=list)  # message keys
    injection: bool = False


def remove_instructions(text: str) -> tuple[str, bool]:
    """Drop every sentence that holds an instruction to the assistant."""
    lex = lexicon()
    kept, removed = [], False
    for m in _SENTENCE.finditer(text):
        part = m.group(0)
        if any(x.injection.search(part) for x in lex.both()):
            removed = True
            continue
        kept.append(part)
    if not removed:
        return text, False
    return re.sub(r"\s+", " ", " ".join(p.strip() for p in kept)).strip(), removed


def clean_text(raw: str) -> tuple[str, bool]:
    """Remove control characters and lone surrogates (a question may arrive with either)."""
    controls = len(_CONTROL.findall(raw))
    return (_CONTROL.sub(" ", raw) if controls else raw), bool(controls)


def clean_question(raw: str | bytes | None, max_chars: int) -> CleanQuestion:
    if raw is None:
        return CleanQuestion("", "empty")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return CleanQuestion("", "binary")
    notices: list[str] = []
    controls = len(_CONTROL.findall(raw))
    printable = sum(1 for ch in raw if ch.isprintable() or ch in "\n\t")
    if raw and (controls / max(1, len(raw)) > 0.2 or printable / len(raw) < 0.7):
        return CleanQuestion("", "binary")
    text, had_controls = clean_text(raw)
    if had_controls:
        notices.append("control")
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text or not re.search(r"\w", text):
        return CleanQuestion("", "empty", notices)
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
        notices.append("truncated")
    text, injection = remove_instructions(text)
    if injection:
        notices.append("injection")
        if not re.search(r"\w", text):
            return CleanQuestion("", "empty", notices, True)
    return CleanQuestion(text, None, notices, injection)


def bound_history(
    turns: list, max_turns: int, max_turn_chars: int, max_total: int
) -> tuple[list, bool]:
    """The most recent turns, each cleaned and cut, within a total budget; and whether anything
    was dropped or cut. Turns are (role, content) models; a turn left empty is dropped."""
    out = []
    trimmed = False
    total = 0
    for turn in reversed(turns[-max_turns:] if max_turns > 0 else []):
        text, _ = clean_text(str(turn.content))
        text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
        if len(text) > max_turn_chars:
            text, trimmed = text[:max_turn_chars], True
        if not text:
            trimmed = True
            continue
        if total + len(text) > max_total:
            trimmed = True
            break
        total += len(text)
        out.append(turn.model_copy(update={"content": text}))
    trimmed = trimmed or len(turns) > len(out)
    return list(reversed(out)), trimmed
