"""HTML and Markdown rendering of answers and their sources.

Every piece of corpus text, generated text or user input goes through ``esc`` (for HTML)
or ``md_text`` (for the chatbot's Markdown) before it reaches the page: no HTML, script,
Markdown link or template syntax from a question or a document can take effect. The only
markup on the page is the markup written here.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from assistant.types import Answer, Citation, ReferenceLink, SentenceSupport

PLAN_LABEL = "NIST AMS 600-15"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sources": "Sources",
        "answer_n": "Answer {i}",
        "generating": "Generating… showing the candidate passages retrieved for this question.",
        "final": "Passages cited in the answer.",
        "refusal": "The plan does not answer this question. Nearest passages:",
        "no_sources": "No passage is cited.",
        "verified": "verified",
        "partial": "partly supported",
        "unverified": "not verified",
        "claim_verified": "Verified: the cited passage states this (names, numbers and wording checked).",
        "claim_partial": "Partly supported: its names and numbers are in the cited passage, but the wording "
        "could not be matched closely enough.",
        "claim_unverified": "Not verified: a number, name or role is not in the cited passage as stated.",
        "rewriting": "Checking the draft against its sources…",
        "candidate": "candidate",
        "related": "related",
        "passage": "Show the whole passage",
        "section": "Section",
        "references": "Referenced reports",
        "front_matter": "front matter",
        "stopped": "Stopped.",
        "stopped_sources": "Generation stopped.",
        "partial_answer": "Only part of this answer could be checked against the plan (support: {level}).",
        "numbers": "Numbers not found in the cited passages: {numbers}",
        "searching": "Searching the plan…",
        "writing": "Writing the answer from the sources found…",
        "error": "The answer could not be produced: {message}",
        "internal": "Something went wrong while answering. Please try again.",
        "empty_panel": "Sources for each answer appear here: the cited passage with the "
        "supporting sentence highlighted, its printed page in the official "
        "publication and its section.",
        "open_official": "open the official publication",
        "render_en": "EN (machine translation)",
        "render_ko": "KO (machine translation)",
        "render_pending": "translating…",
        "render_withheld": "rendering withheld: {problems}",
        "render_note": "A machine translation of the quote above, for reading; the quote is the evidence.",
    },
    "ko": {
        "sources": "출처",
        "answer_n": "답변 {i}",
        "generating": "답변 생성 중… 이 질문으로 검색한 후보 구절입니다.",
        "final": "답변에 인용된 구절입니다.",
        "refusal": "전략 계획에는 이 질문에 대한 답이 없습니다. 가장 가까운 구절:",
        "no_sources": "인용된 구절이 없습니다.",
        "verified": "확인됨",
        "partial": "일부 확인",
        "unverified": "미확인",
        "claim_verified": "확인됨: 인용 구절이 이 내용을 말합니다(이름, 숫자, 표현 확인).",
        "claim_partial": "일부 확인: 이름과 숫자는 인용 구절에 있지만 표현이 충분히 일치하지 않습니다.",
        "claim_unverified": "미확인: 숫자, 이름 또는 그 역할이 인용 구절과 다릅니다.",
        "rewriting": "초안을 출처와 대조하는 중…",
        "candidate": "후보",
        "related": "관련",
        "passage": "구절 전체 보기",
        "section": "섹션",
        "references": "인용된 보고서",
        "front_matter": "앞부분",
        "stopped": "중지했습니다.",
        "stopped_sources": "생성을 중지했습니다.",
        "partial_answer": "이 답변의 일부만 계획 본문으로 확인되었습니다 (근거 수준: {level}).",
        "numbers": "인용 구절에서 찾지 못한 숫자: {numbers}",
        "searching": "계획을 검색하는 중…",
        "writing": "찾은 출처로 답변을 작성하는 중…",
        "error": "답변을 만들 수 없습니다: {message}",
        "internal": "답변 중 오류가 발생했습니다. 다시 시도해 주세요.",
        "empty_panel": "각 답변의 출처가 여기에 표시됩니다: 근거 문장이 강조된 인용 구절, "
        "공식 간행물의 인쇄 쪽수와 섹션.",
        "open_official": "공식 간행물 열기",
        "render_en": "EN (기계 번역)",
        "render_ko": "KO (기계 번역)",
        "render_pending": "번역 중…",
        "render_withheld": "번역을 표시하지 않음: {problems}",
        "render_note": "위 인용문의 기계 번역입니다(읽기용). 근거는 인용문입니다.",
    },
}


def label(lang: str, key: str, **kw: object) -> str:
    return LABELS["ko" if lang == "ko" else "en"][key].format(**kw)


# ---------------------------------------------------------------- escaping


def esc(text: object) -> str:
    """Text as inert HTML.

    ``html.escape`` plus the characters of Gradio's HTML template syntax (``${...}`` and
    ``{{...}}``), so a passage can never be read as a template expression either.
    """
    return (
        html.escape("" if text is None else str(text), quote=True)
        .replace("{", "&#123;")
        .replace("}", "&#125;")
        .replace("$", "&#36;")
        .replace("`", "&#96;")
    )


def safe_url(url: str | None) -> str | None:
    """An http(s) URL, escaped for an attribute; anything else (javascript:, data:...) is None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return esc(url)


