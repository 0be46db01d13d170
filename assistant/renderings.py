"""Renderings of cited sentences in the reader's language: an English rendering of a Korean
quote for an English answer, a Korean one of an English source (the U.S. Code) for a Korean
answer. The quote stays the evidence; a rendering is an aid, labelled as machine translation.

The local LLM translates one sentence at a time. It is given the sentence with the MT artifacts
already replaced by the real names (승강기 -> LIFT, from the glossary) and the English names of
the entities it holds; an English rendering is generated under a grammar without Hangul. Every
rendering is then checked against its source: the same numbers (amounts, years, percentages in
either language), the same named entities, the same polarity. One that fails is asked for again
with what the checks found (``renderings.repair_attempts``); one that still fails is *withheld*
(the card says why) and never shown as a translation.

Renderings are cached by sentence hash in a SQLite file that lives with the index build (copied
forward when the index is rebuilt), so the second ask of a question costs no LLM call, and they
are made after the answer is shown (the UI fills the cards in).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from assistant.knowledge.glossary import glossary
from assistant.knowledge.lexicon import lexicon
from assistant.knowledge.records import english_text
from assistant.numbers import english_amounts, unsupported_quantities
from assistant.settings import Settings
from assistant.types import Answer, Citation, QuoteRendering

logger = logging.getLogger(__name__)

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
NO_HANGUL_LINE = "root ::= [^\\n가-힣ㄱ-ㅎㅏ-ㅣ] [^\\n가-힣ㄱ-ㅎㅏ-ㅣ]*\n"

SYSTEM = {
    "en": (
        "You translate one sentence of a Korean machine translation of a U.S. government "
        "strategic plan back into plain English. Keep every number, amount, date, percentage and "
        "name exactly; use the English names given. Add nothing and leave nothing out. Reply with "
        "the English sentence only, on one line."
    ),
    "ko": (
        "You translate one sentence of a U.S. law or report into Korean. Keep every number, date, "
        "section number and name exactly (names may stay in English). Add nothing and leave "
        "nothing out. Reply with the Korean sentence only, on one line."
    ),
}


def target_lang(quote: str, answer_lang: str) -> str | None:
    """The rendering a reader of ``answer_lang`` needs for ``quote`` (None: it is in their language)."""
    korean = len(_HANGUL.findall(quote)) >= 2
    if answer_lang == "en" and korean:
        return "en"
    if answer_lang == "ko" and not korean and re.search(r"[A-Za-z]{3}", quote):
        return "ko"
    return None


def quote_sentences(quote: str) -> list[str]:
    from assistant.index import sentences_of

    lang = "ko" if _HANGUL.search(quote) else "en"
    # A footnote's bare URL is not a sentence to translate (its MT-mangled words stay as is).
    return [s for s in sentences_of(quote, lang) if s.strip() and not _URL_ONLY.match(s)]


# Part of the cache key: a rendering made or checked by older rules is made (and checked) again.
CHECKS_VERSION = 6
_URL_ONLY = re.compile(r"^\s*(?:Footnote \d+:\s*)?https?://", re.IGNORECASE)


def sentence_key(source: str, lang: str, model_id: str) -> str:
    seed = f"{lang}\x00{model_id}\x00{CHECKS_VERSION}\x00{source.strip()}"
    return hashlib.sha256(seed.encode()).hexdigest()


def _entity_names(text: str) -> set[str]:
    return set(glossary().entities_in(text))


# The checks' findings that name what was lost or added (``repair_hint`` reads them back).
NUMBER_ADDED, NUMBER_LOST = "number not in the source: ", "number left out: "
NAME_ADDED, NAME_LOST = "name not in the source: ", "name left out: "
TERM_LOST = "term left out: "


def check_rendering(source: str, text: str, lang: str) -> list[str]:
    """What a rendering changed against its source: numbers (either way), named entities
    (either way), polarity, or the wrong script. Empty: it says what the source says as far as
    these checks can tell."""
    problems: list[str] = []
    if not text.strip():
        return ["empty"]
    if lang == "en" and _HANGUL.search(text):
        problems.append("script: Hangul in the English rendering")
    if lang == "ko" and not _HANGUL.search(text):
        problems.append("script: no Korean in the Korean rendering")
    fixed = glossary().fix_artifacts(source)
    _, added = unsupported_quantities(text, [fixed])
    _, dropped = unsupported_quantities(fixed, [text])
    if added:
        problems.append(NUMBER_ADDED + ", ".join(added))
    if dropped:
        problems.append(NUMBER_LOST + ", ".join(dropped))
    src_names, out_names = _entity_names(fixed), _entity_names(text)
    if missing := sorted(src_names - out_names):
        problems.append(NAME_LOST + ", ".join(missing))
    if extra := sorted(out_names - src_names):
        problems.append(NAME_ADDED + ", ".join(extra))
    if lang == "en" and (terms := glossary().terms_left_out(fixed, text)):
        problems.append(TERM_LOST + ", ".join(terms))
    # Polarity from a Korean source (않/없/못/아니 against not/no/never/without); English
    # legal phrasing ("not later than" = 이내) makes the reverse check unreliable.
    ko_neg = bool(lexicon()["ko"].negation.search(fixed))
    if lang == "en" and ko_neg != bool(lexicon()["en"].negation.search(text)):
        problems.append("polarity: a negation was added or lost")
    return problems


def build_messages(source: str, lang: str, hint: str | None = None) -> list[dict[str, str]]:
    gl = glossary()
    fixed = gl.fix_artifacts(source)
    names = [gl.by_key[k] for k in gl.entities_in(fixed)]
    if lang == "en":
        fixed = english_amounts(fixed)  # the model copies "$644 billion", it miscounts 억
    label = "Korean" if lang == "en" else "English"
    names_line = "; ".join(f"{e.key} = {e.name_en}" for e in names)
    user = (f"Names: {names_line}\n" if names_line else "") + f"{label} sentence: <<<{fixed}>>>"
    if hint:
        user += f"\n{hint}"
    return [{"role": "system", "content": SYSTEM[lang]}, {"role": "user", "content": user}]


_KEEP = (NUMBER_LOST, NAME_LOST, TERM_LOST)
_DROP = (NUMBER_ADDED, NAME_ADDED)


def repair_hint(problems: list[str]) -> str | None:
    """What the checks found, as a line of the next attempt's request: what to keep and what not
    to add. None when nothing can be named (a lost meaning, a polarity): no second attempt.
    Measured: asked as a second turn ("the checks found …"), the 1.5B model echoed the request."""

    def items(p: str, prefixes: tuple[str, ...]) -> list[str]:
        pre = next((x for x in prefixes if p.startswith(x)), None)
        if pre is None:
            return []
        # "연방 (federal)": the English form of a plan term
        return [re.sub(r"^.*\((.+)\)$", r"\1", x.strip()) for x in p[len(pre) :].split(", ")]

    keep = [x for p in problems for x in items(p, _KEEP)]
    drop = [x for p in problems for x in items(p, _DROP)]
    parts = ([f"Keep in the translation: {'; '.join(keep)}."] if keep else []) + (
        [f"Do not add: {'; '.join(drop)}."] if drop else []
    )
    return " ".join(parts) or None


class RenderingStore:
    """sentence hash -> rendering, in one SQLite file per index build."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS renderings (key TEXT PRIMARY KEY, source TEXT NOT NULL, "
            "lang TEXT NOT NULL, model_id TEXT NOT NULL, text TEXT, status TEXT NOT NULL, "
            "problems_json TEXT NOT NULL, seconds REAL NOT NULL, created_at TEXT NOT NULL)"
        )
        self._db.commit()
        self._lock = threading.Lock()

    def get(self, key: str) -> QuoteRendering | None:
        with self._lock:
            row = self._db.execute(
                "SELECT source, lang, text, status, problems_json, seconds FROM renderings "
                "WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return QuoteRendering(
            source=row[0], lang=row[1], text=row[2], status=row[3], problems=json.loads(row[4]),
            seconds=row[5], cached=True,
        )  # fmt: skip

    def put(self, key: str, model_id: str, r: QuoteRendering) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO renderings VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (key, r.source, r.lang, model_id, r.text, r.status, json.dumps(r.problems),
                 r.seconds),
            )  # fmt: skip
            self._db.commit()

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM renderings").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def shown_field(answer: Answer) -> str:
    """The passages the reader is shown: those cited, or the nearest ones with a refusal."""
    return "related" if answer.refused else "citations"


