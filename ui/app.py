"""The web app: chat at "/", staff citation review at "/review" (only with credentials).

``build_app(services)`` returns the FastAPI app (tests serve it with uvicorn);
``launch(services)`` serves it on settings.ui host/port, warming the generator first in a
background thread so the first user does not wait for the model to load.
"""

from __future__ import annotations

import ui  # noqa: F401  (sets the offline / no-telemetry environment before gradio loads)

# isort: split
import logging
import threading
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from ui.chat import build_chat
from ui.i18n import I18N_TABLES
from ui.review import build_review
from ui.security import ExpiringTokens, LoginGuard, LoginThrottle, RequestLimits, SecurityHeaders

logger = logging.getLogger(__name__)

# System fonts only: the default theme would fetch Google Fonts (no internet here), and
# Noto Sans CJK renders the Korean.
FONTS = [
    "Noto Sans",
    "Noto Sans CJK KR",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
    "system-ui",
    "sans-serif",
]
MONO = ["Noto Sans Mono", "DejaVu Sans Mono", "monospace"]

CSS = """
#sources .sources-panel { max-height: 78vh; overflow-y: auto; padding-right: 4px; }
.sources-panel.empty p { color: var(--body-text-color-subdued); }
.answer-sources { border-top: 1px solid var(--border-color-primary); padding-top: .4rem; margin-bottom: .8rem; }
.answer-sources h3 { font-size: 1rem; margin: .2rem 0; }
.answer-sources h3 .q { font-weight: normal; color: var(--body-text-color-subdued); }
.answer-sources .status { font-size: .85rem; margin: .2rem 0 .4rem; }
.answer-sources .status.generating { color: #b45309; }
.answer-sources .status.generating::before { content: "⏳ "; }
.answer-sources.refusal .status, .refusal { color: #9a3412; }
.refusal, .input-problem, .error { border-left: 4px solid #ea580c; background: rgba(234,88,12,.08);
  padding: .3rem .6rem; border-radius: 4px; }
.input-problem { border-left-color: #ca8a04; }
.error { border-left-color: #dc2626; }
.low-support { border-left: 4px solid #ca8a04; padding-left: .6rem; }
.notice { font-size: .85rem; color: var(--body-text-color-subdued); margin: .3rem 0 0; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: .45rem .6rem;
  margin: .4rem 0; scroll-margin: 4rem; transition: box-shadow .3s, background .3s; }
.src-card.candidate { opacity: .8; border-style: dashed; }
.src-card.src-flash, .src-card:target { box-shadow: 0 0 0 3px #2563eb; background: rgba(37,99,235,.06); }
.src-head { display: flex; flex-wrap: wrap; gap: .4rem; align-items: baseline; }
.src-n { font-weight: 700; }
.page-link { font-weight: 600; }
.badge { font-size: .72rem; padding: 0 .4rem; border-radius: 9px; border: 1px solid; }
.badge.verified { color: #15803d; border-color: #15803d; }
.badge.unverified { color: #b91c1c; border-color: #b91c1c; }
.badge.partial { color: #b45309; border-color: #b45309; }
.claim { font-size: .75rem; margin-left: .15rem; cursor: help; }
.claim-verified { color: #15803d; } .claim-partial { color: #b45309; } .claim-unverified { color: #b91c1c; }
.badge.candidate, .badge.related { color: #6b7280; border-color: #9ca3af; }
.src-section { font-size: .8rem; color: var(--body-text-color-subdued); }
.src-quote { margin: .3rem 0; padding-left: .5rem; border-left: 3px solid #facc15; }
.src-render { margin: .2rem 0 .4rem .5rem; padding-left: .5rem; border-left: 3px dashed #94a3b8; font-size: .92em; }
.src-render .render-label { font-size: .8em; color: #475569; font-weight: 600; }
.src-render p { margin: .15rem 0; }
.src-render .render-withheld, .src-render .render-pending { color: #64748b; font-style: italic; }
mark.quote { background: #fef08a; color: #111827; padding: 0 1px; }
.src-passage summary { cursor: pointer; font-size: .8rem; color: #2563eb; }
.src-passage .passage { font-size: .85rem; white-space: pre-wrap; margin-top: .3rem; }
.src-refs { font-size: .8rem; margin-top: .3rem; }
.src-refs ul { margin: .1rem 0 0 1.1rem; padding: 0; }
.src-numbers { font-size: .8rem; color: #b45309; }
a.cite-marker { font-weight: 700; color: #2563eb !important; text-decoration: none; padding: 0 1px; cursor: pointer; }
a.cite-marker:hover { text-decoration: underline; }
.generating { color: var(--body-text-color-subdued); font-style: italic; }
.review-pair { display: grid; grid-template-columns: 1fr 2fr; gap: .6rem; font-size: .85rem; }
.review-detail .meta { font-size: .8rem; color: var(--body-text-color-subdued); }
.verdict { font-size: .85rem; margin: .3rem 0 0; }
.verdict.v-correct b { color: #15803d; } .verdict.v-wrong_passage b, .verdict.v-unsupported_claim b { color: #b91c1c; }
table.summary { border-collapse: collapse; font-size: .85rem; margin-bottom: .6rem; }
table.summary th, table.summary td { border: 1px solid var(--border-color-primary); padding: .2rem .5rem; }
"""

