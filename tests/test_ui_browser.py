"""The web app in a real browser: Debian's chromium driven by Playwright, real embedding
model and plan index (`real_services`), the small local LLM if it is provisioned (else the
extractive mode), and the real server (uvicorn on 127.0.0.1).

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

from assistant import logs, paths
from assistant.modelstore import ModelStore
from assistant.services import Services
from tests.fixtures.real import real_profile_settings
from tests.fixtures.servers import free_port

# The first test also pays for the session's real index build (3-4 min on an idle machine;
# several times that while other heavy jobs share the 2 cores).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.network, pytest.mark.timeout(2400)]

playwright_sync = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SMALL_LLM = "qwen2.5-coder-0.5b-instruct-q4_k_m"
OFFICIAL = "https://doi.org/10.6028/NIST.AMS.600-15"
SHOTS = paths.project_root() / "test-artifacts" / "screenshots"
ANSWER_TIMEOUT_MS = 240_000
PENDING_BUBBLE = "#chat .message.pending"


def llm_mode(settings) -> str:
    """local with the 0.5B model when it and llama-cpp are there, else extractive."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "extractive"
    return "local" if ModelStore(settings).is_ready(SMALL_LLM) else "extractive"


@pytest.fixture(scope="module")
def ui_services(real_services, real_home):
    """Services over the session's real index (sharing its embedder) with review
    credentials set in settings and the browser tests' LLM mode."""
    old = os.environ.get("ASSISTANT_HOME")
    os.environ["ASSISTANT_HOME"] = str(real_home)
    try:
        settings = real_profile_settings(
            ASSISTANT__UI__REVIEW_USERS="staff:s3cret", ASSISTANT__LLM__LOCAL__MODEL=SMALL_LLM
        )
        settings.llm.mode = llm_mode(settings)
        services = Services(settings=settings, _embedder=real_services.embedder)
        services.retriever.snapshot  # noqa: B018  (open the index while HOME is set)
        services.answers.warm()
        yield services
    finally:
        if old is None:
            os.environ.pop("ASSISTANT_HOME", None)
        else:
            os.environ["ASSISTANT_HOME"] = old


@pytest.fixture(scope="module")
def server_url(ui_services):
    import uvicorn

    from ui.app import build_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(ui_services),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (scripts/install-browser.sh)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server_url, use_real_home):
    """New browser context (own session) on a page of the app, in the given locale."""
    contexts = []

    def open_(path: str = "", locale: str = "en-US") -> Page:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(server_url + path)
        return page

    yield open_
    for ctx in contexts:
        ctx.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def ask(page: Page, question: str, expect_streaming: bool = False) -> int:
    """Type and send a question; wait for its final sources section. Returns its answer
    index (the n of the "#src-<index>-<n>" anchors)."""
    page.wait_for_selector("#question textarea")
    index = page.locator("#sources section.answer-sources:not([data-state=generating])").count()
    page.fill("#question textarea", question)
    page.click("#send")
    if expect_streaming:
        # The candidate sources appear before the answer is complete.
        page.wait_for_selector(
            f"#answer-{index}[data-state=generating] .src-card.candidate", timeout=ANSWER_TIMEOUT_MS
        )
    page.wait_for_selector(
        f"#answer-{index}[data-state=final], #answer-{index}[data-state=refused]",
        timeout=ANSWER_TIMEOUT_MS,
    )
    # The sources panel can settle a moment before Gradio drops the chat's loading bubble.
    expect(page.locator(PENDING_BUBBLE)).to_have_count(0)
    return index


def last_answer(page: Page):
    """The newest chat message, never Gradio's "Loading content" bubble."""
    return page.locator("#chat .message:not(.pending) .message-content").last


def logged_answers(services) -> list[dict]:
    db = logs.open_db(paths.logs_db(services.settings))
    try:
        return [logs.get_answer(db, r["id"]) for r in logs.list_answers(db, limit=50)]
    finally:
        db.close()


# ----------------------------------------------------------------------------- chat