# Markdown punctuation that could start a link, emphasis, code, heading, list, table...
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$^:])")


def md_text(text: object) -> str:
    """Text for the chatbot's Markdown renderer: HTML-escaped, Markdown syntax escaped."""
    # Markdown escapes first, then HTML escaping of & < > (entities must stay intact).
    return html.escape(_MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text)), quote=False)


_ESCAPED_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")


def anchor_id(answer_index: int, n: int) -> str:
    return f"src-{answer_index}-{n}"


def link_markers(md: str, answer_index: int) -> str:
    """Turn the (escaped) ``[n]`` markers of an answer into links to its source cards."""
    return _ESCAPED_MARKER.sub(
        lambda m: (
            f'<a class="cite-marker" href="#{anchor_id(answer_index, int(m.group(1)))}" '
            f'data-src="{anchor_id(answer_index, int(m.group(1)))}">[{m.group(1)}]</a>'
        ),
        md,
    )


# ---------------------------------------------------------------- chat messages


def user_markdown(question: str, max_chars: int = 2000) -> str:
    text = question if len(question) <= max_chars else question[:max_chars] + " …"
    return md_text(text)


def streaming_markdown(raw: str, answer_index: int) -> str:
    return link_markers(md_text(raw.strip()), answer_index) + " ▍"


def pending_markdown(lang: str, stage: str = "searching") -> str:
    """Placeholder of the answer being prepared: "searching" then "writing"."""
    return f'<span class="generating">{esc(label(lang, stage))}</span>'


_CLAIM_MARK = {"verified": "✓", "partial": "◐", "unverified": "✗"}


def claim_badge(state: str, lang: str) -> str:
    """The per-sentence support state: verified only when every check passed."""
    return (
        f'<span class="claim claim-{esc(state)}" data-state="{esc(state)}" '
        f'title="{esc(label(lang, "claim_" + state))}">{_CLAIM_MARK.get(state, "?")}</span>'
    )


def sentence_markdown(s: SentenceSupport, answer_index: int, lang: str) -> str:
    """One checked sentence: escaped text, linked markers, its state; list lines stay a list."""
    marks = "".join(f"[{n}]" for n in s.markers)
    lines = s.text.rstrip(" .").split("\n")
    out = []
    for i, line in enumerate(lines):
        item = line.startswith("- ")
        body = md_text(line[2:] if item else line)
        if i == len(lines) - 1:
            body = (
                link_markers(md_text(f"{line[2:] if item else line} {marks}."), answer_index)
                + " "
                + claim_badge(s.state, lang)
            )
        out.append(("- " if item else "") + body)
    return "\n".join(out)


def answer_body(answer: Answer, answer_index: int) -> str:
    if answer.refused or not answer.sentences:
        return link_markers(md_text(answer.answer), answer_index)
    out = ""
    for s in answer.sentences:
        md = sentence_markdown(s, answer_index, answer.language)
        out += (
            "\n"
            if out and s.text.startswith("- ")
            else "\n\n"
            if out and "\n" in md
            else " "
            if out
            else ""
        ) + md
    return out


