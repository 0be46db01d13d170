"""Staff citation review (Gradio Blocks mounted at "/review", behind a login).

Reads logs.db through ``assistant.logs`` (list_answers, get_answer, record_verdict,
citation_quality, export_csv); the reviewer recorded with a verdict is the logged-in user.
"""

from __future__ import annotations

import logging
import re
import tempfile
from datetime import date

import gradio as gr

from assistant import logs, paths
from assistant.settings import Settings
from ui import render
from ui.i18n import T

logger = logging.getLogger(__name__)

VERDICT_CHOICES = [
    ("Correct / 정확", "correct"),
    ("Wrong passage / 잘못된 구절", "wrong_passage"),
    ("Unsupported claim / 근거 없는 주장", "unsupported_claim"),
]
LANGUAGE_CHOICES = [("All / 전체", "all"), ("English", "en"), ("한국어", "ko")]
STATUS_CHOICES = [
    ("All / 전체", "all"),
    ("Verified / 확인됨", "verified"),
    ("Unverified / 미확인", "unverified"),
    ("Refused / 답변 거절", "refused"),
]
SOURCE_CHOICES = [
    ("All sources / 전체", "all"),
    ("Chat (ui)", "ui"),
    ("API", "api"),
    ("CLI", "cli"),
    ("Eval", "eval"),
]
TABLE_HEADERS = [
    "created (UTC)",
    "lang",
    "question",
    "refused",
    "citations",
    "verified share",
    "reviewed",
    "id",
]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str | None, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not _DATE.match(value):
        raise ValueError(f"{what} must be a date like 2025-01-31")
    date.fromisoformat(value)  # raises ValueError for 2025-02-31
    return value


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _renderings_html(c: dict) -> str:
    """The logged machine-translated renderings of a citation's sentences, for staff who do not
    read the quote's language (a withheld one says what its check found)."""
    items = []
    for r in c.get("renderings") or []:
        tag = f"{str(r.get('lang', '')).upper()} (machine translation)"
        if r.get("status") == "ok" and r.get("text"):
            items.append(
                f'<p class="render-text"><span class="render-label">{render.esc(tag)}</span> '
                f"{render.esc(r['text'])}</p>"
            )
        elif r.get("status") == "withheld":
            why = "; ".join(r.get("problems") or [])
            items.append(
                f'<p class="render-withheld"><span class="render-label">{render.esc(tag)}</span> '
                f"withheld: {render.esc(why)}</p>"
            )
    return f'<div class="src-render">{"".join(items)}</div>' if items else ""