# [n] markers link to "#src-<answer>-<n>". Gradio's chatbot renders them as links; this
# handler (capture phase, before any other) scrolls the source card into view, opens its
# passage, flashes it and puts the anchor in the URL, without leaving or reloading the page.
HEAD = """
<script>
(function () {
  function openSource(id) {
    var card = document.getElementById(id);
    if (!card) return false;
    var d = card.querySelector('details.src-passage');
    if (d) d.open = true;
    card.scrollIntoView({behavior: 'auto', block: 'center'});
    card.classList.add('src-flash');
    setTimeout(function () { card.classList.remove('src-flash'); }, 2500);
    if (history.replaceState) history.replaceState(null, '', '#' + id);
    return true;
  }
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest ? e.target.closest('a[href*="#src-"]') : null;
    if (!a) return;
    var id = (a.getAttribute('href') || '').split('#').pop();
    if (!/^src-\\d+-\\d+$/.test(id)) return;
    e.preventDefault();
    e.stopPropagation();
    openSource(id);
  }, true);
  window.addEventListener('hashchange', function () {
    var id = location.hash.slice(1);
    if (/^src-\\d+-\\d+$/.test(id)) openSource(id);
  });
})();
</script>
"""


def theme() -> gr.themes.Base:
    return gr.themes.Soft(font=FONTS, font_mono=MONO)


def build_app(services: Any) -> FastAPI:
    """FastAPI app with the chat at "/" and, when ``settings.ui.review_users`` is set, the
    staff review at "/review" (login required for its page and every API route)."""
    settings = services.settings
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    chat = build_chat(services)
    chat.queue(
        default_concurrency_limit=settings.ui.concurrency_limit, max_size=settings.ui.max_queue
    )

    from assistant.reviewers import load_reviewers

    reviewers = load_reviewers(settings)
    if reviewers:
        review = build_review(settings)
        review.queue(default_concurrency_limit=4, max_size=settings.ui.max_queue)

        @app.get("/review", include_in_schema=False)
        def _review_slash() -> RedirectResponse:
            return RedirectResponse("/review/")

        # Mounted before "/" (a mount at "/" matches every path).
        gr.mount_gradio_app(
            app,
            review,
            path="/review",
            auth=reviewers.check,
            auth_message="Staff citation review. / 직원용 인용 검토.",
            i18n=I18N_TABLES,
            theme=theme(),
            css=CSS,
            footer_links=[],
            run_history=False,
            ssr_mode=False,
            mcp_server=False,
            show_error=False,
            max_file_size=1,
        )
        # Sessions of the review page end `session_ttl_s` after login (Gradio keeps them forever).
        for route in app.routes:
            if getattr(route, "path", None) == "/review" and hasattr(
                getattr(route, "app", None), "tokens"
            ):
                route.app.tokens = ExpiringTokens(settings.ui.session_ttl_s)
    gr.mount_gradio_app(
        app,
        chat,
        path="/",
        i18n=I18N_TABLES,
        theme=theme(),
        css=CSS,
        head=HEAD,
        footer_links=["api", "settings"],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        show_error=False,
        max_file_size=1,
    )
    _clean_client_errors(app)
    app.add_middleware(LoginGuard, throttle=LoginThrottle(free=settings.ui.login_free_attempts))
    app.add_middleware(RequestLimits, max_body=settings.ui.max_request_bytes)
    app.add_middleware(SecurityHeaders)
    return app


class _ShutdownStreams(logging.Filter):
    """At a stop, streams still open after the grace period (idle browser tabs) are cancelled:
    that is the intended end of them, logged as one line, not as a crash with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        import asyncio

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, asyncio.CancelledError):
            record.exc_info, record.exc_text = None, None
            record.msg, record.args = "an open stream was closed at shutdown", ()
            record.levelno, record.levelname = logging.INFO, "INFO"
            return False
        return True


def _clean_client_errors(app: FastAPI) -> None:
    """A request for an API that does not exist is the client's error: 404 with a message, not a
    500 and a traceback in the log (Gradio raises FnIndexInferError for it)."""
    from fastapi.responses import JSONResponse
    from gradio.route_utils import FnIndexInferError

    async def unknown_api(request, exc):  # noqa: ANN001, ANN202
        return JSONResponse({"error": "no such API", "detail": str(exc)[:200]}, status_code=404)

    for route in app.routes:
        sub = getattr(route, "app", None)
        if hasattr(sub, "add_exception_handler"):
            sub.add_exception_handler(FnIndexInferError, unknown_api)
    app.add_exception_handler(FnIndexInferError, unknown_api)


def warm(services: Any) -> None:
    """Load the embedding model, the index and the generator (and its prompt prefix)."""
    try:
        services.retriever.snapshot  # noqa: B018  (loads the index)
        services.embedder.embed_queries(["warm-up"])
        services.answers.warm()
        services.renderer.warm()
        logger.info("warm-up done")
    except Exception as exc:  # the first question will report the problem to the user
        logger.warning("warm-up failed: %s", exc)


def launch(services: Any, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    settings = services.settings
    host = host or settings.ui.host or "127.0.0.1"
    port = port or settings.ui.port or 7860
    app = build_app(services)
    threading.Thread(target=warm, args=(services,), name="warm-up", daemon=True).start()
    from assistant.reviewers import load_reviewers

    review = " and /review" if load_reviewers(settings) else ""
    logging.getLogger("uvicorn.error").addFilter(_ShutdownStreams())
    print(f"Serving the assistant on http://{host}:{port}/{review}", flush=True)
    # Without a bound, a stop waits for every open SSE stream (idle browser tabs) forever.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=settings.ui.shutdown_grace_s,
    )