def test_english_answer_sources_markers_and_follow_up(open_page, ui_services):
    page = open_page()
    # A Table 1 lookup: answered from the records with no LLM, so there is no generating
    # state to watch (it can be replaced within one frame); streaming is checked on prose below.
    i = ask(page, "Where is LIFT headquartered?")
    section = page.locator(f"#answer-{i}")
    expect(section).to_have_attribute("data-state", "final")
    cards = section.locator(".src-card.final")
    assert cards.count() >= 1
    # Printed page, linked to the official publication; section path; badge.
    link = cards.first.locator("a.page-link")
    expect(link).to_contain_text(re.compile(r"NIST AMS 600-15, pp?\. \d+"))
    assert link.get_attribute("href").startswith(OFFICIAL)
    expect(cards.first.locator(".src-section")).not_to_be_empty()
    expect(cards.first.locator(".badge")).to_have_text(
        re.compile("verified|partly supported|not verified")
    )
    # Open a source: the whole passage with the supporting quote highlighted.
    cards.first.locator("details.src-passage summary").click()
    expect(cards.first.locator(".passage mark.quote")).to_be_visible()
    # Follow an [n] marker of the answer to its source card.
    marker = last_answer(page).locator("a.cite-marker").first
    expect(marker).to_be_visible()
    target = marker.get_attribute("href").split("#")[-1]
    assert re.fullmatch(rf"src-{i}-\d+", target)
    page.locator("#sources .sources-panel").evaluate("el => el.scrollTop = el.scrollHeight")
    marker.click()
    expect(page.locator(f"#{target}")).to_be_in_viewport()
    expect(page.locator(f"#{target} details.src-passage")).to_have_attribute("open", "")
    assert page.url.endswith("#" + target)
    shot(page, "english-answer-sources.png")

    # Follow-up: the conversation is the history of the next question.
    j = ask(page, "When was it established?")
    assert j == i + 1
    latest = logged_answers(ui_services)[0]
    assert latest["question"] == "When was it established?"
    assert latest["history"][0] == {"role": "user", "content": "Where is LIFT headquartered?"}
    assert latest["source"] == "ui"
    # New conversation: chat and sources cleared, next answer starts at index 0 again.
    page.click("#new-conversation")
    expect(page.locator("#chat .message-content")).to_have_count(0)
    expect(page.locator("#sources .answer-sources")).to_have_count(0)


def test_english_reader_sees_the_korean_quote_and_its_english_rendering(open_page, ui_services):
    page = open_page()
    i = ask(page, "Where is LIFT headquartered?")
    # The Table 1 row is quoted in Korean (승강기 is the MT's "elevator") with its English
    # rendering beneath, labelled as such, naming LIFT.
    card = page.locator(f"#answer-{i} .src-card.final", has_text="승강기").first
    expect(card.locator(".src-quote")).to_contain_text("승강기")
    render_box = card.locator(".src-render")
    expect(render_box.locator(".render-label")).to_have_text("EN (machine translation)")
    expect(render_box.locator(".render-text")).to_contain_text("LIFT")
    assert "elevator" not in render_box.inner_text().lower()
    shot(page, "english-rendering-record.png")
    if ui_services.settings.llm.mode != "local":
        return
    # A prose answer streams: its candidate sources appear while the LLM writes. Its passages
    # are rendered by the LLM after the answer is shown: the card fills in.
    j = ask(page, "What does the plan say about supply chain resilience?", expect_streaming=True)
    section = page.locator(f"#answer-{j}")
    expect(section.locator(".src-render").first).to_be_visible()
    expect(section.locator(".src-render[data-state=pending]")).to_have_count(
        0, timeout=ANSWER_TIMEOUT_MS
    )
    filled = section.locator(".src-render").first
    expect(filled.locator(".render-label")).to_have_text("EN (machine translation)")
    expect(filled.locator(".render-text, .render-withheld").first).to_be_visible()
    shot(page, "english-rendering-llm.png")
    # Logged with the answer's citations for staff (the review page and the CSV export read
    # it); a refusal's nearest passages are rendered for the reader but cite nothing.
    logged = logged_answers(ui_services)[0]
    assert logged["question"] == "What does the plan say about supply chain resilience?"
    if section.get_attribute("data-state") == "final":
        assert any(c["renderings"] for c in logged["citations"])
    else:
        assert logged["refused"] and not logged["citations"]