class Review:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db_path = paths.logs_db(settings)

    def _db(self):
        return logs.open_db(self.db_path)

    # ------------------------------------------------------------------ data (JSON-able)

    def list_answers(
        self,
        since: str = "",
        until: str = "",
        language: str = "all",
        status: str = "all",
        limit: int = 200,
    ) -> list[dict]:
        db = self._db()
        try:
            rows = logs.list_answers(
                db,
                since=_date(since, "From"),
                until=_date(until, "To"),
                language=None if language in ("", "all", None) else language,
                verified=status or "all",
                limit=limit,
            )
        finally:
            db.close()
        keep = (
            "id",
            "created_at",
            "question",
            "language",
            "refused",
            "answer",
            "source",
            "citations",
            "verified_citations",
            "verified_share",
            "reviewed",
        )
        return [{k: r.get(k) for k in keep} for r in rows]

    def get_answer(self, answer_id: str) -> dict | None:
        db = self._db()
        try:
            return logs.get_answer(db, answer_id) if answer_id else None
        finally:
            db.close()

    def record(self, citation_id: int, verdict: str, comment: str, reviewer: str | None) -> int:
        if not reviewer:
            raise ValueError("not signed in")
        db = self._db()
        try:
            return logs.record_verdict(
                db,
                citation_id=int(citation_id),
                verdict=verdict,
                reviewer=reviewer,
                comment=comment or "",
            )
        finally:
            db.close()

    def quality(self, source: str = "all") -> dict[str, list[dict]]:
        src = None if source in ("", "all", None) else source
        db = self._db()
        try:
            return {
                "by_week": logs.citation_quality(db, by="week", source=src),
                "by_language": logs.citation_quality(db, by="language", source=src),
            }
        finally:
            db.close()

    def export(self) -> list[str]:
        """CSV files for the logged-in reviewer; the folder (and Gradio's cached copy, see
        ``delete_cache``) is deleted after ``ui.export_ttl_s``."""
        import shutil
        import threading

        out = tempfile.mkdtemp(prefix="logs-export-")
        db = self._db()
        try:
            written = logs.export_csv(db, out)
        finally:
            db.close()
        timer = threading.Timer(
            self.settings.ui.export_ttl_s,
            shutil.rmtree,
            args=(out,),
            kwargs={"ignore_errors": True},
        )
        timer.daemon = True
        timer.start()
        return [str(p) for p in written.values()]

    # ------------------------------------------------------------------ rendering

    def _link(self, doc_id: str, page: int | None) -> str | None:
        if not doc_id.startswith("plan/"):
            return None
        url = self.settings.data.official_url
        offset = self.settings.data.pdf_page_offset
        return f"{url}#page={page + offset}" if offset is not None and page else url

    def answer_html(self, answer: dict | None) -> str:
        if not answer:
            return '<div class="review-detail empty"><p>Pick an answer to review. / 검토할 답변을 고르세요.</p></div>'
        support = answer.get("support") or {}
        head = (
            f'<div class="review-answer"><p class="meta">{render.esc(answer["created_at"])} · '
            f"{render.esc(answer['language'])} · {render.esc(answer['source'])} · mode "
            f"{render.esc(answer['mode'])} · support {render.esc(support.get('level', '?'))}"
            f"{' · refused' if answer['refused'] else ''}</p>"
            f'<p class="q"><b>Q:</b> {render.esc(answer["question"])}</p>'
            f'<p class="a {"refusal" if answer["refused"] else ""}"><b>A:</b> '
            f"{render.esc(answer['answer'])}</p></div>"
        )
        cards = []
        for c in answer["citations"]:
            page = c["page"]
            page_label = (
                "front matter"
                if page is None
                else (
                    f"pp. {page}–{c['page_end']}"
                    if c.get("page_end") and c["page_end"] != page
                    else f"p. {page}"
                )
            )
            where = (
                f"{render.PLAN_LABEL}, {page_label}"
                if c["doc_id"].startswith("plan/")
                else f"{c['doc_title']}, {page_label}"
            )
            link = render.safe_url(self._link(c["doc_id"], page))
            where_html = (
                (
                    f'<a class="page-link" href="{link}" target="_blank" '
                    f'rel="noopener noreferrer">{render.esc(where)}</a>'
                )
                if link
                else f'<span class="page-link">{render.esc(where)}</span>'
            )
            support = c.get("support") or ("verified" if c["verified"] else "unverified")
            badge = f'<span class="badge {render.esc(support)}">{render.esc(render.label("en", support))}</span>'
            v = c.get("verdict")
            verdict = (
                (
                    f'<p class="verdict v-{render.esc(v["verdict"])}">Verdict: '
                    f"<b>{render.esc(v['verdict'])}</b> by {render.esc(v['reviewer'])} "
                    f"({render.esc(v['created_at'])}){': ' + render.esc(v['comment']) if v['comment'] else ''}"
                    f" · {c['verdict_count']} verdict(s)</p>"
                )
                if v
                else '<p class="verdict none">Not reviewed yet.</p>'
            )
            refs = c.get("references") or []
            refs_html = ""
            if refs:
                items = []
                for r in refs:
                    url = render.safe_url(r.get("url"))
                    title = render.esc(r.get("title"))
                    items.append(
                        f'<li><a href="{url}" target="_blank" rel="noopener noreferrer">'
                        f"{title}</a></li>"
                        if url
                        else f"<li>{title}</li>"
                    )
                refs_html = f'<div class="src-refs"><span>Referenced reports:</span><ul>{"".join(items)}</ul></div>'
            cards.append(
                f'<div class="src-card review-card" id="cit-{int(c["id"])}">'
                f'<div class="src-head"><span class="src-n">[{int(c["n"])}]</span> {where_html} '
                f'{badge} <span class="cid">citation #{int(c["id"])}</span></div>'
                f'<div class="src-section">Section: {render.esc(c["section"])}</div>'
                f'<div class="review-pair"><div class="claim"><b>Quote</b><br>'
                f'<mark class="quote">{render.esc(c["quote"])}</mark>{_renderings_html(c)}</div>'
                f'<div class="passage"><b>Passage</b><br>{render.highlight(c["passage"], c["quote"])}</div></div>'
                f"{refs_html}{verdict}</div>"
            )
        if not cards:
            cards.append('<p class="no-sources">No citations logged for this answer.</p>')
        return f'<div class="review-detail">{head}{"".join(cards)}</div>'

    @staticmethod
    def summary_html(quality: dict[str, list[dict]]) -> str:
        def table(rows: list[dict], keys: list[str], cls: str) -> str:
            head = "".join(
                f"<th>{render.esc(k)}</th>"
                for k in [
                    *keys,
                    "citations",
                    "reviewed",
                    "correct",
                    "precision (staff)",
                    "verified share (automatic)",
                ]
            )
            body = "".join(
                f"<tr data-language='{render.esc(r['language'])}'>"
                + "".join(f"<td class='{k}'>{render.esc(r[k])}</td>" for k in keys)
                + f"<td class='citations'>{r['citations']}</td>"
                f"<td class='reviewed'>{r['reviewed']}</td><td class='correct'>{r['correct']}</td>"
                f"<td class='precision'>{_pct(r['precision'])}</td>"
                f"<td class='verified-share'>{_pct(r['verified_share'])}</td></tr>"
                for r in rows
            )
            if not rows:
                body = f"<tr><td colspan='{len(keys) + 5}'>No citations logged yet.</td></tr>"
            return f'<table class="summary {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

        return (
            f'<div class="review-summary"><h4>By week / 주별</h4>'
            f"{table(quality['by_week'], ['week', 'language'], 'by-week')}"
            f"<h4>By language / 언어별</h4>{table(quality['by_language'], ['language'], 'by-language')}</div>"
        )


