"""The web app's API through a real server (uvicorn on 127.0.0.1) and gradio_client.

Test profile: fake embedder and fake LLM over a tiny real index (Chroma + BM25) built from
the `tiny_bundle` fixture, so every test runs the real answer path in a few seconds.
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import httpx
import pytest

pytestmark = pytest.mark.network

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402
from gradio_client.utils import Status  # noqa: E402

from assistant import logs, paths  # noqa: E402
from assistant.services import build_services  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

EPIXC_Q = "How much federal funding will EPIXC allocate?"
EPIXC_A = "EPIXC will allocate up to $70 million in federal funds over five years [1]."


@pytest.fixture
def start_server(tiny_bundle, port):
    """Factory: build services over the tiny index, serve ``build_app`` with uvicorn in a
    thread, return url/services/fake generator. Servers stop at teardown."""
    import uvicorn

    from ui.app import build_app

    started: list[tuple[uvicorn.Server, threading.Thread]] = []
    clients: list[Client] = []

    def make_client(url: str, **kw) -> Client:
        c = Client(url, verbose=False, analytics_enabled=False, download_files=False, **kw)
        clients.append(c)
        return c

    def start(review_users: str = "", gate: threading.Event | None = None) -> SimpleNamespace:
        """``gate``: the fake LLM holds its first answer until the test sets it."""
        settings = load_settings(profiles=["test"])
        settings.ui.review_users = review_users
        services = build_services(settings)
        services.index_service().build(tiny_bundle)
        gen = services.answers.generator("fake")
        if gate is not None:
            fast = gen.stream

            def held(*args, **kw):
                assert gate.wait(60), "the test never released the first answer"
                yield from fast(*args, **kw)

            gen.stream = held  # type: ignore[method-assign]
        app = build_app(services)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=2,
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        started.append((server, thread))
        return SimpleNamespace(
            url=f"http://127.0.0.1:{port}/",
            services=services,
            gen=gen,
            settings=settings,
            db_path=paths.logs_db(settings),
            client=make_client,
        )

    yield start
    for c in clients:
        c.close()
    for server, thread in started:
        server.should_exit = True
        thread.join(timeout=15)


def ask_states(c: Client, question: str, history: list | None = None) -> list[dict]:
    job = c.submit(question, json.dumps(history or []), api_name="/ask")
    job.result(timeout=60)
    return [json.loads(s) for s in job.outputs()]


def logged(db_path) -> list[dict]:
    db = logs.open_db(db_path)
    try:
        return [logs.get_answer(db, r["id"]) for r in logs.list_answers(db)]
    finally:
        db.close()


# ----------------------------------------------------------------------------- chat API


def test_ask_streams_evidence_then_tokens_then_final(start_server):
    srv = start_server()
    srv.gen.queue(EPIXC_A)
    c = srv.client(srv.url)
    assert {"/ask", "/chat"} <= set(
        c.view_api(return_format="dict", print_info=False)["named_endpoints"]
    )
    states = ask_states(c, EPIXC_Q)
    types = [s["type"] for s in states]
    # Evidence first (retrieval done, before any generated token), several partial
    # results, then one final.
    assert types[0] == "evidence"
    assert types[-1] == "final" and types.count("final") == 1
    assert types.count("token") >= 3
    assert states[0]["citations"][0]["doc_id"] == "t/en-epixc"
    tokens = [s["text"] for s in states if s["type"] == "token"]
    assert all(a and b.startswith(a) for a, b in zip(tokens, tokens[1:], strict=False))
    final = states[-1]["answer"]
    assert not final["refused"]
    assert "$70 million" in final["answer"]
    assert final["citations"][0]["doc_id"] == "t/en-epixc"
    assert final["citations"][0]["verified"] is True
    # Logged once, through the service.
    rows = logged(srv.db_path)
    assert len(rows) == 1 and rows[0]["source"] == "api"


def test_chat_api_streams_html_with_linked_markers(start_server):
    srv = start_server()
    srv.gen.queue(EPIXC_A)
    c = srv.client(srv.url)
    job = c.submit(EPIXC_Q, api_name="/chat")
    messages, sources = job.result(timeout=60)
    assert len(job.outputs()) >= 4  # user message, evidence, tokens..., final
    answer = messages[-1]["content"][0]["text"]
    assert 'href="#src-0-1"' in answer and "$70 million" in answer
    assert 'id="src-0-1"' in sources and 'class="badge verified"' in sources
    assert "<mark" in sources
    assert logged(srv.db_path)[0]["source"] == "ui"


def test_follow_up_passes_history(start_server):
    srv = start_server()
    srv.gen.queue(EPIXC_A, EPIXC_A, EPIXC_A)
    c = srv.client(srv.url)
    # Plain API: history given as JSON.
    history = [
        {"role": "user", "content": "Tell me about EPIXC."},
        {"role": "assistant", "content": "EPIXC is an institute [1]."},
    ]
    final = ask_states(c, "How much federal money will it get?", history)[-1]
    assert final["type"] == "final"
    rows = logged(srv.db_path)
    assert rows[0]["history"] == history
    # Chat API: the session's conversation is the history of the next question.
    c.predict(EPIXC_Q, api_name="/chat")
    c.predict("And over how many years?", api_name="/chat")
    rows = logged(srv.db_path)
    second, first = rows[0], rows[1]
    assert first["history"] == []
    assert [t["role"] for t in second["history"]] == ["user", "assistant"]
    assert second["history"][0]["content"] == EPIXC_Q
    assert second["conversation_id"] and second["conversation_id"] == first["conversation_id"]


def test_refusal(start_server):
    srv = start_server()
    srv.services.answers.generator("fake").queue("NOT_FOUND", "NOT_FOUND")
    c = srv.client(srv.url)
    states = ask_states(c, EPIXC_Q)
    assert [s["type"] for s in states if s["type"] != "token"] == ["evidence", "final"]
    final = states[-1]
    assert final["answer"]["refused"] is True
    assert final["answer"]["citations"] == []
    assert final["related"], "a refusal offers the nearest passages"
    messages, sources = c.predict(EPIXC_Q, api_name="/chat")
    assert '<div class="refusal">' in messages[-1]["content"][0]["text"]
    assert "answer-sources refusal" in sources and "badge related" in sources


@pytest.mark.parametrize("history_json", ["{not json", '{"role": "user"}', '[{"role": "x"}]'])
def test_bad_history_is_a_clear_error(start_server, history_json):
    srv = start_server()
    c = srv.client(srv.url)
    job = c.submit(EPIXC_Q, history_json, api_name="/ask")
    out = json.loads(job.result(timeout=30))
    assert out["type"] == "error" and "history_json" in out["message"]


def test_bad_input_gets_a_clear_message(start_server):
    srv = start_server()
    srv.gen.queue(*[EPIXC_A] * 4)
    c = srv.client(srv.url)
    cases = {
        "": "Please type a question",
        "   \n\t ": "Please type a question",
        "x" * 100_000: None,  # answered (or refused) with a truncation notice
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08binary\x0e\x0f\x10\x11\x12": "binary data",
        "<script>alert(1)</script>": None,
    }
    for question, expected in cases.items():
        states = ask_states(c, question)
        final = states[-1]
        assert final["type"] == "final", (question[:20], final)
        ans = final["answer"]
        if expected:
            assert ans["refused"] and expected in ans["answer"]
        if len(question) == 100_000:
            assert any("first 2000 characters" in n for n in ans["notices"])
    # Through the chat: the question is shown as text, never as markup.
    messages, sources = c.predict(
        "<script>alert(1)</script><img src=x onerror=alert(2)>", api_name="/chat"
    )
    shown = json.dumps(messages) + sources
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in messages[0]["content"][0]["text"]
    # The server is still fine.
    assert httpx.get(srv.url, timeout=10).status_code == 200


# ----------------------------------------------------------------------------- queue


def test_second_user_sees_queue_position(start_server):
    gate = threading.Event()
    srv = start_server(gate=gate)  # the first answer is held until the second one has queued
    srv.gen.queue(EPIXC_A, EPIXC_A)
    assert srv.settings.ui.concurrency_limit == 1
    first, second = srv.client(srv.url), srv.client(srv.url)
    job1 = first.submit(EPIXC_Q, "[]", api_name="/ask")
    deadline = time.monotonic() + 20
    while job1.status().code not in (Status.PROCESSING, Status.ITERATING):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    job2 = second.submit(EPIXC_Q, "[]", api_name="/ask")
    seen = []
    while not job2.done():
        st = job2.status()
        seen.append(st)
        if st.code == Status.IN_QUEUE and st.rank is not None:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    queued = [s for s in seen if s.code == Status.IN_QUEUE]
    assert queued, f"second job never reported a queue position: {[s.code for s in seen]}"
    assert queued[-1].rank == 0 and queued[-1].queue_size >= 1
    assert not job1.done(), "the first answer was still running while the second waited"
    gate.set()
    assert json.loads(job1.result(timeout=60))["type"] == "final"
    assert json.loads(job2.result(timeout=60))["type"] == "final"


# ----------------------------------------------------------------------------- review


def test_review_not_mounted_without_credentials(start_server):
    srv = start_server(review_users="")
    for path in ("review", "review/", "review/config", "review/gradio_api/info"):
        assert httpx.get(srv.url + path, timeout=10).status_code == 404, path
    assert (
        httpx.post(
            srv.url + "review/login", data={"username": "a", "password": "b"}, timeout=10
        ).status_code
        == 404
    )
    assert httpx.get(srv.url, timeout=10).status_code == 200


def test_review_requires_login_and_records_verdicts(start_server):
    srv = start_server(review_users="staff:s3cret, lead:pw:with:colons")
    srv.gen.queue(EPIXC_A)
    srv.client(srv.url).predict(EPIXC_Q, api_name="/chat")
    base = srv.url + "review/"

    # Without a login, the page config and every API route refuse.
    assert httpx.get(srv.url + "review", timeout=10, follow_redirects=True).status_code == 200
    for path in ("config", "gradio_api/info"):
        assert httpx.get(base + path, timeout=10).status_code == 401, path
    for path, body in (
        ("gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x"}),
        ("gradio_api/call/list_answers", {"data": ["", "", "all", "all"]}),
        ("gradio_api/call/record_verdict", {"data": [1, "correct", ""]}),
    ):
        assert httpx.post(base + path, json=body, timeout=10).status_code == 401, path
    with pytest.raises(Exception, match="credentials"):
        srv.client(base)
    with pytest.raises(ValueError, match="Could not login"):
        srv.client(base, auth=("staff", "wrong"))
    r = httpx.post(base + "login", data={"username": "staff", "password": "wrong"}, timeout=10)
    assert r.status_code == 400 and "access-token" not in r.headers.get("set-cookie", "")
    assert db_verdicts(srv.db_path) == []

    # With it: list, open, record.
    staff = srv.client(base, auth=("staff", "s3cret"))
    rows = staff.predict("", "", "all", "all", api_name="/list_answers")
    assert [r["question"] for r in rows] == [EPIXC_Q]
    assert staff.predict("", "", "ko", "all", api_name="/list_answers") == []
    assert staff.predict("", "", "all", "refused", api_name="/list_answers") == []
    answer = staff.predict(rows[0]["id"], api_name="/get_answer")
    cid = answer["citations"][0]["id"]
    out = staff.predict(cid, "wrong_passage", "p. 4 is a footnote", api_name="/record_verdict")
    assert out["reviewer"] == "staff"
    summary = staff.predict("all", api_name="/summary")
    assert summary["by_language"][0]["reviewed"] == 1
    assert summary["by_language"][0]["precision"] == 0.0
    assert summary["by_week"][0]["verified_share"] == 1.0
    # The reviewer is the logged-in user (a second account with ':' in its password).
    lead = srv.client(base, auth=("lead", "pw:with:colons"))
    lead.predict(cid, "correct", "", api_name="/record_verdict")
    assert [(v["reviewer"], v["verdict"]) for v in db_verdicts(srv.db_path)] == [
        ("staff", "wrong_passage"),
        ("lead", "correct"),
    ]
    files = staff.predict(api_name="/export_csv")
    assert sorted(f["orig_name"] for f in files) == ["answers.csv", "citations.csv", "verdicts.csv"]


def db_verdicts(db_path) -> list[dict]:
    db = logs.open_db(db_path)
    try:
        return [dict(r) for r in db.execute("SELECT * FROM verdicts ORDER BY id")]
    finally:
        db.close()


def test_review_users_are_hashed_and_checked_in_constant_time(test_settings):
    from pydantic import SecretStr

    from assistant.reviewers import add_user, load_reviewers, users_file

    test_settings.ui.review_users = SecretStr("")
    assert not load_reviewers(test_settings)
    test_settings.ui.review_users = SecretStr("a:1, b:x:y ,bad,:nopw,c:")
    r = load_reviewers(test_settings)
    assert (
        r.names() == ["a", "b"]
        and r.check("b", "x:y")
        and not r.check("b", "x")
        and not r.check("zz", "1")
    )
    path = add_user(test_settings, "carol", "a long secret phrase")
    text = path.read_text()
    assert (
        "a long secret phrase" not in text
        and text.startswith("carol:")
        and users_file(test_settings) == path
    )
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_reviewers(test_settings).check("carol", "a long secret phrase")


def test_render_escapes_corpus_text_and_user_input():
    from assistant.types import Answer, Citation, ReferenceLink, Support
    from ui import render

    evil = "<script>alert(1)</script> {{7*7}} ${x} [a](javascript:alert(2)) <img src=x onerror=y>"
    c = Citation(
        n=2,
        chunk_id="plan#1",
        doc_id="plan/nist-ams-600-15",
        doc_title=evil,
        page=19,
        page_label="p. 19",
        section=evil,
        quote="LIFT is in Detroit.",
        passage=f"{evil} LIFT is in Detroit. More.",
        verified=True,
        references=[
            ReferenceLink(id="r", title=evil, url="javascript:alert(3)"),
            ReferenceLink(
                id="s", title="GAO", url="https://www.gao.gov/x", agency="GAO", date="2023"
            ),
        ],
        link="https://doi.org/10.6028/NIST.AMS.600-15",
    )
    card = render.source_card(c, 3, "en", "final")
    assert "<script" not in card and "<img" not in card and 'href="javascript' not in card
    assert "{{" not in card and "${" not in card
    assert 'id="src-3-2"' in card and '<mark class="quote">LIFT is in Detroit.</mark>' in card
    assert (
        'href="https://doi.org/10.6028/NIST.AMS.600-15"' in card
        and "NIST AMS 600-15, p. 19" in card
    )
    assert 'href="https://www.gao.gov/x"' in card and "GAO, 2023" in card
    ans = Answer(
        question=evil,
        language="en",
        answer=f"{evil} LIFT is in Detroit [2].",
        refused=False,
        citations=[c],
        support=Support(level="partial"),
        notices=[evil],
    )
    md = render.answer_markdown(ans, 3)
    assert "<script" not in md and "<img" not in md and "](javascript" not in md
    assert '<a class="cite-marker" href="#src-3-2"' in md
    assert 'class="notice"' in md and "Only part of this answer" in md
    section = render.final_section(ans, 3, evil)
    assert "<script" not in section and "&lt;script&gt;" in section
    assert render.safe_url("data:text/html,x") is None and render.safe_url("//x.y") is None
