"""Index stage: chunk metadata, persistence, incremental rebuild, atomic swap."""

import json
import subprocess
import sys

import pytest

from assistant.components.embedding import FakeEmbedder
from assistant.corpus.build import load_corpus
from assistant.errors import EmbeddingModelMismatch, IndexNotBuiltError
from assistant.index import IndexLayout, IndexService, chunk_bundle, open_snapshot
from assistant.types import Passage


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting how many texts it was asked to embed."""

    def __init__(self, settings):
        super().__init__(settings)
        self.embedded = 0

    def embed_documents(self, texts, titles=None, progress=False):
        self.embedded += len(texts)
        return super().embed_documents(texts, titles, progress)


@pytest.fixture(scope="module")
def plan_bundle(tmp_path_factory):
    # Module scope runs before the function-scoped isolated home, so it brings its own.
    from assistant.settings import load_settings

    home = tmp_path_factory.mktemp("plan-bundle-home")
    return load_corpus(
        load_settings(env={"ASSISTANT_HOME": str(home)}, profiles=["test"]), include_added=False
    )


def test_chunks_of_the_plan(plan_bundle, test_settings):
    nodes = chunk_bundle(plan_bundle, test_settings.chunking)
    assert 180 <= len(nodes) <= 320
    assert max(len(n.text) for n in nodes) <= test_settings.chunking.max_chars
    text_chunks = [n for n in nodes if n.metadata["kind"] in ("text", "list")]
    assert sorted(len(n.text) for n in text_chunks)[len(text_chunks) // 2] >= 250  # median size
    assert len({n.node_id for n in nodes}) == len(nodes)  # stable, unique ids
    rows = [n for n in nodes if n.metadata["kind"] == "table_row"]
    assert len(rows) == 17 and all(n.metadata["page"] in (5, 6) for n in rows)
    lift = next(n for n in rows if "LIFT" in n.metadata["entities"].split(","))
    assert "Detroit" in lift.text and lift.metadata["section"].endswith("> LIFT")
    with_note = next(
        n
        for n in nodes
        if "fn-5" in n.metadata["footnotes"].split(",") and n.metadata["kind"] != "footnote"
    )
    assert with_note.metadata["page"] == 4
    refs = json.loads(next(n for n in nodes if "fn-37" in n.metadata["footnotes"]).metadata["refs"])
    assert refs[0]["id"] == "fn37" and "GAO" in refs[0]["title"]


def test_chunks_never_cross_sections(tiny_bundle, test_settings):
    bundle = tiny_bundle.model_copy(
        update={
            "passages": [
                *tiny_bundle.passages,
                Passage(
                    passage_id="t/ko-budget#0002",
                    doc_id="t/ko-budget",
                    kind="text",
                    text="다른 섹션의 짧은 문장입니다.",
                    lang="ko",
                    page_start=20,
                    page_end=20,
                    section_path=["Another section"],
                ),
            ]
        }
    )
    nodes = chunk_bundle(bundle, test_settings.chunking)
    for n in nodes:
        assert n.metadata["section"] in {" > ".join(p.section_path) for p in bundle.passages}
    assert any(n.metadata["section"] == "Another section" for n in nodes)


def test_build_persist_and_reload_in_a_new_process(tiny_bundle, test_settings, isolated_home):
    report = IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle)
    assert report.changed and report.manifest.chunks == 6
    code = (
        "from assistant.settings import load_settings; from assistant.index import open_snapshot;"
        "s=load_settings(); snap=open_snapshot(s,'fake-64');"
        "print(snap.chunks.count(), snap.manifest.build_id, snap.sentences.count(), len(snap.bm25.chunk_ids))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ},
    )
    count, build_id, sentences, bm25 = out.stdout.split()
    assert (
        int(count) == 6
        and build_id == report.manifest.build_id
        and int(sentences) >= 6
        and int(bm25) == 6
    )
    # BM25 is persisted with the build and loaded, not rebuilt from tokens at every open.
    build = isolated_home / "index" / "builds" / build_id
    assert (build / "bm25" / "chunk_ids.json").exists() and (
        build / "bm25" / "params.index.json"
    ).exists()
    assert (isolated_home / "index" / "CURRENT").read_text() == build_id


def test_rebuild_embeds_only_what_changed(tiny_bundle, test_settings):
    emb = CountingEmbedder(test_settings)
    service = IndexService(test_settings, emb)
    first = service.build(tiny_bundle)
    cold = emb.embedded
    assert cold == first.chunks_embedded + first.sentences_embedded and cold >= 12
    again = service.build(tiny_bundle)
    assert not again.changed and emb.embedded == cold  # nothing changed: no work, same build
    changed = tiny_bundle.model_copy(deep=True)
    changed.passages[1] = changed.passages[1].model_copy(
        update={"text": "주, 산업 및 비핵심 연방 기금은 3억 800만 달러를 기부했습니다."}
    )
    third = service.build(changed)
    assert (
        third.changed and third.chunks_embedded == 1 and third.documents_changed == ["t/ko-budget"]
    )
    assert emb.embedded - cold == third.chunks_embedded + third.sentences_embedded <= 3
    layout = IndexLayout(test_settings)
    assert layout.current().build_id == third.manifest.build_id
    builds = sorted(p.name for p in (layout.root / "builds").iterdir())
    assert len(builds) == 2  # current and the previous one kept for rollback


def test_failed_build_keeps_the_previous_index(tiny_bundle, test_settings):
    service = IndexService(test_settings, FakeEmbedder(test_settings))
    good = service.build(tiny_bundle)

    class Exploding(FakeEmbedder):
        model_id = "fake-64"

        def embed_documents(self, texts, titles=None, progress=False):
            raise RuntimeError("killed mid-build")

        def embed_inputs(self, inputs, progress=False):
            raise RuntimeError("killed mid-build")

    changed = tiny_bundle.model_copy(deep=True)
    changed.passages[0] = changed.passages[0].model_copy(
        update={"text": "완전히 새로운 내용입니다."}
    )
    with pytest.raises(RuntimeError):
        IndexService(test_settings, Exploding(test_settings)).build(changed)
    snap = open_snapshot(test_settings, "fake-64")
    assert snap.manifest.build_id == good.manifest.build_id and snap.chunks.count() == 6


def test_missing_index_and_model_mismatch(tiny_bundle, test_settings):
    with pytest.raises(IndexNotBuiltError) as err:
        open_snapshot(test_settings, "fake-64")
    assert "assistant index" in err.value.hint
    IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle)
    with pytest.raises(EmbeddingModelMismatch, match="fake-64"):
        open_snapshot(test_settings, "embeddinggemma-300m")


def test_corrupt_index_gives_a_rebuild_path(tiny_bundle, test_settings, isolated_home):
    IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle)
    layout = IndexLayout(test_settings)
    build = layout.build_dir(layout.current().build_id)
    for f in (build / "chroma").rglob("*"):
        if f.is_file():
            f.write_bytes(b"garbage")
    with pytest.raises(IndexNotBuiltError) as err:
        open_snapshot(test_settings, "fake-64")
    assert "--force" in err.value.hint
    # The rebuild path works from there.
    report = IndexService(test_settings, FakeEmbedder(test_settings)).build(tiny_bundle, force=True)
    assert open_snapshot(test_settings, "fake-64").manifest.build_id == report.manifest.build_id


def test_the_embedder_reads_what_llama_index_renders_for_the_node(tiny_bundle, test_settings):
    from assistant.components.embedding import document_input
    from assistant.index import embed_input

    for n in chunk_bundle(tiny_bundle, test_settings.chunking):
        assert embed_input(n) == document_input(n.text, n.metadata["embed_title"])
        assert "t/" not in embed_input(n)  # ids and paths reach neither the embedder nor the LLM
        from llama_index.core.schema import MetadataMode

        assert "doc_id" not in n.get_content(MetadataMode.LLM)


def test_stable_chunk_ids(tiny_bundle, test_settings):
    a = [n.node_id for n in chunk_bundle(tiny_bundle, test_settings.chunking)]
    b = [n.node_id for n in chunk_bundle(tiny_bundle, test_settings.chunking)]
    assert a == b and a[0] == "t/ko-lift#0001"
