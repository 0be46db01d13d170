"""Retrieve stage: Query -> ranked Hits, dense + Korean BM25, fused by weighted RRF.

Plain reciprocal-rank fusion hurt English questions over this Korean corpus: an English
query shares almost no tokens with the text, and BM25 then promotes chunks full of URLs
and acronyms. So the lexical side gets the glossary's Korean terms for an English question
(LIFT -> 승강기, headquartered -> 본사), and each language has its own fusion weights.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from assistant.components.embedding import Embedder
from assistant.index import IndexLayout, IndexSnapshot, open_snapshot
from assistant.knowledge.glossary import glossary
from assistant.korean.tokens import tokenize
from assistant.settings import Settings
from assistant.types import Hit, Query, ReferenceLink

logger = logging.getLogger(__name__)

_NUMBER_HANDLE = re.compile(r"(?<![0-9])[0-9]{3,}[A-Za-z]?(?![0-9A-Za-z])")
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){3,}")


def _number_and_abbreviation_handles(text: str) -> set[str]:
    """'15 U.S.C. § 278s' -> {'278s', 'usc'}: section/report numbers (not years) and dotted
    abbreviations, which the BM25 tokens drop."""
    nums = {m.lower() for m in _NUMBER_HANDLE.findall(text) if not re.fullmatch(r"(19|20)\d\d", m)}
    return nums | {m.replace(".", "").lower() for m in _DOTTED.findall(text)}


def document_handles(title: str, primary_vocabulary: set[str]) -> set[str]:
    """What a question may call an added document by: its numbers and abbreviations, and the
    title words the plan itself never uses ('Zorblax')."""
    words = {t for t in tokenize(title) if len(t) >= 4 and t.isalpha() and t not in primary_vocabulary}
    return _number_and_abbreviation_handles(title) | words


def question_handles(text: str) -> set[str]:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return _number_and_abbreviation_handles(text) | set(tokenize(text)) | words


@dataclass
class _Ranked:
    order: list[int]
    scores: dict[int, float]


class Retriever:
    """Holds the loaded index snapshot; reloads it when another process swaps the index."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.layout = IndexLayout(settings)
        self._snapshot: IndexSnapshot | None = None
        self._token = ""
        self._checked = 0.0
        self._lock = threading.Lock()
        self._handles: tuple[IndexSnapshot, dict[str, set[str]]] | None = None

    @property
    def snapshot(self) -> IndexSnapshot:
        now = time.monotonic()
        with self._lock:
            if self._snapshot is None or now - self._checked > 2.0:
                self._checked = now
                token = self.layout.pointer_token()
                if self._snapshot is None or token != self._token:
                    self._snapshot = open_snapshot(self.settings, self.embedder.model_id)
                    self._token = token
                    logger.info("index loaded build_id=%s chunks=%d", token, len(self._snapshot.chunks))
            return self._snapshot

    # -------------------------------------------------------------------- rankers

    def dense(self, query: Query, n: int, qvec: np.ndarray | None = None) -> _Ranked:
        """Exact cosine over every chunk vector (normalised, so a dot product). A few thousand
        768-d rows take well under a millisecond; Chroma's approximate HNSW search dropped the
        two best chunks of an eval question in one process of three."""
        snap = self.snapshot
        qvec = self.embed_query(query) if qvec is None else qvec
        if not len(snap.chunks):
            return _Ranked([], {})
        sims = snap.chunk_vecs @ qvec
        allowed = self._allowed(query, snap)
        sims = np.where(allowed, sims, -np.inf)
        top = [int(i) for i in np.argsort(-sims, kind="stable")[:n] if allowed[i]]
        return _Ranked(top, {i: float(sims[i]) for i in top})

    @staticmethod
    def _allowed(query: Query, snap: IndexSnapshot) -> np.ndarray:
        """Metadata equality filters as a mask over the chunks."""
        chunks = snap.chunks
        allowed = np.ones(len(chunks), dtype=bool)
        for key, value in query.filters.items():
            allowed &= np.array([str(r.metadata.get(key)) == str(value) for r in chunks])
        return allowed

    def bm25_tokens(self, query: Query) -> list[str]:
        tokens = tokenize(query.search_text)
        if query.lang in self.settings.retrieval.expand_languages:
            for term in glossary().expansion_terms(query.search_text, query.lang):
                tokens.extend(tokenize(term))
        return tokens

    def bm25(self, query: Query, n: int) -> _Ranked:
        snap = self.snapshot
        tokens = self.bm25_tokens(query)
        if not tokens:
            return _Ranked([], {})
        scores = np.where(self._allowed(query, snap), snap.bm25.get_scores(tokens), 0.0)
        top = [int(i) for i in np.argsort(-scores)[:n] if scores[i] > 0]
        return _Ranked(top, {i: float(scores[i]) for i in top})

    def sentences(self, hits: list[Hit], qvec: np.ndarray) -> list[list[tuple[str, float]]]:
        """For each hit, its sentences with their similarity to the query (precomputed vectors)."""
        snap = self.snapshot
        out = []
        for h in hits:
            idx = snap.sentences_by_chunk.get(h.chunk_id, [])
            sims = snap.sentence_vecs[idx] @ qvec if idx else np.zeros(0)
            out.append([(snap.sentence_texts[i], float(s)) for i, s in zip(idx, sims, strict=True)])
        return out

    def embed_query(self, query: Query) -> np.ndarray:
        return self.embedder.embed_queries([query.search_text])[0]

    # -------------------------------------------------------------------- fusion

    def _document_handles(self, snap: IndexSnapshot) -> dict[str, set[str]]:
        """Handles of every added document of this snapshot (computed once per snapshot)."""
        if self._handles is None or self._handles[0] is not snap:
            prefix = self.settings.retrieval.primary_doc_prefix
            vocab = {t for r in snap.chunks if r.metadata["doc_id"].startswith(prefix)
                     for t in r.metadata.get("bm25", "").split()}
            titles = {r.metadata["doc_id"]: r.metadata["doc_title"] for r in snap.chunks
                      if not r.metadata["doc_id"].startswith(prefix)}
            self._handles = (snap, {d: document_handles(t, vocab) for d, t in titles.items()})
        return self._handles[1]

    def named_documents(self, query: Query) -> set[str]:
        """Added documents the question names; the others yield to the plan in the fusion."""
        asked = question_handles(query.search_text)
        return {d for d, h in self._document_handles(self.snapshot).items() if h & asked}

    def record_hits(self, record_ids: list[str]) -> dict[str, Hit]:
        """The chunks that render these records (Table 1 rows, Table 2 goals), by record id."""
        return record_hits(self, record_ids)

    def hit_containing(self, text: str) -> Hit | None:
        """The plan chunk whose text holds this passage."""
        return hit_containing(self, text, self.settings.retrieval.primary_doc_prefix)

    def search(self, query: Query, mode: str | None = None, qvec: np.ndarray | None = None) -> list[Hit]:
        cfg = self.settings.retrieval
        mode = mode or cfg.mode
        n = max(cfg.candidates, query.top_k)
        dense = self.dense(query, n, qvec) if mode in ("hybrid", "dense") else _Ranked([], {})
        lexical = self.bm25(query, n) if mode in ("hybrid", "bm25") else _Ranked([], {})
        weights = cfg.weights.get(query.lang) or cfg.weights["en"]
        fused: dict[int, float] = {}
        for ranked, w in ((dense, weights.dense if mode != "bm25" else 1.0),
                          (lexical, weights.bm25 if mode != "dense" else 1.0)):
            for rank, idx in enumerate(ranked.order):
                fused[idx] = fused.get(idx, 0.0) + w / (cfg.rrf_k + rank + 1)
        snap = self.snapshot
        if cfg.cited_doc_weight != 1.0:
            # An added document yields to the plan unless the question names it or one of its
            # chunks is clearly closer to the question than anything in the plan.
            named = self.named_documents(query)
            primary = [i for i in dense.order if snap.chunks[i].metadata["doc_id"].startswith(cfg.primary_doc_prefix)]
            best_primary = dense.scores[primary[0]] if primary else -1.0
            for idx in fused:
                doc_id = snap.chunks[idx].metadata["doc_id"]
                if (not doc_id.startswith(cfg.primary_doc_prefix) and doc_id not in named
                        and dense.scores.get(idx, -1.0) <= best_primary + weights.cited_margin):
                    fused[idx] *= cfg.cited_doc_weight
        order = sorted(fused, key=lambda i: -fused[i])[: query.top_k]
        d_rank = {idx: r + 1 for r, idx in enumerate(dense.order)}
        b_rank = {idx: r + 1 for r, idx in enumerate(lexical.order)}
        hits = []
        for rank, idx in enumerate(order, start=1):
            rec = snap.chunks[idx]
            md = rec.metadata
            hits.append(Hit(
                chunk_id=rec.chunk_id, doc_id=md["doc_id"], doc_title=md["doc_title"], kind=md["kind"],
                text=rec.text, lang=md["lang"], page_start=md["page"] or None,
                page_end=md["page_end"] or None, section=md["section"],
                footnotes=[f for f in md["footnotes"].split(",") if f],
                entities=[e for e in md["entities"].split(",") if e], record=md.get("record", ""),
                score=round(fused[idx], 6), rank=rank, dense_rank=d_rank.get(idx),
                bm25_rank=b_rank.get(idx), dense_score=dense.scores.get(idx),
                references=[ReferenceLink(**r) for r in json.loads(md.get("refs") or "[]")],
            ))
        return hits


