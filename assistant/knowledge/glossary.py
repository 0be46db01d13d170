"""The MT glossary (``corpus/glossary.yaml``): entities, places, countries, MT artifacts.

The plan exists here only as a Korean machine translation, which renders names literally
(암사슴 "female deer" for DOE, 승강기 "elevator" for LIFT). Retrieval must see through this in
both directions and answers must show the real English names; the reviewed data lives in the
YAML file, this module only builds the lookup structures over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from assistant.knowledge.data import load_yaml

EntityKind = Literal["institute", "agency", "office", "program", "law", "organization", "term"]


@dataclass(frozen=True)
class Entity:
    key: str  # canonical short English name, e.g. "LIFT", "DOE"
    kind: EntityKind
    name_en: str  # full English name
    aliases_en: tuple[str, ...] = ()
    ko: tuple[str, ...] = ()  # Korean forms found in (or natural for) the text
    mt_artifacts: tuple[str, ...] = ()  # wrong MT renderings, rewritten for display
    table_only: tuple[str, ...] = ()  # artifacts that only hold inside Table 1 / Figure 1
    sponsor: str | None = None  # institutes: sponsoring agency key


@dataclass(frozen=True)
class Place:
    en: str
    kind: Literal["city", "state"]
    ko: tuple[str, ...]
    state: str | None = None  # a city's state


@dataclass
class Glossary:
    """Lookup structures over the glossary data, built once."""

    entities: tuple[Entity, ...]
    places: tuple[Place, ...]
    countries_ko_en: dict[str, str]
    country_aliases_en: dict[str, str]
    months_ko: dict[str, int]
    table_agencies_ko: dict[str, str]
    word_artifacts_ko: dict[str, str]
    terms_en_ko: tuple[tuple[str, str], ...]
    rendering_terms: tuple[tuple[re.Pattern[str], re.Pattern[str], str], ...]
    by_key: dict[str, Entity] = field(init=False)
    _ko_pattern: re.Pattern[str] = field(init=False)
    _ko_to_key: dict[str, str] = field(init=False)
    _en_pattern: re.Pattern[str] = field(init=False)
    _acronym_pattern: re.Pattern[str] = field(init=False)
    _en_to_key: dict[str, str] = field(init=False)
    _terms: list[tuple[re.Pattern[str], str]] = field(init=False)
    _place_ko: list[tuple[str, Place]] = field(init=False)
    _place_en: list[tuple[re.Pattern[str], Place]] = field(init=False)

    @classmethod
    def from_data(cls, data: dict) -> Glossary:
        entities = tuple(
            Entity(**{k: tuple(v) if isinstance(v, list) else v for k, v in e.items()})
            for e in data["entities"]
        )
        places = tuple(
            Place(en=p["en"], kind=p["kind"], ko=tuple(p.get("ko", ())), state=p.get("state"))
            for p in data["places"]
        )
        countries_ko_en = {ko: c["en"] for c in data["countries"] for ko in c.get("ko", ())}
        aliases = {a: c["en"] for c in data["countries"] for a in c.get("aliases_en", ())}
        return cls(
            entities,
            places,
            countries_ko_en,
            aliases,
            dict(data["months_ko"]),
            dict(data["table_agencies_ko"]),
            dict(data["word_artifacts_ko"]),
            tuple((p, k) for p, k in data["terms_en_ko"]),
            tuple(
                (
                    re.compile(t["ko"]),
                    re.compile(rf"\b(?:{t['en']})", re.IGNORECASE),
                    re.sub(r"[^\w -]", "", t["en"].split("|")[0]),
                )
                for t in data.get("rendering_terms", ())
            ),
        )

    def __post_init__(self) -> None:
        self.by_key = {e.key: e for e in self.entities}
        self._ko_to_key = {}
        for e in self.entities:
            for form in e.ko:
                self._ko_to_key.setdefault(form, e.key)
        ko_forms = sorted(self._ko_to_key, key=len, reverse=True)
        # Korean forms are matched as substrings (Korean glues particles to nouns), but an
        # ASCII form must not sit inside a longer Latin word ("AFFA" inside "AFFAIRS").
        self._ko_pattern = re.compile(
            "|".join(
                (rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])" if f.isascii() else re.escape(f))
                for f in ko_forms
            )
        )
        self._en_to_key = {}
        for e in self.entities:
            for form in (e.key, *e.aliases_en, e.name_en):
                self._en_to_key.setdefault(form.lower(), e.key)
        en_forms = sorted(self._en_to_key, key=len, reverse=True)
        # Short all-capital acronyms (ED, ARM, AIM, MIC) are ordinary English words in
        # lower case, so they only match in capitals; longer names match in any case.
        originals = {form for e in self.entities for form in (e.key, *e.aliases_en)}
        short = sorted({f for f in originals if self._is_short_acronym(f)}, key=len, reverse=True)
        long_ = [f for f in en_forms if not self._is_short_acronym(f)]
        self._en_pattern = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(f) for f in long_) + r")(?![A-Za-z0-9])",
            re.IGNORECASE,
        )
        self._acronym_pattern = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(f) for f in short) + r")(?![A-Za-z0-9])"
        )
        self._terms = [(re.compile(rf"\b(?:{p})", re.IGNORECASE), ko) for p, ko in self.terms_en_ko]
        self._place_ko = sorted(
            ((ko, p) for p in self.places for ko in p.ko), key=lambda kv: -len(kv[0])
        )
        self._place_en = [
            (re.compile(rf"(?<![A-Za-z]){re.escape(p.en)}(?![A-Za-z])", re.IGNORECASE), p)
            for p in self.places
        ]

    @staticmethod
    def _is_short_acronym(form: str) -> bool:
        return len(form) <= 4 and form.isalpha()

    # ------------------------------------------------------------------ detection

    def entity_spans(self, text: str) -> list[tuple[str, int, int]]:
        """(key, start, end) of every entity mention, in either language, in text order;
        overlapping matches keep the longest."""
        spans: list[tuple[str, int, int]] = []
        for m in self._ko_pattern.finditer(text):
            spans.append((self._ko_to_key[m.group(0)], m.start(), m.end()))
        for pattern in (self._en_pattern, self._acronym_pattern):
            for m in pattern.finditer(text):
                spans.append((self._en_to_key[m.group(0).lower()], m.start(), m.end()))
        spans.sort(key=lambda s: (s[1], -(s[2] - s[1])))
        out: list[tuple[str, int, int]] = []
        for s in spans:
            if out and s[1] < out[-1][2]:
                continue
            out.append(s)
        return out

    def entities_in(self, text: str) -> list[str]:
        """Keys of the entities a text names, in either language, first mention first."""
        return list(dict.fromkeys(k for k, _, _ in self.entity_spans(text)))

    def place_matches(self, text: str, fuzzy: bool = False) -> list[Place]:
        """Cities and states a text names, in either language (a Korean form is matched as a
        substring, the longest first: 뉴욕주 is the state, 뉴욕 the city). ``fuzzy`` also takes a
        name typed with one slip ("Pensylvania", "뉴헴프셔")."""
        found: list[Place] = []
        work = text
        for ko, place in self._place_ko:
            if ko in work:
                found.append(place)
                work = work.replace(ko, " " * len(ko))
        for pattern, place in self._place_en:
            if pattern.search(work):
                found.append(place)
        if fuzzy and not found:
            found = self._fuzzy_places(work)
        return list(dict.fromkeys(found))

    def _fuzzy_places(self, text: str) -> list[Place]:
        words = re.findall(r"[A-Za-z]+|[가-힣]+", text)
        words += [
            re.sub(r"(?:에서|에는|에도|에|의|는|은|이|가|을|를|도|로)$", "", w)
            for w in words
            if not w.isascii()
        ]
        grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        out = []
        for place in self.places:
            for form in (place.en, *place.ko):
                limit = 1 if len(form) < 9 else 2
                if len(form) >= (4 if not form.isascii() else 6) and any(
                    abs(len(g) - len(form)) <= limit and _edits(g.lower(), form.lower()) <= limit
                    for g in grams
                ):
                    out.append(place)
                    break
        return out

    def places_in(self, text: str) -> set[str]:
        """``place:<English name>`` of the places a text names (a city and a state of the same
        name, New York, are one claim)."""
        return {f"place:{p.en}" for p in self.place_matches(text)}

    def countries_in(self, text: str) -> set[str]:
        """Countries (other than the U.S.) a text names, in either language, as English names.

        "한국어" (the Korean language) is not the country."""
        found = {en for ko, en in self.countries_ko_en.items() if re.search(rf"{ko}(?!어)", text)}
        for en in {*self.countries_ko_en.values(), *self.country_aliases_en}:
            if re.search(rf"(?<![A-Za-z]){re.escape(en)}(?![A-Za-z])", text):
                found.add(self.country_aliases_en.get(en, en))
        return found

    # ------------------------------------------------------------------ rewriting

    def fix_artifacts(self, text: str) -> str:
        """Replace MT artifacts by the real name (암사슴 -> DOE), for text shown to an LLM."""
        for e in self.entities:
            for art in e.mt_artifacts:
                text = text.replace(art, e.key)
        for wrong, right in self.word_artifacts_ko.items():
            text = text.replace(wrong, right)
        return text

    def annotate_artifacts(self, text: str) -> str:
        """Keep the MT wording but add the real name: '승강기(LIFT)' (for display)."""
        for e in self.entities:
            for art in e.mt_artifacts:
                text = re.sub(rf"{re.escape(art)}(?!\()", f"{art}({e.key})", text)
        return text

    # ------------------------------------------------------------------ query expansion

    def expansion_terms(self, text: str, lang: str) -> list[str]:
        """Extra search terms in the other language (and the MT's wrong forms).

        English question: Korean forms (incl. artifacts: the text says 승강기 for LIFT) of the
        named entities, plus the Korean domain words of the question's English terms.
        Korean question: English names and the MT forms of the named entities.
        """
        terms: list[str] = []
        for key in self.entities_in(text):
            e = self.by_key[key]
            terms.extend(e.ko if lang == "en" else (e.key, *e.aliases_en[:1], *e.ko))
            if lang == "en" and e.sponsor:
                terms.append(e.key)
        if lang == "en":
            terms.extend(self.korean_terms(text))
        seen: set[str] = set()
        out = []
        for t in terms:
            if t not in seen and t not in text:
                seen.add(t)
                out.append(t)
        return out

    def terms_left_out(self, source_ko: str, rendering_en: str) -> list[str]:
        """Plan terms of a Korean sentence its English rendering does not carry
        (``rendering_terms``): '연방 (federal)' when 연방 became "international"."""
        return [
            f"{re.sub(r'[^가-힣0-9A-Za-z ]', '', ko.pattern)} ({label})"
            for ko, en, label in self.rendering_terms
            if ko.search(source_ko) and not en.search(rendering_en)
        ]

    def korean_terms(self, text: str) -> list[str]:
        """The Korean words of the domain terms an English text uses (``terms_en_ko``)."""
        return [ko for pattern, ko in self._terms if pattern.search(text)]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (short strings only)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    return Glossary.from_data(load_yaml("glossary.yaml"))
