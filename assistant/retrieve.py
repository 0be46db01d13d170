"""Retrieve stage: Query -> ranked Hits, dense (Chroma) + Korean BM25 (bm25s), fused by weighted RRF.

Built from llama-index pieces: the dense side is a ``BaseRetriever`` asking the Chroma collection
(``collection.query`` with the query embedding and ``where`` filters) for ids and distances; the
lexical side a ``BaseRetriever`` over the persisted bm25s index of Kiwi tokens; the fusion a
retriever over both; the plan-first prior a node postprocessor. The fusion is the instrumented
span (one ``retrieve`` per search); it calls its two retrievers' ``rank`` directly, since each
extra dispatcher span cost about 0.5 ms of a 6 ms search. Hits leave the stage as our ``Hit``.

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
from collections import OrderedDict

import numpy as np
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import PrivateAttr

from assistant.components.embedding import Embedder
from assistant.index import IndexLayout, IndexSnapshot, open_snapshot
from assistant.knowledge.glossary import glossary
from assistant.korean.tokens import term_tokens, tokenize
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
    words = {
        t for t in tokenize(title) if len(t) >= 4 and t.isalpha() and t not in primary_vocabulary
    }
    return _number_and_abbreviation_handles(title) | words


def question_handles(text: str) -> set[str]:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return _number_and_abbreviation_handles(text) | set(tokenize(text)) | words


# ----------------------------------------------------------------------------- llama-index pieces


def node_of(chunk_id: str, text: str, metadata: dict) -> TextNode:
    return TextNode(
        id_=chunk_id,
        text=text,
        metadata={k: v for k, v in metadata.items() if not k.startswith("_")},
    )


Ranked = list[tuple[str, float]]  # chunk ids with scores, best first


def id_nodes(ranked: Ranked) -> list[NodeWithScore]:
    """Nodes known by id only (``fill`` gives them text and metadata)."""
    return [NodeWithScore(node=TextNode(id_=i, text=""), score=s) for i, s in ranked]


class DenseRetriever(BaseRetriever):
    """Chroma's nearest chunks to the query embedding (computed once per question), asked for ids
    and distances only: llama-index's ChromaVectorStore fetches every candidate's text and
    metadata (11 ms for 40 candidates against 1.6 ms, measured on this build); ``fill`` fetches
    them for the chunks that survive the fusion. Scores are cosines."""

    def __init__(self, snapshot: IndexSnapshot, top_k: int, qvec: np.ndarray) -> None:
        super().__init__()
        self._snap, self._top_k, self._qvec = snapshot, top_k, qvec
        self.filters: dict[str, str] = {}

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return id_nodes(self.rank(query_bundle))

    def rank(self, query_bundle: QueryBundle) -> Ranked:
        where = _where(self.filters)
        got = self._snap.chunks.query(
            query_embeddings=[self._qvec.tolist()],
            n_results=min(self._top_k, self._snap.manifest.chunks or self._top_k),
            include=["distances"],
            **({"where": where} if where else {}),
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)
        ]


def _where(filters: dict[str, str]) -> dict | None:
    """Metadata equality filters as a Chroma ``where`` clause."""
    clauses = [{k: {"$eq": v}} for k, v in filters.items()]
    return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ExactDenseRetriever(BaseRetriever):
    """Exact cosine over every chunk vector held in this process: only to measure Chroma against
    (``mode="hybrid_exact"``/``"dense_exact"`` in the eval), never on the serving path."""

    def __init__(self, retriever: Retriever, query: Query, qvec: np.ndarray, top_k: int) -> None:
        super().__init__()
        self._retriever, self._query, self._qvec, self._top_k = retriever, query, qvec, top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return id_nodes(self.rank(query_bundle))

    def rank(self, query_bundle: QueryBundle) -> Ranked:
        ranked = self._retriever.exact_dense(self._query, self._top_k, self._qvec)
        if not self._query.filters:
            return ranked
        nodes = self._retriever.fill(id_nodes(ranked))
        return [
            (n.node.node_id, float(n.score or 0.0))
            for n in nodes
            if all(str(n.node.metadata.get(k)) == str(v) for k, v in self._query.filters.items())
        ]


class KiwiBM25Retriever(BaseRetriever):
    """BM25 over Kiwi tokens (persisted with the build, memory-mapped). It ranks chunk ids; their
    texts are fetched from Chroma only for the chunks that survive the fusion (``fill``)."""

    def __init__(self, snapshot: IndexSnapshot, top_k: int) -> None:
        super().__init__()
        self._snap = snapshot
        self._top_k = top_k
        self.tokens: list[str] = []
        self.filters: dict[str, str] = {}

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return id_nodes(self.rank(query_bundle))

    def rank(self, query_bundle: QueryBundle) -> Ranked:
        if not self.tokens:
            return []
        scores = self._snap.bm25.scores(self.tokens)
        top = np.argpartition(-scores, min(len(scores) - 1, self._top_k * 3))[: self._top_k * 3]
        order = [int(i) for i in sorted(top, key=lambda i: (-scores[i], i)) if scores[i] > 0]
        ids = [self._snap.bm25.chunk_ids[i] for i in order]
        if self.filters:  # metadata filters: checked on the candidates' metadata
            got = self._snap.chunks.get(ids=ids, include=["metadatas"])
            ok = {
                i
                for i, m in zip(got["ids"], got["metadatas"], strict=True)
                if all(str(m.get(k)) == str(v) for k, v in self.filters.items())
            }
            keep = [(i, cid) for i, cid in zip(order, ids, strict=True) if cid in ok]
        else:
            keep = list(zip(order, ids, strict=True))
        return [(cid, float(scores[i])) for i, cid in keep[: self._top_k]]


class NodeCache:
    """Text and metadata of recently fetched chunks, by id, for one build (bounded: a worker's
    memory does not grow with the corpus)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, TextNode] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chunk_id: str) -> TextNode | None:
        with self._lock:
            node = self._items.get(chunk_id)
            if node is not None:
                self._items.move_to_end(chunk_id)
            return node

    def put(self, node: TextNode) -> None:
        with self._lock:
            self._items[node.node_id] = node
            self._items.move_to_end(node.node_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def fill(
    snapshot: IndexSnapshot, cache: NodeCache, nodes: list[NodeWithScore]
) -> list[NodeWithScore]:
    """Give nodes known by id only (dense and BM25 results) their text and metadata: from the
    build's node cache, else one Chroma ``get`` for the rest."""
    for n in nodes:
        if not n.node.metadata and (hit := cache.get(n.node.node_id)) is not None:
            n.node = hit
    missing = [n.node.node_id for n in nodes if not n.node.metadata]
    if missing:
        got = snapshot.chunks.get(ids=missing, include=["documents", "metadatas"])
        full = {
            i: node_of(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
        for node in full.values():
            cache.put(node)
        for n in nodes:
            if not n.node.metadata:
                n.node = full[n.node.node_id]
    return nodes


class FusionRetriever(BaseRetriever):
    """Weighted reciprocal-rank fusion of the dense and the lexical rankings, weights per question
    language (llama-index's QueryFusionRetriever applies no weights in its RRF mode)."""

    def __init__(
        self,
        dense: DenseRetriever | ExactDenseRetriever | None,
        lexical: KiwiBM25Retriever | None,
        weights: tuple[float, float],
        rrf_k: int,
        top_k: int,
    ) -> None:
        super().__init__()
        self._dense, self._lexical = dense, lexical
        self._weights, self._rrf_k, self._top_k = weights, rrf_k, top_k
        self.dense_results: Ranked = []
        self.lexical_results: Ranked = []

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        self.dense_results = self._dense.rank(query_bundle) if self._dense else []
        self.lexical_results = self._lexical.rank(query_bundle) if self._lexical else []
        fused: dict[str, float] = {}
        for ranked, w in (
            (self.dense_results, self._weights[0]),
            (self.lexical_results, self._weights[1]),
        ):
            for rank, (chunk_id, _) in enumerate(ranked):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + w / (self._rrf_k + rank + 1)
        top = sorted(fused.items(), key=lambda kv: -kv[1])  # stable: ties keep first-seen order
        return id_nodes(top[: self._top_k * 2])


class PlanFirstPostprocessor(BaseNodePostprocessor):
    """An added (cited) document yields to the plan unless the question names it or one of its
    chunks is clearly closer to the question than anything in the plan."""

    primary: str = "plan/"
    factor: float = 0.6
    margin: float = 0.25
    _named: set[str] = PrivateAttr(default_factory=set)
    _dense: dict[str, float] = PrivateAttr(default_factory=dict)

    def configure(self, named: set[str], dense: dict[str, float]) -> None:
        self._named, self._dense = named, dense

    @classmethod
    def class_name(cls) -> str:
        return "PlanFirstPostprocessor"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if self.factor == 1.0:
            return nodes
        plan = [s for i, s in self._dense.items() if i.startswith(self.primary)]
        best_primary = max(plan, default=-1.0)
        for n in nodes:
            doc_id = str(n.node.metadata.get("doc_id", ""))
            if (
                not doc_id.startswith(self.primary)
                and doc_id not in self._named
                and self._dense.get(n.node.node_id, -1.0) <= best_primary + self.margin
            ):
                n.score = (n.score or 0.0) * self.factor
        nodes.sort(key=lambda n: -(n.score or 0.0))
        return nodes


def hit_of(
    node: TextNode,
    score: float,
    rank: int,
    dense_rank: int | None = None,
    bm25_rank: int | None = None,
    dense_score: float | None = None,
) -> Hit:
    """A llama-index node as the retrieve stage hands it on (our own type)."""
    md = node.metadata
    return Hit(
        chunk_id=node.node_id,
        doc_id=md["doc_id"],
        doc_title=md["doc_title"],
        kind=md["kind"],
        text=node.text,
        lang=md["lang"],
        page_start=md.get("page") or None,
        page_end=md.get("page_end") or None,
        section=md.get("section", ""),
        footnotes=[f for f in str(md.get("footnotes", "")).split(",") if f],
        entities=[e for e in str(md.get("entities", "")).split(",") if e],
        record=md.get("record", "") or "",
        score=round(score, 6),
        rank=rank,
        dense_rank=dense_rank,
        bm25_rank=bm25_rank,
        dense_score=dense_score,
        references=[ReferenceLink(**r) for r in json.loads(md.get("refs") or "[]")],
    )


# ----------------------------------------------------------------------------- the stage


class Retriever:
    """The retrieve stage over the current index build (reopened when another process swaps it)."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.layout = IndexLayout(settings)
        self._snapshot: IndexSnapshot | None = None
        self._token = ""
        self._checked = 0.0
        self._lock = threading.Lock()
        self._handles: tuple[IndexSnapshot, dict[str, set[str]]] | None = None
        self._exact: tuple[IndexSnapshot, list[str], np.ndarray] | None = None
        self._nodes: tuple[IndexSnapshot, NodeCache] | None = None

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
                    logger.info(
                        "index opened build_id=%s chunks=%d", token, self._snapshot.manifest.chunks
                    )
            return self._snapshot

    def fill(self, nodes: list[NodeWithScore]) -> list[NodeWithScore]:
        """Text and metadata for id-only nodes, through the current build's node cache."""
        snap = self.snapshot
        if self._nodes is None or self._nodes[0] is not snap:
            self._nodes = (snap, NodeCache(self.settings.retrieval.node_cache_size))
        return fill(snap, self._nodes[1], nodes)

    def embed_query(self, query: Query) -> np.ndarray:
        return self.embedder.embed_queries([query.search_text])[0]

    def bm25_tokens(self, query: Query) -> list[str]:
        tokens = tokenize(query.search_text)
        if query.lang in self.settings.retrieval.expand_languages:
            for term in glossary().expansion_terms(query.search_text, query.lang):
                tokens.extend(term_tokens(term))
        return tokens

    # -------------------------------------------------------------------- handles of added documents

    def _document_handles(self, snap: IndexSnapshot) -> dict[str, set[str]]:
        if self._handles is None or self._handles[0] is not snap:
            prefix = self.settings.retrieval.primary_doc_prefix
            titles = {d: t for d, t in snap.doc_titles.items() if not d.startswith(prefix)}
            self._handles = (
                snap,
                {d: document_handles(t, set(snap.bm25.plan_vocab)) for d, t in titles.items()},
            )
        return self._handles[1]

    def named_documents(self, query: Query) -> set[str]:
        """Added documents the question names; the others yield to the plan in the fusion."""
        asked = question_handles(query.search_text)
        return {d for d, h in self._document_handles(self.snapshot).items() if h & asked}

    # -------------------------------------------------------------------- search

    def search(
        self, query: Query, mode: str | None = None, qvec: np.ndarray | None = None
    ) -> list[Hit]:
        cfg = self.settings.retrieval
        mode = mode or cfg.mode
        snap = self.snapshot
        n = max(cfg.candidates, query.top_k)
        qvec = self.embed_query(query) if qvec is None else qvec
        bundle = QueryBundle(query_str=query.search_text, embedding=qvec.tolist())
        exact = mode.endswith("_exact")
        base_mode = mode.removesuffix("_exact")
        dense: DenseRetriever | ExactDenseRetriever | None = None
        if base_mode in ("hybrid", "dense"):
            dense = (
                ExactDenseRetriever(self, query, qvec, n)
                if exact
                else DenseRetriever(snap, n, qvec)
            )
            if isinstance(dense, DenseRetriever):
                dense.filters = dict(query.filters)
        lexical = KiwiBM25Retriever(snap, n) if base_mode in ("hybrid", "bm25") else None
        if lexical:
            lexical.tokens, lexical.filters = self.bm25_tokens(query), dict(query.filters)
        weights = cfg.weights.get(query.lang) or cfg.weights["en"]
        w = (
            weights.dense if base_mode != "bm25" else 1.0,
            weights.bm25 if base_mode != "dense" else 1.0,
        )
        fusion = FusionRetriever(dense, lexical, w, cfg.rrf_k, query.top_k)
        fused = fusion.retrieve(bundle)
        dense_scores = dict(fusion.dense_results)
        prior = PlanFirstPostprocessor(
            primary=cfg.primary_doc_prefix, factor=cfg.cited_doc_weight, margin=weights.cited_margin
        )
        prior.configure(
            self.named_documents(query) if cfg.cited_doc_weight != 1.0 else set(), dense_scores
        )
        ranked = self.fill(prior.postprocess_nodes(self.fill(fused), bundle)[: query.top_k])
        d_rank = {chunk_id: r + 1 for r, (chunk_id, _) in enumerate(fusion.dense_results)}
        b_rank = {chunk_id: r + 1 for r, (chunk_id, _) in enumerate(fusion.lexical_results)}
        return [
            hit_of(
                x.node,
                x.score or 0.0,
                rank,
                d_rank.get(x.node.node_id),
                b_rank.get(x.node.node_id),
                dense_scores.get(x.node.node_id),
            )
            for rank, x in enumerate(ranked, start=1)
        ]

    def exact_dense(
        self, query: Query, n: int = 10, qvec: np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """Exact cosine over every chunk vector (for measuring Chroma's recall; loads the vectors)."""
        snap = self.snapshot
        if self._exact is None or self._exact[0] is not snap:
            got = snap.chunks.get(include=["embeddings"])
            self._exact = (snap, list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32))
        _, ids, vecs = self._exact
        qvec = self.embed_query(query) if qvec is None else qvec
        sims = vecs @ qvec
        top = np.argsort(-sims, kind="stable")[:n]
        return [(ids[int(i)], float(sims[int(i)])) for i in top]

    def sentences(self, hits: list[Hit], qvec: np.ndarray) -> list[list[tuple[str, float]]]:
        """For each hit, its sentences (in order) with their similarity to the query: one Chroma
        query on the sentence collection, filtered to these chunks."""
        if not hits:
            return []
        snap = self.snapshot
        ids = [h.chunk_id for h in hits]
        total = snap.manifest.sentences or 1
        got = snap.sentences.query(
            query_embeddings=[qvec.tolist()],
            where={"chunk_id": {"$in": ids}},
            n_results=min(total, 60 * len(ids)),
            include=["documents", "metadatas", "distances"],
        )
        per: dict[str, list[tuple[int, str, float]]] = {i: [] for i in ids}
        for doc, md, dist in zip(
            got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
        ):
            per.setdefault(md["chunk_id"], []).append((int(md["position"]), doc, 1.0 - float(dist)))
        return [[(t, sim) for _, t, sim in sorted(per[i])] for i in ids]

    def record_hits(self, record_ids: list[str]) -> dict[str, Hit]:
        """The chunks that render these records (Table 1 rows, Table 2 goals), by record id."""
        if not record_ids:
            return {}
        got = self.snapshot.chunks.get(
            where={"record": {"$in": list(record_ids)}}, include=["documents", "metadatas"]
        )
        rows = sorted(
            zip(got["ids"], got["documents"], got["metadatas"], strict=True),
            key=lambda r: (int(r[2].get("order", 0)), r[0]),
        )
        out: dict[str, Hit] = {}
        for i, d, m in rows:  # a record split over chunks (a goal and its objectives): one passage
            hit = hit_of(node_of(i, d, m), 1.0, 0)
            if (first := out.get(m["record"])) is None:
                out[m["record"]] = hit
                continue
            pages = [
                x for x in (first.page_start, first.page_end, hit.page_start, hit.page_end) if x
            ]
            out[m["record"]] = first.model_copy(
                update={
                    "text": f"{first.text} {hit.text}",
                    "page_end": max(pages) if pages else None,
                    "footnotes": list(dict.fromkeys([*first.footnotes, *hit.footnotes])),
                }
            )
        return out

    def hit_containing(self, text: str) -> Hit | None:
        """The plan chunk whose text holds this passage."""
        got = self.snapshot.chunks.get(
            where={"doc_id": {"$eq": self.plan_doc_id()}},
            where_document={"$contains": text},
            include=["documents", "metadatas"],
            limit=1,
        )
        if not got["ids"]:
            return None
        return hit_of(node_of(got["ids"][0], got["documents"][0], got["metadatas"][0]), 1.0, 0)

    def plan_doc_id(self) -> str:
        prefix = self.settings.retrieval.primary_doc_prefix
        return next((d for d in self.snapshot.doc_titles if d.startswith(prefix)), prefix)

    def chunk_count(self) -> int:
        return self.snapshot.manifest.chunks