class Renderer:
    """Renders cited sentences with the answer LLM, through the build's cache."""

    def __init__(
        self,
        settings: Settings,
        generator: Callable[[str], object | None],
        store_path: Callable[[], Path | None],
        similarity: Callable[[str, str], float] | None = None,
    ) -> None:
        self.settings = settings
        self._generator = generator
        self._store_path = store_path
        self._similarity = similarity  # (source, rendering) -> cosine; None: not checked
        self._stores: dict[Path, RenderingStore] = {}
        self._lock = threading.Lock()
        self.llm_calls = 0

    def _store(self) -> RenderingStore | None:
        path = self._store_path()
        if path is None:
            return None
        with self._lock:
            if path not in self._stores:
                self._stores[path] = RenderingStore(path)
            return self._stores[path]

    def model_id(self) -> str | None:
        """Id of the generator renderings come from, without loading it (None: no LLM)."""
        llm = self.settings.llm
        ids = {"local": llm.local.model, "openai": f"openai:{llm.openai.model}", "fake": "fake"}
        return ids.get(llm.mode)

    def available(self) -> bool:
        return self.settings.renderings.enabled and self.model_id() is not None

    def warm(self) -> None:
        """Evaluate the renderings' fixed prompt prefixes once (the generator keeps them)."""
        gen = self._generator(self.settings.llm.mode) if self.available() else None
        if gen is not None:
            for lang in SYSTEM:
                gen.warm([{"role": "system", "content": SYSTEM[lang]}])

    def render(self, sentences: Iterable[str], lang: str) -> list[QuoteRendering]:
        """Each sentence rendered in ``lang`` (from the cache when it was rendered before)."""
        gen = self._generator(self.settings.llm.mode)
        store = self._store()
        out = []
        for source in sentences:
            if gen is None:
                out.append(QuoteRendering(source=source, lang=lang, status="pending"))
                continue
            key = sentence_key(source, lang, gen.model_id)
            hit = store.get(key) if store else None
            if hit is not None:
                out.append(hit)
                continue
            r = self._render_one(gen, source, lang)
            if store:
                store.put(key, gen.model_id, r)
            out.append(r)
        return out

    def _render_one(self, gen, source: str, lang: str) -> QuoteRendering:  # noqa: ANN001
        grammar = (
            NO_HANGUL_LINE if lang == "en" and getattr(gen, "supports_grammar", False) else None
        )
        t0 = time.perf_counter()
        messages = build_messages(source, lang)
        attempts = 0
        while True:
            attempts += 1
            self.llm_calls += 1
            text = "".join(gen.stream(messages, self.settings.renderings.max_tokens, grammar))
            text = re.sub(r"\s+", " ", text).strip().strip("<>").strip()
            problems = self._problems(source, text, lang)
            hint = repair_hint(problems)
            if not hint or attempts > self.settings.renderings.repair_attempts:
                break
            # The checks' findings are part of the next request (checked the same way).
            messages = build_messages(source, lang, hint)
        seconds = round(time.perf_counter() - t0, 3)
        logger.info(
            "rendering lang=%s seconds=%.2f attempts=%d problems=%d",
            lang, seconds, attempts, len(problems),
        )  # fmt: skip
        return QuoteRendering(
            source=source, lang=lang, text=text, status="withheld" if problems else "ok",
            problems=problems, seconds=seconds, attempts=attempts,
        )  # fmt: skip

    def _problems(self, source: str, text: str, lang: str) -> list[str]:
        problems = check_rendering(source, text, lang)
        if not problems and self._similarity is not None:
            sim = self._similarity(source, text)
            if sim < self.settings.renderings.min_similarity:
                problems.append(f"meaning: similarity {sim:.2f} to the source is below "
                                f"{self.settings.renderings.min_similarity:.2f}")  # fmt: skip
        return problems

    def needed(self, citation: Citation, answer_lang: str) -> tuple[list[str], str | None]:
        lang = target_lang(citation.quote, answer_lang)
        if lang is None:
            return [], None
        return quote_sentences(citation.quote), lang

    def pending(self, answer: Answer) -> Answer:
        """The answer with a pending rendering per sentence that needs one (cached ones filled)."""
        return self._fill(answer, cached_only=True)

    def fill(self, answer: Answer) -> Answer:
        """The answer with every cited sentence that needs a rendering rendered."""
        return self._fill(answer, cached_only=False)

    def _fill(self, answer: Answer, cached_only: bool) -> Answer:
        if not self.available():
            return answer
        field = shown_field(answer)
        budget = self.settings.renderings.max_sentences
        citations = []
        for c in getattr(answer, field):
            sentences, lang = self.needed(c, answer.language)
            sentences = sentences[: max(0, budget)]
            budget -= len(sentences)
            if not sentences or lang is None:
                citations.append(c)
                continue
            if lang == "en" and (text := english_text(c.record)):
                # A Table 1/2 row: its reviewed English values, exact and instant.
                rs = [
                    QuoteRendering(
                        source=c.quote, lang="en", text=text, status="ok", origin="record"
                    )
                ]
            elif cached_only:
                rs = [
                    self._cached(s, lang) or QuoteRendering(source=s, lang=lang) for s in sentences
                ]
            else:
                rs = self.render(sentences, lang)
            citations.append(c.model_copy(update={"renderings": rs}))
        return answer.model_copy(update={field: citations})

    def fill_citation(self, citation: Citation) -> Citation:
        """The citation with its pending renderings made (the others kept)."""
        todo = [r.source for r in citation.renderings if r.status == "pending"]
        if not todo:
            return citation
        made = iter(self.render(todo, citation.renderings[0].lang))
        rs = [next(made) if r.status == "pending" else r for r in citation.renderings]
        return citation.model_copy(update={"renderings": rs})

    def _cached(self, source: str, lang: str) -> QuoteRendering | None:
        model_id, store = self.model_id(), self._store()
        if model_id is None or store is None:
            return None
        return store.get(sentence_key(source, lang, model_id))

    def prerender(self, sentences: list[str], lang: str = "en", progress: bool = True) -> dict:
        """Render every sentence that needs it (``assistant index --render-en``), with a
        progress bar; returns counts and the per-sentence time of the new ones."""
        from tqdm import tqdm

        todo = [
            s for s in dict.fromkeys(sentences) if target_lang(s, "en" if lang == "en" else "ko")
        ]
        made, cached, withheld, seconds = 0, 0, 0, []
        for source in tqdm(todo, desc=f"rendering ({lang})", disable=not progress, unit="sentence"):
            (r,) = self.render([source], lang)
            if r.cached:
                cached += 1
            else:
                made += 1
                seconds.append(r.seconds)
            withheld += r.status == "withheld"
        seconds.sort()
        p50 = seconds[len(seconds) // 2] if seconds else None
        return {"sentences": len(todo), "rendered": made, "cached": cached, "withheld": withheld,
                "seconds_p50": p50}  # fmt: skip

    def cached_count(self) -> int:
        store = self._store()
        return store.count() if store else 0