def answer_markdown(answer: Answer, answer_index: int) -> str:
    """The final answer as the chatbot shows it: each sentence with its linked markers and its
    support state, then notes (what was checked, what was done, in the asker's language)."""
    body = answer_body(answer, answer_index)
    notes: list[str] = []
    if not answer.refused and answer.support.level != "full":
        notes.append(label(answer.language, "partial_answer", level=answer.support.level))
        if answer.support.numbers_unverified:
            notes.append(
                label(
                    answer.language, "numbers", numbers=", ".join(answer.support.numbers_unverified)
                )
            )
    notes.extend(answer.notices)
    # Each note is its own Markdown paragraph inside a styled div (blank lines around it so
    # the escaped Markdown inside is rendered as text).
    note_html = "".join(f'\n\n<div class="notice">\n\nℹ️ {md_text(n)}\n\n</div>' for n in notes)
    if answer.refused:
        kind = "refusal" if answer.hits else "input-problem"
        return f'<div class="{kind}">\n\n{body}\n\n</div>{note_html}'
    cls = "answer" if answer.support.level == "full" else "answer low-support"
    return f'<div class="{cls}">\n\n{body}\n\n</div>{note_html}'


def error_markdown(message: str, lang: str) -> str:
    return f'<div class="error">\n\n{md_text(label(lang, "error", message=message))}\n\n</div>'


def stopped_markdown(lang: str) -> str:
    return f'<span class="stopped">⏹ {esc(label(lang, "stopped"))}</span>'


# ---------------------------------------------------------------- source cards


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。])\s+")


