"""The question, parsed once: a :class:`QuestionFrame` every later step reads.

language -> kinds of fact asked (amount, count, date, place, person, list, definition, yes/no;
none = open) -> named entities, places, years, amounts and countries (constraints the evidence
must hold) -> parts of a two-part question -> follow-up resolution (the search text).
Vocabulary comes from ``corpus/lexicon`` and ``corpus/glossary.yaml``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from assistant.knowledge.glossary import glossary
from assistant.knowledge.lexicon import lexicon
from assistant.language import detect_language
from assistant.numbers import find_quantities
from assistant.types import Lang, Query, Turn

Kind = str  # one of assistant.knowledge.lexicon.KINDS
QUANTITY_KINDS = ("amount", "percent", "count", "date")
# The quantity units that answer each kind of question.
UNITS_OF_KIND: dict[str, tuple[str | None, ...]] = {
    "amount": ("usd", "eur"),
    "percent": ("percent", "fraction"),
    "count": ("count", None, "ratio"),
    "date": ("year",),
}
_CHECKED_ENTITY_KINDS = ("institute", "agency", "office", "law", "program", "organization")


class Constraint(BaseModel):
    """A year, amount or percentage the question itself states ("FY2025", "$70 million")."""

    model_config = ConfigDict(frozen=True)
    raw: str
    unit: str | None
    value: float
    upper: float | None = None


class QuestionFrame(BaseModel):
    text: str = Field(description="The cleaned question.")
    lang: Lang
    detected_lang: str = ""
    kinds: list[Kind] = Field(default_factory=list, description="Kinds of fact asked, main first.")
    open_quantity: bool = Field(
        False, description="'How often', 'by how much': any quantity answers."
    )
    entities: list[str] = Field(
        default_factory=list, description="Glossary keys the question names."
    )
    places: list[str] = Field(default_factory=list, description="English names of places it names.")
    countries: list[str] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    parts: list[str] = Field(
        default_factory=list, description="Sub-questions of a two-part question."
    )
    about_documents: bool = Field(False, description="Asks about a cited report (titles, dates).")
    followup: bool = False
    resolved: list[str] = Field(
        default_factory=list, description="Entities taken from the history."
    )
    search_text: str = ""
    history: list[Turn] = Field(default_factory=list)

    @property
    def main_kind(self) -> Kind | None:
        return self.kinds[0] if self.kinds else None

    @property
    def quantity_kinds(self) -> list[Kind]:
        return [k for k in self.kinds if k in QUANTITY_KINDS]

    @property
    def all_entities(self) -> list[str]:
        return list(dict.fromkeys([*self.entities, *self.resolved]))


def detect_kinds(text: str, lang: str) -> tuple[list[Kind], bool]:
    """(kinds asked, open quantity) from the language's lexicon (English kinds also count in a
    Korean question: "CEO는 누구?" mixes both)."""
    lex = lexicon()
    own = lex[lang]
    if own.open_quantity.search(text):
        kinds = [k for k in own.kinds_in(text) if k not in QUANTITY_KINDS]
        return kinds, True
    kinds = own.kinds_in(text)
    if lang == "ko":
        kinds += [k for k in lex.en.kinds_in(text) if k not in kinds and k in ("person", "percent")]
    # "Where … and when …": place and date are both asked. A list asked with a count ("how many
    # and which") stays a second kind.
    return kinds, False


def split_parts(text: str, lang: str) -> list[str]:
    """The sub-questions of "How many …, and when was it founded?" (one part when not split)."""
    for joiner in lexicon()[lang].part_joiners:
        head, _, tail = joiner.partition("|")  # "' and |how many '": the cut falls at the bar
        if joiner.replace("|", "") in text:
            i = text.index(joiner.replace("|", ""))
            left, right = text[:i], text[i + len(head) :]
            lex = lexicon()[lang]
            # English asks from the start of the part; a Korean question word sits inside it
            wh = lex.wh_words.search(right) if lang == "ko" else lex.wh_words.match(right.strip())
            asks = lex.kinds_in(right) or wh or lex.kinds["yesno"].match(right.strip())
            if len(left.strip()) > 5 and len(right.strip()) > 5 and asks:
                return [left.strip(" ,;"), right.strip(" ,;")]
    return [text]


def is_followup(text: str, lang: str, entities: list[str]) -> bool:
    """A question that leans on the conversation: a pronoun, or a few words naming nothing.

    'What does the plan say about supply chain resilience?' names its own topic: not a follow-up.
    """
    gl = glossary()
    if any(gl.by_key[e].kind in ("institute", "agency", "law", "office") for e in entities):
        return False
    lex = lexicon()[lang]
    short = len(re.findall(r"\w+", text)) <= lex.followup_max_words
    return bool(lex.followup.search(text)) or short


def resolve_followup(
    text: str, history: list[Turn], lang: str, entities: list[str]
) -> tuple[str, list[str]]:
    """'Where is it headquartered?' after a turn about LIFT -> ('… LIFT', ['LIFT'])."""
    if not history or not is_followup(text, lang, entities):
        return text, []
    gl = glossary()
    # What the user asked about last comes first; the assistant's answer only if they named nothing.
    turns = [t for t in reversed(history) if t.role == "user"] + [
        t for t in reversed(history) if t.role != "user"
    ]
    for turn in turns:
        keys = [k for k in gl.entities_in(turn.content) if gl.by_key[k].kind != "program"]
        if keys:
            names = list(dict.fromkeys(keys[:3]))
            return f"{text} {' '.join(names)}", names
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    return f"{text} {last_user}".strip(), []


def build_frame(
    text: str, history: list[Turn] | None = None, default_lang: str = "en"
) -> QuestionFrame:
    """Parse the cleaned question (and its history) once."""
    history = history or []
    det = detect_language(text, default_lang)
    lang = det.answer_lang
    gl = glossary()
    entities = [k for k in gl.entities_in(text) if gl.by_key[k].kind in _CHECKED_ENTITY_KINDS]
    kinds, open_q = detect_kinds(text, lang)
    constraints = [
        Constraint(raw=q.raw, unit=q.unit, value=q.value, upper=q.upper)
        for q in find_quantities(text)
        if q.unit in ("year", "usd", "eur", "percent")
    ]
    search, resolved = resolve_followup(text, history, lang, entities)
    return QuestionFrame(
        text=text,
        lang=lang,
        detected_lang=det.detected,
        kinds=kinds,
        open_quantity=open_q,
        entities=entities,
        places=sorted({p.en for p in gl.place_matches(text)}),
        countries=sorted(gl.countries_in(text)),
        constraints=constraints,
        parts=split_parts(text, lang),
        about_documents=kinds[:1] == ["date"]
        or any(x.document_words.search(text) for x in lexicon().both()),
        followup=bool(resolved) or search != text,
        resolved=resolved,
        search_text=search,
        history=history,
    )


def query_for(
    frame: QuestionFrame, top_k: int = 10, filters: dict[str, str] | None = None
) -> Query:
    """The retrieval stage's view of a frame."""
    return Query(
        text=frame.text,
        lang=frame.lang,
        detected_lang=frame.detected_lang,
        history=frame.history,
        search_text=frame.search_text,
        top_k=top_k,
        filters=filters or {},
    )
