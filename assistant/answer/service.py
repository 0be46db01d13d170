"""AnswerService: the one answer path the CLI, the UI and the eval harness share.

question (+history) -> language -> retrieval -> evidence (EvidenceEvent, before any LLM
token) -> generation (local / openai / extractive) -> markers -> verification -> Answer,
logged to logs.db.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Generator as Generator_
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from assistant.answer import extractive
from assistant.answer.citations import (
    AnswerSentence,
    build_citations,
    citation_for,
    holds_claims,
    resolve,
    support_summary,
    verify_claims,
)
from assistant.answer.evidence import EvidenceUnit, select_evidence
from assistant.answer.inputs import clean_question, message
from assistant.answer.prompt import (
    NOT_FOUND,
    TRANSLATE,
    build_messages,
    compose_messages,
    grammar,
    prefix_messages,
)
from assistant.answer.slots import (
    asked_slot,
    asks_about_documents,
    further_slot_checks,
    holds_fact,
    missing_facts,
    strong_evidence,
    unanswered_part,
)
from assistant.components.embedding import Embedder
from assistant.components.llm import Generator, make_generator
from assistant.korean.glossary import glossary
from assistant.language import detect_language
from assistant.retrieve import Retriever, build_query
from assistant.settings import Settings
from assistant.types import (
    Answer,
    AnswerEvent,
    EvidenceEvent,
    FinalEvent,
    Support,
    Timings,
    TokenEvent,
    Turn,
)

logger = logging.getLogger(__name__)

REFUSAL = {
    "en": "The strategic plan does not answer this question. The closest passages are listed "
          "below.",
    "ko": "전략 계획에는 이 질문에 대한 답이 없습니다. 가장 가까운 내용을 아래에 보여 드립니다.",
}


def _wrong_language(text: str, lang: str) -> bool:
    """English answers must be mostly Latin; Korean answers must contain Korean.

    (Short Korean answers such as "22개 [1]." are too short for language detection.)
    """
    import re

    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    letters = len(re.findall(r"[^\W\d_]", text)) or 1
    if lang == "en":
        return hangul / letters > 0.3
    return hangul == 0 and len(re.findall(r"[A-Za-z]{2,}", text)) >= 3


def _dedupe(sentences: list[AnswerSentence]) -> list[AnswerSentence]:
    seen: set[str] = set()
    out = []
    for s in sentences:
        key = s.render()
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _number_by_appearance(sentences: list[AnswerSentence], units: list[EvidenceUnit]) -> list[EvidenceUnit]:
    """Renumber the cited units 1..k in the order the answer cites them (a reader who sees
    "[2]" looks for a "[1]"); markers of the sentences follow."""
    order = list(dict.fromkeys(n for s in sentences for n in s.markers))
    new_n = {old: i for i, old in enumerate(order, start=1)}
    for s in sentences:
        s.markers = [new_n[m] for m in s.markers]
    return [dataclasses.replace(u, n=new_n[u.n]) for u in units if u.n in new_n]


def _claim_holders(text: str, units: list[EvidenceUnit], question: str) -> list[int]:
    """The unit that holds every number and name of a sentence, else the first pair that
    holds them together ("76 institutes, founded in 1949" from two sentences), else none."""
    single = next((u.n for u in units if holds_claims(text, [u], question)), None)
    if single is not None:
        return [single]
    return next(([a.n, b.n] for a, b in itertools.combinations(units, 2) if holds_claims(text, [a, b], question)),
                [])


def _fewest_sources(sentences: list[AnswerSentence], units: list[EvidenceUnit],
                    question: str) -> list[AnswerSentence]:
    """A later sentence whose numbers and names all stand in a passage the answer already
    cites, cites that passage ("established in May 2023" is in the Table 1 row cited first,
    not only in a press-release footnote): fewer sources to check, each holding its claims."""
    by_n = {u.n: u for u in units}
    cited: list[int] = []
    for s in sentences:
        if s.supported and s.numbers_checked:
            earlier = next((n for n in cited if n not in s.markers and holds_claims(s.text, [by_n[n]], question)),
                           None)
            if earlier is not None:
                s.markers = [earlier]
        cited += [n for n in s.markers if n not in cited]
    return sentences


class AnswerService:
    def __init__(self, settings: Settings, retriever: Retriever, embedder: Embedder,
                 log_path: Path | None = None) -> None:
        self.settings = settings
        self.retriever = retriever
        self.embedder = embedder
        self.log_path = log_path if settings.log.enabled else None
        self._generators: dict[str, Generator | None] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ generators

    def generator(self, mode: str) -> Generator | None:
        with self._lock:
            if mode not in self._generators:
                self._generators[mode] = make_generator(self.settings, mode)
            return self._generators[mode]

    def warm(self, mode: str | None = None) -> None:
        """Load the index, the tokenizer, the generator and its fixed prompt prefix once, so
        the first user does not pay for them."""
        from assistant.korean.tokens import tokenize

        tokenize("준비 warm-up")
        self.retriever.embed_query(build_query("warm-up", self.settings))
        _ = self.retriever.snapshot
        gen = self.generator(mode or self.settings.llm.mode)
        if gen is not None:
            gen.warm(prefix_messages())

    # ------------------------------------------------------------------ main path

    def answer(self, question: str, history: list[Turn] | None = None, mode: str | None = None,
               **kw: object) -> Answer:
        final = None
        for event in self.stream(question, history, mode, **kw):  # type: ignore[arg-type]
            if isinstance(event, FinalEvent):
                final = event.answer
        assert final is not None
        return final

    def stream(self, question: str | bytes | None, history: list[Turn] | None = None,
               mode: str | None = None, source: str = "api", conversation_id: str | None = None,
               eval_run: str | None = None, log: bool = True) -> Iterator[AnswerEvent]:
        t0 = time.perf_counter()
        mode = mode or self.settings.llm.mode
        history = history or []
        clean = clean_question(question, self.settings.answer.max_question_chars)
        cfg_max = self.settings.answer.max_question_chars
        if clean.problem:
            lang = detect_language(str(question or ""), self.settings.answer.default_lang).answer_lang \
                if isinstance(question, str) else self.settings.answer.default_lang
            ans = Answer(question=str(question or "")[:200] if isinstance(question, str) else "<binary>",
                         language=lang, answer=message(clean.problem, lang), refused=True, mode=mode,
                         notices=[message(n, lang, n=cfg_max) for n in clean.notices],
                         timings=Timings(total_s=time.perf_counter() - t0))
            yield from self._finish(ans, log, source, conversation_id, eval_run, history, "")
            return

        query = build_query(clean.text, self.settings, history,
                            top_k=max(self.settings.answer.context_chunks, self.settings.retrieval.top_k))
        lang = query.lang
        notices = [message(n, lang, n=cfg_max) for n in clean.notices]
        if query.detected_lang not in ("en", "ko", "unknown"):
            notices.append(message("other_language", lang))
        qvec = self.retriever.embed_query(query)
        hits = self.retriever.search(query, qvec=qvec)
        context = hits[: self.settings.answer.context_chunks]
        sentences = self.retriever.sentences(context, qvec)
        units = select_evidence(context, sentences, self.retriever.bm25_tokens(query),
                                self.settings.answer.evidence_sentences,
                                unit=self.settings.answer.evidence_unit,
                                question_entities=set(glossary().entities_in(query.search_text)),
                                with_references=asks_about_documents(clean.text),
                                must_hold=further_slot_checks(clean.text))
        retrieve_s = time.perf_counter() - t0
        cfg = self.settings
        yield EvidenceEvent(
            citations=[citation_for(u, cfg.data.official_url, cfg.data.pdf_page_offset) for u in units],
            search_text=query.search_text, retrieve_s=retrieve_s)

        base = dict(question=clean.text, language=lang, mode=mode, search_text=query.search_text,
                    notices=notices, hits=hits, embed_id=self.embedder.model_id)
        best_dense = max((h.dense_score or 0.0 for h in context), default=0.0)
        if not units or best_dense < cfg.answer.min_dense_score or units[0].score < cfg.answer.min_evidence_score:
            ans = self._refusal(base, units, Timings(retrieve_s=retrieve_s,
                                                     total_s=time.perf_counter() - t0),
                                "low retrieval score")
            yield from self._finish(ans, log, source, conversation_id, eval_run, history,
                                    query.detected_lang)
            return

        why_not = missing_facts(clean.text, units) if cfg.answer.check_slots else None
        if why_not:
            ans = self._refusal(base, units, Timings(retrieve_s=retrieve_s,
                                                     total_s=time.perf_counter() - t0), why_not)
            yield from self._finish(ans, log, source, conversation_id, eval_run, history,
                                    query.detected_lang)
            return

        gen = self.generator(mode)
        timings = Timings(retrieve_s=retrieve_s)
        notes: list[str] = []
        if gen is None:
            raw = extractive.compose(units, lang, question=clean.text)
            timings.first_token_s = time.perf_counter() - t0
            yield TokenEvent(text=raw)
        else:
            raw = yield from self._generate(gen, build_messages(clean.text, lang, units),
                                            self._grammar(gen, len(units), lang), timings, t0)
            refused = raw.strip().startswith(NOT_FOUND)
            # What the question asks for that this text does not state (on NOT_FOUND: only a
            # quantity, the case measured to separate answerable questions from near misses).
            missing = asked_slot(clean.text) if refused else unanswered_part(clean.text, raw)
            strong = strong_evidence(units, missing, cfg.answer.second_opinion_score)
            if strong is not None:
                # The passage holds the kind of fact asked for with a high score: ask once
                # more to restate it alone, without the option to refuse; verification still applies.
                units = [dataclasses.replace(strong, n=1)]
                notes.append(("generator found no answer" if refused else f"the answer stated no {missing}")
                             + "; answered from the strongest passage")
                raw = yield from self._generate(gen, compose_messages(clean.text, lang, units[0]),
                                                self._grammar(gen, 1, lang, may_refuse=False), timings, t0)
                if not holds_fact(missing, raw):
                    # Restated without the fact asked for: translate or quote the passage.
                    notes.append(f"the restatement stated no {missing} either")
                    raw = " ".join(x.render() for x in
                                   self._from_one_unit(units[0], lang, clean.text, gen, composed=True))
        if raw.strip().startswith(NOT_FOUND):
            timings.total_s = time.perf_counter() - t0
            ans = self._refusal(base, units, timings, "generator found no answer")
            yield from self._finish(ans, log, source, conversation_id, eval_run, history, query.detected_lang)
            return

        ans = self._checked_answer(raw, units, lang, base, gen, notes)
        ans.timings = timings
        ans.timings.total_s = time.perf_counter() - t0
        ans.llm_id = gen.model_id if gen else "extractive"
        yield from self._finish(ans, log, source, conversation_id, eval_run, history, query.detected_lang)

    # ------------------------------------------------------------------ pieces

    def _generate(self, gen: Generator, messages: list, grammar_text: str | None, timings: Timings,
                  t0: float) -> Generator_[TokenEvent, None, str]:
        """Stream the generator's text as TokenEvents and return it whole. Text that may still
        turn out to be NOT_FOUND is held back, so a refusal never flashes up as an answer."""
        raw = pending = ""
        for piece in gen.stream(messages, self.settings.llm.max_tokens, grammar_text):
            raw += piece
            if timings.first_token_s is not None:
                yield TokenEvent(text=piece)
                continue
            pending += piece
            stripped = pending.lstrip()
            if NOT_FOUND.startswith(stripped[: len(NOT_FOUND)]) and len(stripped) < len(NOT_FOUND):
                continue
            if stripped.startswith(NOT_FOUND):
                continue
            timings.first_token_s = time.perf_counter() - t0
            yield TokenEvent(text=pending)
            pending = ""
        return raw

    def _grammar(self, gen: Generator, n_units: int, lang: str, may_refuse: bool = True,
                 max_sentences: int | None = None) -> str | None:
        if not (self.settings.llm.use_grammar and gen.supports_grammar):
            return None
        return grammar(n_units, max_sentences or self.settings.answer.max_sentences, lang, may_refuse)

    def _checked_answer(self, raw: str, units: list[EvidenceUnit], lang: str, base: dict,
                        gen: Generator | None, notes: list[str] | None = None) -> Answer:
        cfg = self.settings
        question = base["question"]
        sentences, unresolved, dropped = resolve(raw, units)
        reasons: list[str] = list(notes or [])
        if not sentences:
            reasons.append("no cited sentence in the generated text")
            sentences, _, _ = resolve(extractive.compose(units, lang, question=question), units)
        verify_claims(sentences, units, question)
        by_n = {u.n: u for u in units}
        kept: list[AnswerSentence] = []
        for s in sentences:
            if s.supported:
                kept.append(s)
                continue
            # The model often gets the fact right but the marker wrong: cite the unit that
            # holds every number and name of the sentence, if one does.
            holders = _claim_holders(s.text, units, question)
            if holders:
                s.markers = holders
                s.unsupported_numbers, s.unsupported_entities = [], []
                reasons.append("marker re-attributed to the passage that holds the claim")
                kept.append(s)
                continue
            wrong = [*s.unsupported_numbers, *s.unsupported_entities]
            if len(sentences) > 1:
                reasons.append(f"unsupported {wrong}: sentence dropped")
            else:
                # A wrong number or name is never shown as cited: answer again from the
                # passage the claim is about, else show that passage itself.
                kept.extend(self._from_one_unit(self._closest_unit(s.text, units), lang, question, gen))
                reasons.append(f"unsupported {wrong}: replaced from the closest passage")
        sentences = _fewest_sources(_dedupe(kept), units, question)
        if sentences and gen is not None and _wrong_language(" ".join(x.text for x in sentences), lang):
            # A small model sometimes answers in the wrong language: fall back to the cited
            # passages rendered in the asker's language.
            reasons.append("generated text was not in the question's language")
            cited = list(dict.fromkeys(n for x in sentences for n in x.markers))
            rendered = " ".join(extractive.render_unit(by_n[n], lang) for n in cited[:2])
            sentences = resolve(rendered, units)[0]
        units = _number_by_appearance(sentences, units)
        by_n = {u.n: u for u in units}
        verify_claims(sentences, units, question)
        self._similarities(sentences, by_n)
        citations = build_citations(sentences, units, cfg.data.official_url, cfg.data.pdf_page_offset,
                                    cfg.answer.min_support_similarity)
        support = support_summary(sentences, citations, unresolved, dropped,
                                  "; ".join(dict.fromkeys(reasons)) or None)
        text = " ".join(s.render() for s in sentences)
        return Answer(answer=text, refused=False, citations=citations, support=support, **base)

    def _from_one_unit(self, unit: EvidenceUnit, lang: str, question: str,
                       gen: Generator | None, composed: bool = False) -> list[AnswerSentence]:
        """English: have the model restate the single passage as the answer (unless that was
        just done: composed), then translate it (no-Hangul grammar, no refusal); a try counts
        if its claims check out and it states the asked quantity the passage holds; else the
        passage itself is rendered."""
        if gen is not None and lang == "en":
            solo = EvidenceUnit(unit.hit, unit.quote, unit.score, 1)
            tries = [  # (messages, sentences allowed, question the claims may restate)
                (compose_messages(question, lang, solo), 1, question),
                # Last try before quoting Korean: translate the passage itself (same grammar).
                ([{"role": "system", "content": TRANSLATE},
                  {"role": "user", "content": f"[1] {unit.prompt_for('en')}"}], 2, ""),
            ][1 if composed else 0:]
            for messages, max_sentences, restated in tries:
                raw = "".join(gen.stream(messages, self.settings.llm.max_tokens,
                                         self._grammar(gen, 1, lang, False, max_sentences)))
                again = resolve(raw, [solo])[0]
                verify_claims(again, [solo], restated)
                omitted = unanswered_part(question, raw)
                if again and all(s.supported for s in again) and not (
                        omitted and holds_fact(omitted, unit.quote)):
                    for s in again:
                        s.markers = [unit.n]
                    return again
        return resolve(extractive.render_unit(unit, lang), [unit])[0]

    def _closest_unit(self, text: str, units: list[EvidenceUnit]) -> EvidenceUnit:
        vecs = self.embedder.embed_documents([text] + [u.prompt_text for u in units])
        sims = vecs[1:] @ vecs[0]
        return units[int(np.argmax(sims))]

    def _similarities(self, sentences: list[AnswerSentence], by_n: dict[int, EvidenceUnit]) -> None:
        """Cosine between each answer sentence and its cited passages (one embedding call)."""
        if not sentences or self.embedder is None:
            return
        texts = [s.text for s in sentences]
        quotes = list(dict.fromkeys(by_n[n].prompt_text for s in sentences for n in s.markers))
        vecs = self.embedder.embed_documents(texts + quotes)
        svec, qvec = vecs[: len(texts)], vecs[len(texts):]
        qindex = {q: i for i, q in enumerate(quotes)}
        for s, v in zip(sentences, svec, strict=True):
            sims = [float(np.dot(v, qvec[qindex[by_n[n].prompt_text]])) for n in s.markers]
            s.similarity = max(sims) if sims else None

    def _refusal(self, base: dict, units: list[EvidenceUnit], timings: Timings, why: str) -> Answer:
        cfg = self.settings
        related = [citation_for(u, cfg.data.official_url, cfg.data.pdf_page_offset) for u in units[:3]]
        return Answer(answer=REFUSAL[base["language"]], refused=True, related=related,
                      support=Support(fallback=why), timings=timings, **base)

    def _finish(self, ans: Answer, log: bool, source: str, conversation_id: str | None,
                eval_run: str | None, history: list[Turn], detected: str) -> Iterator[AnswerEvent]:
        if log and self.log_path is not None:
            from assistant.logs import safe_log_answer

            safe_log_answer(self.log_path, ans, profile=self.settings.profile, source=source,
                            eval_run=eval_run, conversation_id=conversation_id, history=history,
                            detected_language=detected)
        yield FinalEvent(answer=ans)