def build_review(settings: Settings) -> gr.Blocks:
    rv = Review(settings)

    def table_value(rows: list[dict]) -> list[list]:
        return [
            [
                r["created_at"],
                r["language"],
                (r["question"] or "")[:120],
                "yes" if r["refused"] else "",
                r["citations"],
                _pct(r["verified_share"]),
                r["reviewed"],
                r["id"],
            ]
            for r in rows
        ]

    def choices(rows: list[dict]) -> list[tuple[str, str]]:
        return [
            (f"{r['created_at'][:16]} · {r['language']} · {(r['question'] or '')[:70]}", r["id"])
            for r in rows
        ]

    def do_list(since, until, language, status, current):
        try:
            rows = rv.list_answers(since, until, language, status)
        except ValueError as exc:
            return gr.skip(), gr.skip(), f"⚠️ {render.md_text(exc)}"
        ids = [r["id"] for r in rows]
        value = current if current in ids else (ids[0] if ids else None)
        return (
            table_value(rows),
            gr.update(choices=choices(rows), value=value),
            f"{len(rows)} answer(s).",
        )

    def do_show(answer_id):
        ans = rv.get_answer(answer_id) if answer_id else None
        cits = (
            []
            if not ans
            else [
                (
                    f"[{c['n']}] p. {c['page'] if c['page'] is not None else '–'} · "
                    f"{(c['section'] or '')[:50]}{' · ' + c['verdict']['verdict'] if c['verdict'] else ''}",
                    int(c["id"]),
                )
                for c in ans["citations"]
            ]
        )
        return rv.answer_html(ans), gr.update(choices=cits, value=cits[0][1] if cits else None)

    def do_record(answer_id, citation_id, verdict, comment, source, request: gr.Request):
        if citation_id in (None, "") or not verdict:
            return (
                "⚠️ Pick a citation and a verdict. / 인용과 판정을 고르세요.",
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        try:
            vid = rv.record(int(citation_id), verdict, comment, request.username)
        except ValueError as exc:
            return f"⚠️ {render.md_text(exc)}", gr.skip(), gr.skip(), gr.skip()
        html_detail, cits = do_show(answer_id)
        cits["value"] = int(citation_id)
        return (
            f"✅ Verdict #{vid} recorded by {request.username}: {verdict}.",
            html_detail,
            cits,
            rv.summary_html(rv.quality(source)),
        )

    def do_summary(source):
        return rv.summary_html(rv.quality(source))

    def whoami(request: gr.Request):
        return f"👤 {request.username or '?'}"

    ttl = int(settings.ui.export_ttl_s)
    with gr.Blocks(title="Citation review", delete_cache=(max(1, ttl // 2), ttl)) as demo:
        with gr.Row():
            gr.Markdown(T("review_title"))
            who = gr.Markdown(elem_id="reviewer")
        gr.Markdown(T("review_intro"))
        with gr.Row():
            since = gr.Textbox(label=T("since"), placeholder="2025-01-01", elem_id="since")
            until = gr.Textbox(label=T("until"), placeholder="2025-12-31", elem_id="until")
            language = gr.Dropdown(
                LANGUAGE_CHOICES, value="all", label=T("language"), elem_id="language"
            )
            status = gr.Dropdown(STATUS_CHOICES, value="all", label=T("status"), elem_id="status")
            refresh = gr.Button(T("refresh"), elem_id="refresh")
        list_msg = gr.Markdown(elem_id="list-msg")
        table = gr.Dataframe(
            headers=TABLE_HEADERS,
            label=T("answers"),
            interactive=False,
            wrap=True,
            elem_id="answers-table",
            max_height=320,
            column_widths=["15%", "5%", "44%", "7%", "7%", "8%", "7%", "7%"],
        )
        pick = gr.Dropdown([], label=T("pick_answer"), elem_id="pick-answer")
        detail = gr.HTML(rv.answer_html(None), elem_id="answer-detail", js_on_load=None)
        with gr.Row():
            citation = gr.Dropdown([], label=T("citation"), elem_id="citation")
            verdict = gr.Radio(VERDICT_CHOICES, label=T("verdict"), elem_id="verdict")
            comment = gr.Textbox(label=T("comment"), elem_id="comment")
        record = gr.Button(T("record"), variant="primary", elem_id="record")
        record_msg = gr.Markdown(elem_id="record-msg")
        gr.Markdown(T("summary"))
        source = gr.Dropdown(SOURCE_CHOICES, value="all", label="Source", elem_id="source")
        summary = gr.HTML(elem_id="summary", js_on_load=None)
        with gr.Row():
            export = gr.Button(T("export"), elem_id="export")
        files = gr.File(
            label=T("export_files"),
            file_count="multiple",
            elem_id="export-files",
            interactive=False,
        )

        filters = [since, until, language, status]
        list_ev = dict(
            fn=do_list,
            inputs=[*filters, pick],
            outputs=[table, pick, list_msg],
            api_visibility="private",
        )
        demo.load(whoami, None, who, api_visibility="private")
        demo.load(**list_ev).then(do_summary, [source], [summary], api_visibility="private")
        refresh.click(**list_ev)
        for f in (language, status):
            f.change(**list_ev)
        for f in (since, until):
            f.submit(**list_ev)
        pick.change(do_show, [pick], [detail, citation], api_visibility="private")

        def on_select(evt: gr.SelectData):
            row = evt.row_value or []
            return row[-1] if row else gr.skip()

        table.select(on_select, None, pick, api_visibility="private")
        record.click(
            do_record,
            [pick, citation, verdict, comment, source],
            [record_msg, detail, citation, summary],
            api_visibility="private",
        ).then(**list_ev)
        source.change(do_summary, [source], [summary], api_visibility="private")
        export.click(rv.export, None, files, api_name="export_csv")

        # JSON endpoints for API clients (gradio_client), behind the same login.
        def api_list(
            since: str = "", until: str = "", language: str = "all", status: str = "all"
        ) -> list[dict]:
            """Logged answers, newest first (filters: dates YYYY-MM-DD, language en|ko|all,
            status all|verified|unverified|refused)."""
            return rv.list_answers(since, until, language, status)

        def api_answer(answer_id: str) -> dict:
            """One logged answer with its citations and their current verdicts."""
            return rv.get_answer(answer_id) or {}

        def api_verdict(
            citation_id: int, verdict: str, comment: str = "", request: gr.Request = None
        ) -> dict:  # type: ignore[assignment]
            """Record a verdict (correct | wrong_passage | unsupported_claim) on a citation;
            the reviewer is the logged-in user."""
            vid = rv.record(
                int(citation_id), verdict, comment, request.username if request else None
            )
            return {"verdict_id": vid, "reviewer": request.username if request else None}

        def api_summary(source: str = "all") -> dict:
            """Citation precision (staff verdicts) by week and by language, with the share
            of citations that passed the automatic check."""
            return rv.quality(source)

        gr.api(api_list, api_name="list_answers")
        gr.api(api_answer, api_name="get_answer")
        gr.api(api_verdict, api_name="record_verdict")
        gr.api(api_summary, api_name="summary")
    return demo
