"""Retrieval logic with the fake embedder: exact dense search, and the plan-first prior
for added (cited) documents. Real-model retrieval quality is in test_real_models/evals."""

from __future__ import annotations

import pytest

from assistant.answer.frame import build_frame, query_for
from assistant.retrieve import document_handles, question_handles
from assistant.services import build_services
from assistant.types import CorpusBundle
from tests.fixtures.corpus import _doc, _p

USC_TITLE = "15 U.S.C. § 278s — Manufacturing USA"


def test_handles_are_numbers_abbreviations_and_words_the_plan_never_uses():
    plan_words = {"manufacturing", "usa", "protocol"}
    assert document_handles(USC_TITLE, plan_words) == {"278s", "usc"}
    assert document_handles("Zorblax inspection protocol 2023", plan_words) == {
        "zorblax",
        "inspection",
    }
    assert {"278s", "usc"} <= question_handles("15 U.S.C. 278s에 따르면 기관장은?")
    assert "2023" not in question_handles("What happened in 2023?")  # years name no document


@pytest.fixture
def services(test_settings):
    docs = [_doc("plan/demo", "Demo plan", "ko"), _doc("added/usc-278s", USC_TITLE, "en")]
    passages = [
        _p(
            "plan/demo",
            1,
            "LIFT 본사는 디트로이트에 있습니다. LIFT is in Detroit.",
            "ko",
            5,
            ["Table 1"],
        ),
        _p("plan/demo", 2, "협의회는 2023년에 소집되었습니다.", "ko", 18, ["Goal 4"]),
        _p(
            "added/usc-278s",
            1,
            "Where is LIFT headquartered? LIFT is headquartered in Detroit.",
            "en",
            0,
            ["(a) Definitions"],
        ),
    ]
    s = build_services(test_settings)
    s.index_service().build(CorpusBundle(documents=docs, passages=passages))
    return s


def _top_doc(services, question: str) -> str:
    return services.retriever.search(query_for(build_frame(question)))[0].doc_id


def test_an_added_document_yields_to_the_plan_unless_named_or_clearly_closer(services):
    cfg = services.settings.retrieval
    question = "Where is LIFT headquartered?"
    cfg.cited_doc_weight = 1.0
    assert _top_doc(services, question) == "added/usc-278s"  # the near-copy wins without the prior
    cfg.cited_doc_weight = 0.6
    for w in cfg.weights.values():
        w.cited_margin = 1.0  # no chunk is that much closer: only naming lifts the prior
    assert _top_doc(services, question) == "plan/demo"
    assert (
        _top_doc(services, "Where is LIFT headquartered under 15 U.S.C. 278s?") == "added/usc-278s"
    )
    for w in cfg.weights.values():
        w.cited_margin = 0.0  # closer than every plan chunk: competes unnamed
    assert _top_doc(services, question) == "added/usc-278s"


def test_chroma_dense_search_equals_exact_search_and_respects_filters(services):
    retriever = services.retriever
    query = query_for(build_frame("Where is LIFT headquartered?"))
    qvec = retriever.embed_query(query)
    dense = [h.chunk_id for h in retriever.search(query, mode="dense", qvec=qvec)]
    exact = [cid for cid, _ in retriever.exact_dense(query, len(dense), qvec)]
    assert dense == exact  # Chroma's HNSW top-k is exact search's top-k
    scores = [h.dense_score for h in retriever.search(query, mode="dense", qvec=qvec)]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0
    only_plan = query.model_copy(update={"filters": {"doc_id": "plan/demo"}})
    assert {h.doc_id for h in retriever.search(only_plan, qvec=qvec)} == {"plan/demo"}
    assert {h.doc_id for h in retriever.search(only_plan, mode="bm25", qvec=qvec)} <= {"plan/demo"}


def test_sentences_come_from_the_sentence_collection_in_order(services):
    retriever = services.retriever
    query = query_for(build_frame("Where is LIFT headquartered?"))
    qvec = retriever.embed_query(query)
    hits = retriever.search(query, qvec=qvec)[:3]
    per_hit = retriever.sentences(hits, qvec)
    assert len(per_hit) == 3 and all(per_hit)
    for hit, sents in zip(hits, per_hit, strict=True):
        assert all(text in hit.text for text, _ in sents)  # the chunk's own sentences, in its order
        assert [hit.text.find(t) for t, _ in sents] == sorted(hit.text.find(t) for t, _ in sents)


def test_fusion_weights_each_ranking_by_reciprocal_rank():
    from llama_index.core.schema import QueryBundle

    from assistant.retrieve import FusionRetriever

    class _Fixed:
        def __init__(self, ranked):
            self.ranked = ranked

        def rank(self, _bundle):
            return self.ranked

    dense = _Fixed([("a", 0.9), ("b", 0.8)])
    lexical = _Fixed([("b", 7.0), ("c", 3.0)])
    fusion = FusionRetriever(dense, lexical, (1.0, 0.5), rrf_k=60, top_k=10)  # type: ignore[arg-type]
    got = {n.node.node_id: n.score for n in fusion.retrieve(QueryBundle(query_str="q"))}
    assert got == pytest.approx({"b": 1 / 62 + 0.5 / 61, "a": 1 / 61, "c": 0.5 / 62})
    assert list(got) == ["b", "a", "c"]  # best first
    assert fusion.dense_results == dense.ranked and fusion.lexical_results == lexical.ranked


def test_the_node_cache_is_bounded_and_keeps_the_recently_used():
    from llama_index.core.schema import TextNode

    from assistant.retrieve import NodeCache

    cache = NodeCache(2)
    for i in "abc":
        cache.put(TextNode(id_=i, text=i))
        if i == "b":
            assert cache.get("a") is not None  # 'a' used again: 'b' is now the oldest
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None


def test_each_side_is_a_llama_index_retriever_on_its_own(services):
    from llama_index.core.schema import QueryBundle

    from assistant.retrieve import DenseRetriever, KiwiBM25Retriever

    retriever = services.retriever
    query = query_for(build_frame("Where is LIFT headquartered?"))
    snap, qvec = retriever.snapshot, retriever.embed_query(query)
    dense = DenseRetriever(snap, 3, qvec)
    lexical = KiwiBM25Retriever(snap, 3)
    lexical.tokens = retriever.bm25_tokens(query)
    bundle = QueryBundle(query_str=query.search_text)
    for side in (dense, lexical):
        nodes = side.retrieve(bundle)
        assert [(n.node.node_id, n.score) for n in nodes] == side.rank(bundle) and nodes
