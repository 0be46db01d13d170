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


class Location(_Model):
    city: str
    state: str


_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class InstituteRecord(_Model):
    """One row of Table 1 (the 17 institutes), as reviewed in corpus/records/institutes.yaml."""

    id: str = Field(description="'institute:LIFT'")
    acronym: str
    full_name_en: str
    name_ko_mt: str = Field(description="The row's name as the MT printed it.")
    focus_en: str
    focus_ko_mt: str
    agency: Literal["DoD", "DOE", "DOC"]
    agency_ko_mt: str
    hq_en: str
    hq_ko_mt: str
    locations: list[Location]
    established: str = Field(description="YYYY-MM")
    page: int

    @property
    def year(self) -> int:
        return int(self.established[:4])

    @property
    def month(self) -> int:
        return int(self.established[5:7])

    @property
    def established_en(self) -> str:
        return f"{_MONTHS_EN[self.month - 1]} {self.year}"

    @property
    def established_ko(self) -> str:
        return f"{self.year}년 {self.month}월"


class ObjectiveRecord(_Model):
    id: str = Field(description="'objective:1.1'")
    number: str = Field(description="'1.1'")
    title_en: str
    title_ko_mt: str
    page: int = Field(description="Page of the objective's own section.")


class GoalRecord(_Model):
    id: str = Field(description="'goal:1'")
    number: int
    title_en: str
    title_ko_mt: str
    outcome_ko_mt: str = ""
    outcome_en: str = Field(
        "", description="English rendering of the MT's expected outcome (reviewed)."
    )
    table_page: int
    page: int = Field(description="Page of the goal's own section.")
    objectives: list[ObjectiveRecord]


class AgencyRecord(_Model):
    id: str = Field(description="'agency:NSF'")
    key: str
    name_en: str
    name_ko: str
    role: Literal["sponsoring", "participating"]
    page: int = Field(description="First page of its Appendix A section.")
    heading_ko_mt: str


class Records(_Model):
    """The plan's structure as reviewed data: Table 1, Table 2, Figure 1 / Appendix A."""

    institutes: list[InstituteRecord]
    goals: list[GoalRecord]
    agencies: list[AgencyRecord]
    agencies_evidence_ko_mt: str = Field(
        "", description="The p. 2 sentence naming the nine agencies."
    )
    agencies_evidence_page: int = 2

    def by_id(
        self, record_id: str
    ) -> InstituteRecord | GoalRecord | ObjectiveRecord | AgencyRecord | None:
        for r in [*self.institutes, *self.goals, *self.agencies]:
            if r.id == record_id:
                return r
        for g in self.goals:
            for o in g.objectives:
                if o.id == record_id:
                    return o
        return None


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
    record: str | None = Field(None, description="Id of the record it renders ('institute:LIFT').")


class CorpusBundle(_Model):
    """Everything the corpus stage hands to the index stage."""

    documents: list[SourceDocument]
    passages: list[Passage]
    footnotes: list[Footnote] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    records: Records | None = None
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
    search_text: str = Field(
        "",
        description="What retrieval uses: the question, rewritten "
        "with the conversation when it is a follow-up.",
    )
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
    record: str = Field("", description="Id of the record a table row renders ('institute:LIFT').")
    score: float
    rank: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    dense_score: float | None = None
    references: list[ReferenceLink] = Field(
        default_factory=list, description="Documents cited by the chunk's footnotes."
    )

    @property
    def page_label(self) -> str:
        if self.page_start is None:
            return "front matter"
        if self.page_end and self.page_end != self.page_start:
            return f"pp. {self.page_start}–{self.page_end}"
        return f"p. {self.page_start}"


# ---------------------------------------------------------------- answer stage

SupportState = Literal["verified", "partial", "unverified"]


class Decision(_Model):
    """One decision of one answer step (see assistant/answer/trace.py for the codes)."""

    step: str
    code: str
    detail: str = ""


class SentenceSupport(_Model):
    """How one answer sentence was checked against the passages it cites."""

    text: str = Field(description="The sentence without its markers.")
    markers: list[int]
    state: SupportState = Field(
        description="verified: every check passed; partial: names and numbers "
        "check out but the wording is not close enough to the passage; "
        "unverified: a number, name or role is not in the cited passage."
    )
    reasons: list[str] = Field(default_factory=list)
    unsupported: list[str] = Field(
        default_factory=list, description="Numbers/names not found as stated."
    )
    similarity: float | None = None
    coverage: float | None = None


class QuoteRendering(_Model):
    """A machine-translated rendering of one cited sentence in the reader's language: an aid
    beside the quote, which stays the evidence. ``withheld`` when the check found that the
    rendering changed a number, a name or the claim's polarity (``problems`` say which)."""

    source: str = Field(description="The cited sentence as it stands in the source.")
    lang: Lang = Field(description="Language of the rendering.")
    text: str | None = None
    status: Literal["ok", "withheld", "pending"] = "pending"
    origin: Literal["llm", "record"] = Field(
        "llm", description="record: the row's reviewed English values, not a translation."
    )
    problems: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    attempts: int = Field(1, description="Generations made: a failed check asks again.")
    cached: bool = False


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
    verified: bool = Field(False, description="Every sentence citing it passed every check.")
    support: SupportState = Field(
        "unverified", description="The weakest state of the sentences citing it."
    )
    unverified_numbers: list[str] = Field(default_factory=list)
    references: list[ReferenceLink] = Field(default_factory=list)
    link: str | None = Field(None, description="Link to the official publication.")
    record: str | None = Field(None, description="The Table 1/2 record the passage is the row of.")
    renderings: list[QuoteRendering] = Field(
        default_factory=list,
        description="The quote's sentences rendered in the reader's language (filled after "
        "the answer is shown).",
    )


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
    llm_calls: int = 0


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
    notices: list[str] = Field(
        default_factory=list,
        description="Shown to the user (truncation, language fallback, injection ignored...).",
    )
    related: list[Citation] = Field(
        default_factory=list, description="Nearest passages offered with a refusal."
    )
    hits: list[Hit] = Field(default_factory=list)
    sentences: list[SentenceSupport] = Field(default_factory=list)
    trace: list[Decision] = Field(
        default_factory=list, description="Every decision of the pipeline, in order."
    )
    llm_id: str = ""
    embed_id: str = ""
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    log_id: str | None = Field(None, description="Its row in logs.db, once logged.")

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
                    "support": c.support,
                    "references": [
                        {"id": r.id, "title": r.title, "url": r.url} for r in c.references
                    ],
                    "renderings": [r.model_dump(exclude={"source"}) for r in c.renderings],
                }
                for c in self.citations
            ],
            "sentences": [x.model_dump() for x in self.sentences],
            "support": self.support.model_dump(),
            "timings": self.timings.model_dump(),
            "notices": self.notices,
            "trace": [d.model_dump() for d in self.trace],
        }

    def codes(self) -> list[str]:
        return [d.code for d in self.trace]


class EvidenceEvent(_Model):
    """Retrieval finished: the candidate sources, before any generated token."""

    type: Literal["evidence"] = "evidence"
    citations: list[Citation]
    search_text: str
    retrieve_s: float


class TokenEvent(_Model):
    type: Literal["token"] = "token"
    text: str


class ResetEvent(_Model):
    """The text streamed so far is replaced by a new attempt (discard it)."""

    type: Literal["reset"] = "reset"
    reason: str = ""


class FinalEvent(_Model):
    type: Literal["final"] = "final"
    answer: Answer


AnswerEvent = EvidenceEvent | TokenEvent | ResetEvent | FinalEvent
