"""Evidence units -> the Citation objects shown to users (with each citation's support state)."""

from __future__ import annotations

from assistant.answer.evidence import EvidenceUnit
from assistant.answer.markers import AnswerSentence
from assistant.types import Citation, SentenceSupport, Support

_ORDER = {"verified": 2, "partial": 1, "unsupported": 0, "unverified": 0}


def citation_for(
    unit: EvidenceUnit,
    official_url: str,
    page_offset: int | None,
    support: str = "unverified",
    unverified: list[str] | None = None,
) -> Citation:
    hit = unit.hit
    link = None
    if hit.doc_id.startswith("plan/"):
        link = official_url
        if page_offset is not None and hit.page_start:
            link = f"{official_url}#page={hit.page_start + page_offset}"
    state = "unverified" if support == "unsupported" else support
    return Citation(
        n=unit.n,
        chunk_id=hit.chunk_id,
        doc_id=hit.doc_id,
        doc_title=hit.doc_title,
        page=hit.page_start,
        page_end=hit.page_end,
        page_label=hit.page_label,
        section=hit.section,
        quote=unit.quote,
        passage=hit.text,
        verified=state == "verified",
        support=state,  # type: ignore[arg-type]
        unverified_numbers=unverified or [],
        references=hit.references,
        link=link,
        record=hit.record,
    )


def build_citations(
    sentences: list[AnswerSentence],
    units: list[EvidenceUnit],
    official_url: str,
    page_offset: int | None,
) -> list[Citation]:
    """One citation per cited unit, in marker order; its state is the weakest of the sentences
    citing it ("verified" only when every one of them passed every check)."""
    by_n = {u.n: u for u in units}
    cited = list(dict.fromkeys(n for s in sentences for n in s.markers))
    out = []
    for n in cited:
        citing = [s for s in sentences if n in s.markers]
        state = min((s.state for s in citing), key=lambda x: _ORDER[x])
        unverified = [x for s in citing if s.check for x in s.check.unsupported]
        out.append(citation_for(by_n[n], official_url, page_offset, state, unverified))
    return out


def sentence_support(s: AnswerSentence) -> SentenceSupport:
    c = s.check
    state = "unverified" if s.state == "unsupported" else s.state
    return SentenceSupport(
        text=s.text,
        markers=s.markers,
        state=state,  # type: ignore[arg-type]
        reasons=c.reasons if c else ["unchecked"],
        unsupported=c.unsupported if c else [],
        similarity=None if not c or c.similarity is None else round(c.similarity, 3),
        coverage=None if not c or c.coverage is None else round(c.coverage, 3),
    )


def support_summary(
    sentences: list[AnswerSentence],
    citations: list[Citation],
    unresolved: int,
    dropped: int,
    llm_calls: int,
) -> Support:
    verified = sum(1 for c in citations if c.verified)
    level = "none"
    if sentences:
        level = "full" if verified == len(citations) and not dropped else "partial"
    return Support(
        sentences=len(sentences) + dropped,
        cited_sentences=len(sentences),
        dropped_sentences=dropped,
        unresolved_markers=unresolved,
        numbers_checked=sum(s.check.numbers_checked for s in sentences if s.check),
        numbers_unverified=[x for s in sentences if s.check for x in s.check.unsupported],
        verified_citations=verified,
        total_citations=len(citations),
        level=level,
        llm_calls=llm_calls,
    )
