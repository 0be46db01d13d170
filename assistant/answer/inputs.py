"""Question hygiene: bad input gets a clear message in the asker's language, never a crash."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Instructions aimed at the assistant inside a question (or a document). They are kept as
# question text (the prompt treats the question as data) and the user is told they were
# ignored; the answer rules do not change.
_INJECTION = re.compile(
    r"(ignore|disregard|forget)\s+(all\s+|any\s+|the\s+)?(previous|prior|above|earlier|your)\s+"
    r"(instructions?|rules?|prompts?)|system prompt|you are now|act as|jailbreak|developer mode|"
    r"이전\s*(지시|지침|명령)|(지시|지침|규칙)(을|를)?\s*무시|시스템\s*프롬프트",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")

MESSAGES = {
    "empty": {"en": "Please type a question about the Manufacturing USA strategic plan.",
              "ko": "Manufacturing USA 전략 계획에 대한 질문을 입력해 주세요."},
    "binary": {"en": "This looks like binary data, not a question. Please type your question as text.",
               "ko": "질문이 아니라 이진 데이터로 보입니다. 질문을 글자로 입력해 주세요."},
    "truncated": {"en": "Your question was very long; only its first {n} characters were used.",
                  "ko": "질문이 너무 길어 앞의 {n}자만 사용했습니다."},
    "injection": {"en": "Instructions inside the question were ignored; it was answered as a question "
                        "about the plan.",
                  "ko": "질문 안의 지시문은 무시하고 계획에 대한 질문으로만 답했습니다."},
    "control": {"en": "Control characters were removed from the question.",
                "ko": "질문에서 제어 문자를 제거했습니다."},
    "other_language": {"en": "I answer in English or Korean; this answer is in English.",
                       "ko": "영어 또는 한국어로만 답합니다. 이 답변은 영어입니다."},
}


def message(key: str, lang: str, **kw: object) -> str:
    return MESSAGES[key]["ko" if lang == "ko" else "en"].format(**kw)


@dataclass
class CleanQuestion:
    text: str
    problem: str | None = None  # "empty" | "binary": nothing to answer
    notices: list[str] = field(default_factory=list)  # message keys
    injection: bool = False


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
    text = _CONTROL.sub(" ", raw) if controls else raw
    if controls:
        notices.append("control")
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text or not re.search(r"\w", text):
        return CleanQuestion("", "empty", notices)
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
        notices.append("truncated")
    injection = bool(_INJECTION.search(text))
    if injection:
        notices.append("injection")
    return CleanQuestion(text, None, notices, injection)