def _quote_spans(passage: str, quote: str) -> list[tuple[int, int]]:
    quote = quote.strip()
    if not quote:
        return []
    i = passage.find(quote)
    if i >= 0:
        return [(i, i + len(quote))]
    spans = []
    for part in _SENTENCE_SPLIT.split(quote):
        part = part.strip().rstrip(".。")
        if len(part) < 8:
            continue
        j = passage.find(part)
        if j >= 0:
            spans.append((j, j + len(part)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(passage: str, quote: str) -> str:
    """The passage, escaped, with the supporting quote in <mark>. If the quote cannot be
    located in the passage, it is shown highlighted above it."""
    spans = _quote_spans(passage, quote)
    if not spans:
        head = f'<mark class="quote">{esc(quote)}</mark><br>' if quote.strip() else ""
        return head + esc(passage)
    out, pos = [], 0
    for s, e in spans:
        out.append(esc(passage[pos:s]))
        out.append(f'<mark class="quote">{esc(passage[s:e])}</mark>')
        pos = e
    out.append(esc(passage[pos:]))
    return "".join(out)


def page_text(c: Citation, lang: str) -> str:
    page = c.page_label if c.page is not None else label(lang, "front_matter")
    if c.doc_id.startswith("plan/"):
        return f"{PLAN_LABEL}, {page}"
    return f"{c.doc_title}, {page}"


def _reference(r: ReferenceLink) -> str:
    url = safe_url(r.url)
    title = esc(r.title)
    head = (
        f'<a href="{url}" target="_blank" rel="noopener noreferrer">{title}</a>' if url else title
    )
    meta = ", ".join(esc(x) for x in (r.agency, r.date) if x)
    return f'<li class="ref">{head}{" — " + meta if meta else ""}</li>'


def renderings_html(c: Citation, lang: str) -> str:
    """The quote's sentences in the reader's language, labelled as machine translation; a
    withheld one says what its check found; a pending one says it is coming."""
    if not c.renderings:
        return ""
    target = c.renderings[0].lang
    items = []
    for r in c.renderings:
        if r.status == "ok" and r.text:
            items.append(f'<p class="render-text" lang="{target}">{esc(r.text)}</p>')
        elif r.status == "withheld":
            why = "; ".join(r.problems) or "check failed"
            items.append(
                f'<p class="render-withheld">{esc(label(lang, "render_withheld", problems=why))}</p>'
            )
        else:
            items.append(f'<p class="render-pending">{esc(label(lang, "render_pending"))}</p>')
    states = {r.status for r in c.renderings}
    state = "pending" if "pending" in states else "withheld" if states == {"withheld"} else "ok"
    return (
        f'<div class="src-render" data-state="{state}" title="{esc(label(lang, "render_note"))}">'
        f'<span class="render-label">{esc(label(lang, "render_" + target))}</span>'
        f"{''.join(items)}</div>"
    )


def source_card(c: Citation, answer_index: int, lang: str, state: str) -> str:
    """One citation. ``state``: "final" (cited), "candidate" (evidence, generating) or
    "related" (offered with a refusal)."""
    if state == "final":
        support = c.support if c.support in ("verified", "partial") else "unverified"
        badge_cls, badge = support, label(lang, support)
    else:
        badge_cls, badge = state, label(lang, state)
    link = safe_url(c.link)
    page = esc(page_text(c, lang))
    page_html = (
        (
            f'<a class="page-link" href="{link}" target="_blank" rel="noopener noreferrer" '
            f'title="{esc(label(lang, "open_official"))}">{page}</a>'
        )
        if link
        else f'<span class="page-link">{page}</span>'
    )
    section = (
        f'<div class="src-section">{esc(label(lang, "section"))}: {esc(c.section)}</div>'
        if c.section
        else ""
    )
    quote = (
        f'<blockquote class="src-quote"><mark class="quote">{esc(c.quote)}</mark></blockquote>'
        if c.quote.strip()
        else ""
    )
    refs = ""
    if c.references:
        refs = (
            f'<div class="src-refs"><span>{esc(label(lang, "references"))}:</span><ul>'
            + "".join(_reference(r) for r in c.references)
            + "</ul></div>"
        )
    numbers = ""
    if state == "final" and c.unverified_numbers:
        numbers = f'<div class="src-numbers">{esc(label(lang, "numbers", numbers=", ".join(c.unverified_numbers)))}</div>'
    return (
        f'<div class="src-card {state} {badge_cls}" id="{anchor_id(answer_index, c.n)}" '
        f'data-n="{c.n}">'
        f'<div class="src-head"><span class="src-n">[{c.n}]</span> {page_html} '
        f'<span class="badge {badge_cls}">{esc(badge)}</span></div>'
        f"{section}{quote}{renderings_html(c, lang)}"
        f'<details class="src-passage"><summary>{esc(label(lang, "passage"))}</summary>'
        f'<div class="passage">{highlight(c.passage, c.quote)}</div></details>'
        f"{refs}{numbers}</div>"
    )


def _section(
    answer_index: int,
    question: str,
    lang: str,
    status_cls: str,
    status: str,
    cards: list[str],
    extra_cls: str = "",
) -> str:
    q = question if len(question) <= 160 else question[:160] + "…"
    body = (
        "".join(cards) if cards else f'<p class="no-sources">{esc(label(lang, "no_sources"))}</p>'
    )
    return (
        f'<section class="answer-sources {extra_cls}" id="answer-{answer_index}" '
        f'data-answer="{answer_index}" data-state="{status_cls}">'
        f"<h3>{esc(label(lang, 'answer_n', i=answer_index + 1))}: "
        f'<span class="q">“{esc(q)}”</span></h3>'
        f'<p class="status {status_cls}">{esc(status)}</p>{body}</section>'
    )


def evidence_section(citations: list[Citation], answer_index: int, question: str, lang: str) -> str:
    cards = [source_card(c, answer_index, lang, "candidate") for c in citations]
    return _section(answer_index, question, lang, "generating", label(lang, "generating"), cards)


def final_section(answer: Answer, answer_index: int, question: str) -> str:
    lang = answer.language
    if answer.refused:
        cards = [source_card(c, answer_index, lang, "related") for c in answer.related]
        return _section(
            answer_index, question, lang, "refused", label(lang, "refusal"), cards, "refusal"
        )
    cards = [source_card(c, answer_index, lang, "final") for c in answer.citations]
    extra = "" if answer.support.level == "full" else "low-support"
    return _section(answer_index, question, lang, "final", label(lang, "final"), cards, extra)


def stopped_section(answer_index: int, question: str, lang: str) -> str:
    return _section(
        answer_index, question, lang, "stopped", label(lang, "stopped_sources"), [], "stopped"
    )


def panel(sections: list[str], current: str | None = None, lang: str = "en") -> str:
    """The sources panel: the current answer's sources first, then the earlier answers'."""
    parts = ([current] if current else []) + list(reversed(sections))
    if not parts:
        return (
            f'<div class="sources-panel empty"><p>{esc(label("en", "empty_panel"))}</p>'
            f"<p>{esc(label('ko', 'empty_panel'))}</p></div>"
        )
    return f'<div class="sources-panel">{"".join(parts)}</div>'
