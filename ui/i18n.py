"""UI strings in English and Korean (gr.I18n: the browser's language picks the table;
Gradio's settings page switches it)."""

from __future__ import annotations

import gradio as gr

EN = {
    "title": "## Manufacturing USA Strategic Plan assistant",
    "intro": "Ask about the 2024 Manufacturing USA Strategic Plan (NIST AMS 600-15) in English "
    "or Korean. Every answer cites the plan: click a marker such as [1] to see the "
    "passage, its printed page and section. Answers come only from the plan and the "
    "reports it cites; when the plan does not say, the assistant says so.",
    "chat_label": "Conversation",
    "sources_label": "Sources",
    "placeholder": "Ask a question about the strategic plan…",
    "send": "Ask",
    "stop": "Stop",
    "new": "New conversation",
    "examples": "Example questions",
    "review_title": "## Citation review (staff)",
    "review_intro": "Logged answers with their citations. Pick an answer, check each citation "
    "against its passage and page, and record a verdict.",
    "since": "From (YYYY-MM-DD)",
    "until": "To (YYYY-MM-DD)",
    "language": "Language",
    "status": "Verification",
    "refresh": "Refresh",
    "answers": "Logged answers",
    "pick_answer": "Answer to review",
    "citation": "Citation",
    "verdict": "Verdict",
    "comment": "Comment (optional)",
    "record": "Record verdict",
    "summary": "### Citation precision",
    "export": "Export CSV",
    "export_files": "CSV files",
    "signed_in": "Signed in",
}

KO = {
    "title": "## Manufacturing USA 전략 계획 도우미",
    "intro": "2024년 Manufacturing USA 전략 계획(NIST AMS 600-15)에 대해 한국어나 영어로 "
    "질문하세요. 모든 답변은 계획을 인용합니다. [1] 같은 표시를 누르면 해당 구절과 인쇄 "
    "쪽수, 섹션을 볼 수 있습니다. 답변은 계획과 계획이 인용한 보고서에서만 나오며, 계획에 "
    "없는 내용은 없다고 알려 드립니다.",
    "chat_label": "대화",
    "sources_label": "출처",
    "placeholder": "전략 계획에 대해 질문하세요…",
    "send": "질문하기",
    "stop": "중지",
    "new": "새 대화",
    "examples": "질문 예시",
    "review_title": "## 인용 검토 (직원용)",
    "review_intro": "기록된 답변과 인용입니다. 답변을 고르고 각 인용을 구절과 쪽수에 비추어 확인한 "
    "뒤 판정을 기록하세요.",
    "since": "시작일 (YYYY-MM-DD)",
    "until": "종료일 (YYYY-MM-DD)",
    "language": "언어",
    "status": "검증 상태",
    "refresh": "새로 고침",
    "answers": "기록된 답변",
    "pick_answer": "검토할 답변",
    "citation": "인용",
    "verdict": "판정",
    "comment": "의견 (선택)",
    "record": "판정 기록",
    "summary": "### 인용 정밀도",
    "export": "CSV 내보내기",
    "export_files": "CSV 파일",
    "signed_in": "로그인 사용자",
}

PREFIX = "mfgusa_"  # keeps clear of Gradio's own keys ("status", "chat_interface"...)
I18N_TABLES = gr.I18n(
    en={PREFIX + k: v for k, v in EN.items()}, ko={PREFIX + k: v for k, v in KO.items()}
)


def T(key: str):  # noqa: N802  (a translation marker, like gettext's _)
    """The translatable UI string ``key`` (resolved in the browser's language)."""
    if key not in EN:
        raise KeyError(key)
    return I18N_TABLES(PREFIX + key)