def test_the_chat_runs_under_its_content_security_policy(browser, server_url, use_real_home):
    """The headers are on the page the browser gets, and Gradio works under them: the page
    loads, answers, and the browser reports no blocked script, style or connection."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = ctx.new_page()
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        console = []
        page.on("console", lambda m: console.append(m.text))
        response = page.goto(server_url)
        headers = response.headers
        assert "frame-ancestors 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        i = ask(page, "Where is LIFT headquartered?")
        expect(page.locator(f"#answer-{i}")).to_have_attribute("data-state", "final")
        assert page.evaluate("window.__csp") == []
        assert not [m for m in console if "Content Security Policy" in m]
    finally:
        ctx.close()


def test_korean_answer(open_page):
    page = open_page(locale="ko-KR")
    expect(page.locator("#send")).to_have_text("질문하기")
    i = ask(page, "LIFT 본사는 어디에 있나요?")
    expect(page.locator(f"#answer-{i}")).to_have_attribute(
        "data-state", "final"
    )  # answered, not refused
    expect(last_answer(page)).to_contain_text("디트로이트")
    status = page.locator(f"#answer-{i} .status").inner_text()
    assert re.search(r"[\uac00-\ud7a3]", status), status  # labels in the answer's language
    assert page.locator(f"#answer-{i} .src-card").count() >= 1
    shot(page, "korean-answer.png")


def test_unanswerable_question_is_a_styled_refusal(open_page):
    page = open_page()
    i = ask(page, "What is the boiling point of liquid nitrogen at sea level?")
    expect(page.locator(f"#answer-{i}")).to_have_attribute("data-state", "refused")
    expect(last_answer(page).locator(".refusal")).to_be_visible()
    expect(last_answer(page)).to_contain_text("does not answer")
    expect(page.locator(f"#answer-{i}.refusal")).to_be_visible()
    shot(page, "refusal.png")


def test_script_in_question_renders_as_text(open_page):
    page = open_page()
    payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    i = ask(page, f"Where is LIFT headquartered? {payload}")
    assert page.evaluate("window.__xss") is None
    user = page.locator("#chat .message-content").first
    expect(user).to_contain_text("<script>window.__xss=1</script>")
    expect(page.locator(f"#answer-{i} h3")).to_contain_text("<script>window.__xss=1</script>")
    assert (
        page.locator("#chat script, #sources script, #chat img[src=x], #sources img").count() == 0
    )
    shot(page, "script-escaped.png")


# ----------------------------------------------------------------------------- review


def test_review_login_verdict_and_summary(open_page, ui_services):
    question = "Where is LIFT headquartered?"
    if not any(a["question"] == question and a["citations"] for a in logged_answers(ui_services)):
        ui_services.answers.answer(question, source="ui")
    page = open_page("review/")
    page.fill("input[type=text]", "staff")
    page.fill("input[type=password]", "wrong")
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
    page.fill("input[type=text]", "staff")
    page.fill("input[type=password]", "s3cret")
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#reviewer")).to_contain_text("staff", timeout=30_000)

    page.click("#pick-answer input")
    page.get_by_role("option", name=re.compile(re.escape(question))).first.click()
    card = page.locator("#answer-detail .review-card").first
    expect(card).to_be_visible()
    expect(card.locator(".passage")).not_to_be_empty()
    expect(card.locator(".page-link")).to_contain_text(re.compile(r"p\. \d+|front matter"))
    reviewed = page.locator("#summary table.by-language tr[data-language=en] td.reviewed")
    before = int(reviewed.inner_text())
    page.get_by_label("Correct / 정확").check()
    page.fill("#comment textarea", "page and passage match")
    page.click("#record")
    expect(page.locator("#record-msg")).to_contain_text("recorded by staff")
    expect(reviewed).to_have_text(str(before + 1))
    expect(
        page.locator("#summary table.by-language tr[data-language=en] td.precision")
    ).not_to_have_text("–")
    expect(card.locator(".verdict")).to_contain_text("correct")
    shot(page, "review-verdicts.png")
    db = logs.open_db(paths.logs_db(ui_services.settings))
    try:
        row = db.execute(
            "SELECT reviewer, verdict, comment FROM verdicts ORDER BY id DESC"
        ).fetchone()
    finally:
        db.close()
    assert tuple(row) == ("staff", "correct", "page and passage match")
