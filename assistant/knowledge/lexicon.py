"""The question and claim vocabulary of each language (``corpus/lexicon/*.yaml``), compiled once.

Code asks the lexicon *what kind of words* a text holds (question kinds, follow-up pronouns,
negations, the concept a number counts); the words themselves are data a reviewer can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.knowledge.data import load_yaml

KINDS = ("percent", "amount", "count", "date", "place", "person", "list", "definition", "yesno")


def _any(patterns: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!x)x", flags)


@dataclass
class LanguageLexicon:
    lang: str
    kinds: dict[str, re.Pattern[str]]
    open_quantity: re.Pattern[str]
    person_titles: tuple[str, ...]
    followup: re.Pattern[str]
    followup_max_words: int
    part_joiners: tuple[str, ...]
    negation: re.Pattern[str]
    hedge: re.Pattern[str]
    universal: re.Pattern[str]
    partial: re.Pattern[str]
    document_words: re.Pattern[str]
    wh_words: re.Pattern[str]
    injection: re.Pattern[str]
    self_reference: re.Pattern[str]
    stopwords: frozenset[str]
    not_person_words: frozenset[str] = frozenset()
    noun_particles: tuple[str, ...] = ()
    quantity_fillers: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, lang: str, data: dict) -> LanguageLexicon:
        return cls(
            lang=lang,
            kinds={k: _any(data["kinds"][k]) for k in KINDS if k in data["kinds"]},
            open_quantity=_any(data.get("open_quantity", [])),
            person_titles=tuple(data.get("person_titles", [])),
            followup=_any(data.get("followup", [])),
            followup_max_words=int(data.get("followup_max_words", 0)),
            part_joiners=tuple(data.get("part_joiners", [])),
            negation=_any(data.get("negation", [])),
            hedge=_any(data.get("hedge", [])),
            universal=_any(data.get("universal", [])),
            partial=_any(data.get("partial", [])),
            document_words=_any(data.get("document_words", [])),
            wh_words=_any(data.get("wh_words", [])),
            injection=_any(data.get("injection", [])),
            self_reference=_any(data.get("self_reference", [])),
            stopwords=frozenset(str(data.get("stopwords", "")).lower().split()),
            not_person_words=frozenset(str(data.get("not_person_words", "")).split()),
            noun_particles=tuple(sorted(data.get("noun_particles", []), key=len, reverse=True)),
            quantity_fillers=tuple(sorted(data.get("quantity_fillers", []), key=len, reverse=True)),
        )

    def kinds_in(self, text: str) -> list[str]:
        """Every kind of fact the text asks for, in the order they first appear."""
        found = []
        for kind, pattern in self.kinds.items():
            if kind == "yesno" and self.wh_words.search(text):
                continue
            m = pattern.search(text)
            if m:
                found.append((m.start(), KINDS.index(kind), kind))
        return [k for _, _, k in sorted(found)]


_CLAUSES = re.compile(r"(?<=[.!?;:])\s+|,\s+|\s+[-–—]+\s+|\.\s*$")


def without_self_description(text: str, lexicons: tuple[LanguageLexicon, ...]) -> str:
    """The text without its clauses in which the asker describes themselves ("We're a Korean
    supplier, ...", "한국 무역관에서 문의드립니다."): what is named there is who asks, not what."""
    clauses = [c for c in _CLAUSES.split(text) if c and c.strip()]
    keep = [c for c in clauses if not any(lx.self_reference.search(c) for lx in lexicons)]
    return " ".join(keep)


@dataclass
class Concepts:
    """What numbers count or measure (concepts.yaml): word -> concept ids, both languages."""

    en: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    ko: list[tuple[str, str]] = field(default_factory=list)
    frequencies: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict) -> Concepts:
        en, ko = [], []
        freqs = {
            k: _any([*v.get("en", []), *v.get("ko", [])])
            for k, v in data.get("frequencies", {}).items()
        }
        for cid, words in data["concepts"].items():
            for w in words.get("en", []):
                en.append((re.compile(rf"(?<![A-Za-z]){re.escape(w)}", re.IGNORECASE), cid))
            for w in words.get("ko", []):
                ko.append((w, cid))
        ko.sort(key=lambda kv: -len(kv[0]))
        return cls(en, ko, freqs)

    def of(self, text: str) -> set[str]:
        """Concept ids of the words in a short text (a number's neighbourhood). A one-syllable
        Korean word (주 "state") counts only as a word of its own, not inside another (주요)."""
        found = {cid for pattern, cid in self.en if pattern.search(text)}
        for word, cid in self.ko:
            if len(word) == 1:
                if re.search(
                    rf"(?<![가-힣]){word}(?![가-힣])|(?<![가-힣]){word}(?:의|에|는|를|을|와|과|가|로)(?![가-힣])",
                    text,
                ):
                    found.add(cid)
            elif word in text:
                found.add(cid)
        return found

    def frequency_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for p in self.frequencies.values() for m in p.finditer(text)]

    def frequencies_in(self, text: str) -> set[str]:
        """How-often expressions of a text ("biweekly", "격주", "once a year")."""
        return {k for k, p in self.frequencies.items() if p.search(text)}


@dataclass
class Lexicon:
    en: LanguageLexicon
    ko: LanguageLexicon
    concepts: Concepts

    def __getitem__(self, lang: str) -> LanguageLexicon:
        return self.ko if lang == "ko" else self.en

    def both(self) -> tuple[LanguageLexicon, LanguageLexicon]:
        return self.en, self.ko


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon(
        LanguageLexicon.from_data("en", load_yaml("lexicon/en.yaml")),
        LanguageLexicon.from_data("ko", load_yaml("lexicon/ko.yaml")),
        Concepts.from_data(load_yaml("lexicon/concepts.yaml")),
    )