def _hit_of(rec, rank: int = 0) -> Hit:  # noqa: ANN001 - a ChunkRecord of the snapshot
    md = rec.metadata
    return Hit(
        chunk_id=rec.chunk_id, doc_id=md["doc_id"], doc_title=md["doc_title"], kind=md["kind"], text=rec.text,
        lang=md["lang"], page_start=md["page"] or None, page_end=md["page_end"] or None, section=md["section"],
        footnotes=[f for f in md["footnotes"].split(",") if f], entities=[e for e in md["entities"].split(",") if e],
        record=md.get("record", ""), score=1.0, rank=rank,
        references=[ReferenceLink(**r) for r in json.loads(md.get("refs") or "[]")])


def record_hits(retriever: Retriever, record_ids: list[str]) -> dict[str, Hit]:
    """The chunks that render these records (Table 1 rows, Table 2 goals), by record id."""
    wanted = set(record_ids)
    return {r.metadata.get("record"): _hit_of(r) for r in retriever.snapshot.chunks
            if r.metadata.get("record") in wanted}


def hit_containing(retriever: Retriever, text: str, doc_prefix: str = "plan/") -> Hit | None:
    """The plan chunk whose text holds this passage (whitespace-insensitive)."""
    want = re.sub(r"\s+", "", text)
    for r in retriever.snapshot.chunks:
        if r.metadata["doc_id"].startswith(doc_prefix) and want in re.sub(r"\s+", "", r.text):
            return _hit_of(r)
    return None
