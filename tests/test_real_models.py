"""The real parts a user meets: EmbeddingGemma retrieval over the real plan index, the local
GGUF generator, an OpenAI-compatible llama.cpp server on 127.0.0.1, and cited U.S. Code
documents added to the corpus. Slow: models must be provisioned (`make models`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.answer.frame import build_frame, query_for
from assistant.modelstore import ModelStore
from tests.fixtures.real import build_real_services, real_profile_settings
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.slow
SMALL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
USCODE = Path(__file__).resolve().parents[2] / "shared" / "corpus-extra" / "uscode"


def _small_ready() -> bool:
    return ModelStore(real_profile_settings()).is_ready(SMALL)


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("Where is LIFT headquartered?", 5),
        ("LIFT 본사는 어디에 있나요?", 5),
        ("How much federal funding will EPIXC get?", 4),  # footnote 5
        ("2022 회계연도에 주와 산업계는 얼마를 기부했나요?", 19),
        ("How many institutes does Germany's Fraunhofer network have?", 27),
        ("Which agency sponsors NIIMBL?", 6),
        ("What are the four goals of the program?", 8),
    ],
)
def test_real_retrieval_finds_the_page(real_services, question, page):
    query = query_for(build_frame(question), top_k=5)
    hits = real_services.retriever.search(query)
    assert page in [h.page_start for h in hits], [(h.page_start, h.section) for h in hits]


def test_real_extractive_answer_is_cited_and_verified(real_services):
    ans = real_services.answers.answer("Where is LIFT headquartered?", mode="extractive", log=False)
    assert not ans.refused and "Detroit" in ans.answer
    assert ans.citations[0].page == 5 and ans.citations[0].verified


def test_real_footnote_chain(real_services):
    ans = real_services.answers.answer(
        "What did GAO find about the technology readiness of institute projects?",
        mode="extractive",
        log=False,
    )
    refs = [r for c in ans.citations for r in c.references]
    assert any("GAO" in r.title for r in refs), [c.section for c in ans.citations]


@pytest.mark.skipif(not _small_ready(), reason="0.5B GGUF not provisioned")
def test_local_llm_answers_in_the_askers_language(real_services, monkeypatch):
    settings = real_services.settings.model_copy(deep=True)
    settings.llm.local.model = SMALL
    from assistant.answer.service import AnswerService

    service = AnswerService(settings, real_services.retriever, real_services.embedder, None)
    en = service.answer("Where is LIFT headquartered?", mode="local", log=False)
    assert en.language == "en" and not en.refused and "Detroit" in en.answer, en.answer
    assert en.citations and all(c.page for c in en.citations) and en.support.unresolved_markers == 0
    ko = service.answer("LIFT 본사는 어디에 있나요?", mode="local", log=False)
    assert ko.language == "ko" and "디트로이트" in ko.answer, ko.answer
    assert en.timings.first_token_s is not None and en.timings.total_s >= en.timings.first_token_s


@pytest.mark.skipif(not _small_ready(), reason="0.5B GGUF not provisioned")
def test_a_warmed_prompt_prefix_is_restored_after_another_prompt_ran():
    """The answer prompt and the record-query parse take turns in one llama.cpp context: the
    parse after an answer restores its warmed prefix (no re-evaluation) and generates exactly
    what a generator without snapshots generates."""
    from assistant.answer.prompt import prefix_messages
    from assistant.answer.records import llm_parse
    from assistant.components.llm import LlamaCppGenerator

    settings = real_profile_settings()
    settings.llm.local.model = SMALL
    settings.llm.temperature = 0.0
    question = {"role": "user", "content": "Which hubs does the Pentagon look after?"}
    parse = [*llm_parse.prefix_messages(), question]
    grammar = llm_parse.grammar()

    gen = LlamaCppGenerator(settings)
    gen.warm(llm_parse.prefix_messages())
    gen.warm(prefix_messages())
    assert gen.restores == 0 and len(gen._snapshots) == 2
    "".join(gen.stream([*prefix_messages(), {"role": "user", "content": "Hi"}], 4))
    assert gen.restores == 0  # the answer prefix was the one evaluated last
    restored = "".join(gen.stream(parse, 24, grammar))
    assert gen.restores == 1
    "".join(gen.stream(parse, 24, grammar))
    assert gen.restores == 1  # the context already holds the parse prefix

    settings.llm.local.prefix_snapshots = False
    plain = LlamaCppGenerator(settings)
    plain.warm(llm_parse.prefix_messages())
    assert plain._snapshots == []
    assert "".join(plain.stream(parse, 24, grammar)) == restored


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    settings = real_profile_settings()
    store = ModelStore(settings)
    if not store.is_ready(SMALL):
        pytest.skip("0.5B GGUF not provisioned")
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "stderr.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(store.target(SMALL)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )  # a pipe would fill and block it
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama.cpp server did not start: " + log.read_text(errors="replace")[-500:])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


# A question no table record answers: it must reach the model (a record question is answered
# from corpus/records without any LLM call, so it would not exercise the backend).
PROSE_QUESTION = "What does the plan say about supply chain resilience?"


def test_openai_backend_against_a_real_local_server(real_services, llama_server):
    settings = real_services.settings.model_copy(deep=True)
    settings.llm.openai.base_url = llama_server
    settings.llm.openai.model = SMALL
    from assistant.answer.service import AnswerService

    service = AnswerService(settings, real_services.retriever, real_services.embedder, None)
    ans = service.answer(PROSE_QUESTION, mode="openai", log=False)
    assert ans.llm_id == f"openai:{SMALL}", [d.code for d in ans.trace]
    assert ans.refused or ans.citations  # an answer always comes back cited or as a refusal
    if not ans.refused:
        assert "[" in ans.answer and ans.support.unresolved_markers >= 0


def test_openai_backend_unreachable_is_a_clear_error(real_services):
    from assistant.answer.service import AnswerService
    from assistant.errors import LLMUnavailableError

    settings = real_services.settings.model_copy(deep=True)
    settings.llm.openai.base_url = f"http://127.0.0.1:{free_port()}/v1"
    service = AnswerService(settings, real_services.retriever, real_services.embedder, None)
    with pytest.raises(LLMUnavailableError) as err:
        service.answer(PROSE_QUESTION, mode="openai", log=False)
    assert "--mode" in err.value.hint


@pytest.mark.skipif(not USCODE.exists(), reason="../shared/corpus-extra/uscode is absent")
def test_us_code_added_indexed_and_cited(tmp_path_factory, real_services):
    from assistant.corpus.documents import add_document

    home = tmp_path_factory.mktemp("uscode-home")
    services = build_real_services(home)
    before = services.index_service().layout.current()
    for f in sorted(USCODE.glob("*.md")):
        ref = "usc-15-278s" if "278s" in f.name else None
        assert add_document(services.settings, f, ref, None, "en").status == "added"
    report = services.build_index()
    assert (
        report.changed
    )  # (chunks_embedded may be 0 when a developer's warm vector cache has them)
    added = {d for d in report.manifest.documents if d.startswith("added/")}
    assert len(added) == 5 and added <= set(report.documents_changed)
    assert report.manifest.chunks > before.chunks
    # The plan's chunks change only in metadata (their § 278s footnote now links to the
    # indexed copy): their vectors come from the cache, nothing of the plan is re-embedded.
    assert report.chunks_embedded <= report.manifest.chunks - before.chunks
    # Re-adding the same file is a no-op; the index does not change.
    f278 = USCODE / "15_USC_278s_Manufacturing_USA.md"
    assert add_document(services.settings, f278, "usc-15-278s", None, "en").status == "unchanged"
    assert not services.build_index().changed

    for question in (
        "According to 15 U.S.C. 278s, what does the term agency head mean?",
        "15 U.S.C. 278s에 따르면 'agency head'(기관장)라는 용어는 무엇을 의미하나요?",
    ):
        ans = services.answers.answer(question, mode="extractive", log=False)
        assert not ans.refused, ans.answer
        assert any("278s" in c.doc_id or "278s" in c.doc_title for c in ans.citations), [
            (c.doc_id, c.section) for c in ans.citations
        ]
    # The plan's footnotes citing § 278s now point at the indexed document.
    hits = services.retriever.search(
        query_for(build_frame("2014년 미국 제조 및 혁신법 15 U.S.C. § 278s"))
    )
    linked = [r for h in hits for r in h.references if r.id == "usc-15-278s"]
    assert linked and linked[0].doc_id and "278s" in linked[0].doc_id
