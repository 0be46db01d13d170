"""What the user is told, in their language: input problems, notices, refusals, recoveries."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # input problems and notices
    "empty": {
        "en": "Please type a question about the Manufacturing USA strategic plan.",
        "ko": "Manufacturing USA 전략 계획에 대한 질문을 입력해 주세요.",
    },
    "binary": {
        "en": "This looks like binary data, not a question. Please type your question as text.",
        "ko": "질문이 아니라 이진 데이터로 보입니다. 질문을 글자로 입력해 주세요.",
    },
    "truncated": {
        "en": "Your question was very long; only its first {n} characters were used.",
        "ko": "질문이 너무 길어 앞의 {n}자만 사용했습니다.",
    },
    "injection": {
        "en": "Instructions inside the question were removed; it was answered as a question "
        "about the plan.",
        "ko": "질문 안의 지시문은 제거하고 계획에 대한 질문으로만 답했습니다.",
    },
    "control": {
        "en": "Control characters were removed from the question.",
        "ko": "질문에서 제어 문자를 제거했습니다.",
    },
    "history_trimmed": {
        "en": "Only the most recent part of the conversation was used.",
        "ko": "대화의 최근 부분만 사용했습니다.",
    },
    "other_language": {
        "en": "I answer in English or Korean; this answer is in English.",
        "ko": "영어 또는 한국어로만 답합니다. 이 답변은 영어입니다.",
    },
    # refusals (the plan does not answer)
    "refusal": {
        "en": "The strategic plan does not answer this question. The closest passages are listed "
        "below.",
        "ko": "전략 계획에는 이 질문에 대한 답이 없습니다. 가장 가까운 내용을 아래에 보여 드립니다.",
    },
    "GATE_LOW_SCORE": {
        "en": "No passage of the plan is close to this question.",
        "ko": "이 질문과 가까운 계획 구절이 없습니다.",
    },
    "GATE_CONSTRAINT_ABSENT": {
        "en": "The closest passages do not mention {detail}, which the question names.",
        "ko": "가장 가까운 구절에 질문에 나온 {detail}이(가) 없습니다.",
    },
    "GATE_KIND_ABSENT": {
        "en": "The closest passages state no {detail} for this question.",
        "ko": "가장 가까운 구절에 이 질문에 대한 {detail} 정보가 없습니다.",
    },
    "RECOVER_REFUSED": {
        "en": "The generator found no answer in the passages.",
        "ko": "생성 모델이 구절에서 답을 찾지 못했습니다.",
    },
    "part_unanswered": {
        "en": "The plan does not answer the other part of the question.",
        "ko": "질문의 다른 부분에 대한 답은 계획에 없습니다.",
    },
    # recoveries
    "RECOVER_RETRY": {
        "en": "The first draft did not match its sources; this answer was rewritten from the "
        "strongest passage and checked again.",
        "ko": "첫 초안이 출처와 맞지 않아 가장 관련 있는 구절로 답변을 다시 작성하고 다시 확인했습니다.",
    },
    "RECOVER_DROPPED": {
        "en": "A sentence the cited passages do not support was removed.",
        "ko": "인용 구절이 뒷받침하지 않는 문장을 삭제했습니다.",
    },
    "RECOVER_QUOTED": {
        "en": "The generated answer could not be checked against the plan, so the passage "
        "itself is shown.",
        "ko": "생성된 답변을 계획 본문으로 확인할 수 없어 구절 자체를 보여 드립니다.",
    },
    "LANGUAGE_FALLBACK": {
        "en": "The generated answer was in the wrong language, so the cited passages are shown.",
        "ko": "생성된 답변의 언어가 달라 인용 구절을 보여 드립니다.",
    },
}

KIND_NAMES = {
    "amount": {"en": "amount", "ko": "금액"},
    "percent": {"en": "percentage", "ko": "비율"},
    "count": {"en": "number", "ko": "수"},
    "date": {"en": "date", "ko": "날짜"},
    "person": {"en": "person", "ko": "인물"},
    "place": {"en": "place", "ko": "장소"},
}


def message(key: str, lang: str, **kw: object) -> str:
    text = MESSAGES[key]["ko" if lang == "ko" else "en"]
    try:
        return text.format(**kw)
    except (KeyError, IndexError):
        return text


def kind_name(kind: str, lang: str) -> str:
    return KIND_NAMES.get(kind, {}).get("ko" if lang == "ko" else "en", kind)
