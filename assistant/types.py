"""Typed hand-off objects between the stages of the data path.

corpus -> (SourceDocument, Passage, Footnote, Reference, InstituteRecord, GoalRecord)
index  -> chunks in Chroma + BM25 (llama-index TextNode stays inside the index stage)
retrieve -> Query in, Hit out
answer -> Citation, Support, Answer, and the AnswerEvent stream
UI, CLI and evals only ever see these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["en", "ko"]
PassageKind = Literal["text", "table_row", "goal", "footnote", "figure", "list", "heading"]
DocKind = Literal["plan", "report", "statute", "web_page"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- corpus stage


class SourceDocument(_Model):
    """One document of the corpus: the plan, or a report/statute the plan cites."""

    doc_id: str = Field(description="Stable id from the corpus path, e.g. 'plan/nist-ams-600-15'.")
    title: str
    lang: str = Field(description="'ko', 'en' or another ISO code.")
    kind: DocKind
    source_path: str = Field(description="Path of the source file (relative to its corpus root).")
    sha256: str
    ref_id: str | None = Field(None, description="Registry entry this document is the text of.")
    page_count: int | None = None
    added_at: str | None = None


class Footnote(_Model):
    id: str = Field(description="'fn-5' for the plan's numbered notes, 'fn-title', 'sidebar-2'.")
    number: int | None
    scope: Literal["main", "title", "sidebar"]
    page: int | None = Field(description="Printed page of the plan (None: front matter).")
    text: str
    urls: list[str] = Field(default_factory=list, description="Repaired URLs, in order.")
    urls_raw: list[str] = Field(default_factory=list, description="URLs as the MT printed them.")
    reference_ids: list[str] = Field(default_factory=list)


class Reference(_Model):
    """One cited document (a footnote can cite several: footnote 10 cites two)."""

    id: str
    footnote_ids: list[str]
    title: str = Field(description="Title as given in the footnote (Korean MT or English).")
    title_en: str | None = None
    agency: str | None = None
    date: str | None = None
    url: str | None = None
    url_raw: str | None = None
    url_repaired: bool = False
    url_derived: bool = Field(False, description="URL built from a statute citation, not printed.")
    kind: Literal["report", "statute", "web_page"]


class InstituteRecord(_Model):
    """One row of Table 1 (the 17 institutes), names corrected through the glossary."""

    acronym: str
    name_en: str
    name_ko: str = Field(description="The row's name as the MT printed it.")
    focus_en: str
    focus_ko: str
    agency: Literal["DoD", "DOE", "DOC"]
    agency_ko: str
    hq_en: str
    hq_ko: str
    established: str = Field(description="YYYY-MM")
    established_en: str = Field(description="'August 2012'")
    established_ko: str = Field(description="'2012년 8월'")
    page: int


class ObjectiveRecord(_Model):
    number: str = Field(description="'1.1'")
    title_ko: str
    title_en: str


class GoalRecord(_Model):
    number: int
    title_ko: str
    title_en: str
    objectives: list[ObjectiveRecord]
    outcome_ko: str = ""
    page: int


class Passage(_Model):
    """A structural unit of a document (paragraph, table row, footnote...), before chunking."""

    passage_id: str
    doc_id: str
    kind: PassageKind
    text: str
    lang: str
    page_start: int | None
    page_end: int | None
    section_path: list[str] = Field(description="English section names, outermost first.")
    footnotes: list[str] = Field(default_factory=list, description="Footnote ids it cites.")
    entities: list[str] = Field(
        default_factory=list, description="Canonical English names of glossary entities it names."
    )


class CorpusBundle(_Model):
    """Everything the corpus stage hands to the index stage."""

    documents: list[SourceDocument]
    passages: list[Passage]
    footnotes: list[Footnote] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    institutes: list[InstituteRecord] = Field(default_factory=list)
    goals: list[GoalRecord] = Field(default_factory=list)
    plan_pages: int = 0
    sections: list[str] = Field(default_factory=list, description="Distinct section paths.")


# ---------------------------------------------------------------- retrieve stage


class Turn(_Model):
    role: Literal["user", "assistant"]
    content: str


class Query(_Model):
    text: str = Field(description="The question as asked (cleaned).")
    lang: Lang
    top_k: int = 10
    history: list[Turn] = Field(default_factory=list)
    search_text: str = Field("", description="What retrieval uses: the question, rewritten "
                             "with the conversation when it is a follow-up.")
    filters: dict[str, str] = Field(default_factory=dict, description="Metadata equality filters.")
    detected_lang: str = Field("", description="What detection said before the fallback.")


class ReferenceLink(_Model):
    id: str
    title: str
    url: str | None = None
    agency: str | None = None
    date: str | None = None
    doc_id: str | None = Field(None, description="Indexed document holding this reference's text.")


class Hit(_Model):
    chunk_id: str
    doc_id: str
    doc_title: str
    kind: str
    text: str
    lang: str
    page_start: int | None
    page_end: int | None
    section: str = Field(description="Section path joined with ' > '.")
    footnotes: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    score: float
    rank: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    references: list[ReferenceLink] = Field(
        default_factory=list, description="Documents cited by the chunk's footnotes.")

    @property
    def page_label(self) -> str:
        if self.page_start is None:
            return "front matter"
        if self.page_end and self.page_end != self.page_start:
            return f"pp. {self.page_start}–{self.page_end}"
        return f"p. {self.page_start}"


# ---------------------------------------------------------------- answer stage


class Citation(_Model):
    n: int
    chunk_id: str
    doc_id: str
    doc_title: str
    page: int | None
    page_end: int | None = None
    page_label: str
    section: str
    quote: str = Field(description="The supporting sentence(s) of the passage.")
    passage: str = Field(description="The whole cited passage.")
    verified: bool = False
    unverified_numbers: list[str] = Field(default_factory=list)
    references: list[ReferenceLink] = Field(default_factory=list)
    link: str | None = Field(None, description="Link to the official publication.")


class Support(_Model):
    sentences: int = 0
    cited_sentences: int = 0
    dropped_sentences: int = 0
    unresolved_markers: int = Field(0, description="Markers that resolved to nothing (removed).")
    numbers_checked: int = 0
    numbers_unverified: list[str] = Field(default_factory=list)
    verified_citations: int = 0
    total_citations: int = 0
    level: Literal["full", "partial", "none"] = "none"
    fallback: str | None = Field(None, description="Why the answer fell back, if it did.")


class Timings(_Model):
    retrieve_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0


class Answer(_Model):
    question: str
    language: Lang
    answer: str
    refused: bool
    citations: list[Citation] = Field(default_factory=list)
    support: Support = Field(default_factory=Support)
    timings: Timings = Field(default_factory=Timings)
    mode: str = ""
    search_text: str = ""
    notices: list[str] = Field(default_factory=list, description="Shown to the user (truncation, "
                               "language fallback, injection ignored...).")
    related: list[Citation] = Field(default_factory=list, description="Nearest passages offered "
                                    "with a refusal.")
    hits: list[Hit] = Field(default_factory=list)
    llm_id: str = ""
    embed_id: str = ""
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_public_json(self) -> dict:
        """The `assistant ask --json` shape."""
        return {
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {
                    "n": c.n,
                    "doc_id": c.doc_id,
                    "page": c.page,
                    "section": c.section,
                    "quote": c.quote,
                    "verified": c.verified,
                    "references": [
                        {"id": r.id, "title": r.title, "url": r.url} for r in c.references
                    ],
                }
                for c in self.citations
            ],
            "support": self.support.model_dump(),
            "timings": self.timings.model_dump(),
            "notices": self.notices,
        }


class EvidenceEvent(_Model):
    """Retrieval finished: the candidate sources, before any generated token."""

    type: Literal["evidence"] = "evidence"
    citations: list[Citation]
    search_text: str
    retrieve_s: float


class TokenEvent(_Model):
    type: Literal["token"] = "token"
    text: str


class FinalEvent(_Model):
    type: Literal["final"] = "final"
    answer: Answer


AnswerEvent = EvidenceEvent | TokenEvent | FinalEvent
