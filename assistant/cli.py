"""Command line: `assistant corpus|index|search|ask|serve|eval|bench|models|logs`.

Commands are thin adapters: parse input, call one service, format the result. Domain
errors become a one-line message with what to do next (never a traceback).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import click

from assistant import __version__, paths
from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings
from assistant.types import Answer, EvidenceEvent, FinalEvent, ResetEvent, TokenEvent, Turn

CONTEXT = {"help_option_names": ["-h", "--help"]}


def set_offline_env() -> None:
    """Nothing may reach a model hub or send telemetry (no internet here)."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)


class AppContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._services = None
        self.config: str | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config=self.config)
        return self._settings

    @property
    def services(self):  # noqa: ANN201
        if self._services is None:
            from assistant.services import build_services

            self._services = build_services(self.settings)
        return self._services


pass_app = click.make_pass_decorator(AppContext, ensure=True)


class Group(click.Group):
    """Turns domain errors into a clear message and exit code 1."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(exc.user_message()) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "--version")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    envvar="ASSISTANT_CONFIG",
    help="Your own settings file, merged over the defaults (or ASSISTANT_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool, config: str | None) -> None:
    """Bilingual cited answers over the Manufacturing USA Strategic Plan (NIST AMS 600-15)."""
    set_offline_env()
    ctx.ensure_object(AppContext).config = config
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("httpx", "sentence_transformers", "chromadb", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def _history(path: str | None) -> list[Turn]:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [Turn.model_validate(t) for t in data]
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read history file {path}: {exc}") from None


# ----------------------------------------------------------------------------- models


@cli.group(cls=Group)
def models() -> None:
    """Provision and inspect the models (embedding model, local LLMs)."""


@models.command("list")
@pass_app
def models_list(app: AppContext) -> None:
    """Show the model catalog and what is provisioned."""
    from assistant.modelstore import ModelStore

    store = ModelStore(app.settings)
    for name, spec in app.settings.models.catalog.items():
        state = "ready" if store.is_ready(name) else "missing"
        click.echo(f"{name:40} {spec.kind:22} {state:8} {store.target(name)}")


@models.command("provision")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every model in the catalog.")
@click.option("--verify", is_flag=True, help="Re-hash provisioned files.")
@pass_app
def models_provision(app: AppContext, names: tuple[str, ...], all_: bool, verify: bool) -> None:
    """Fetch, assemble and verify models (default: the configured embedder and LLM)."""
    from assistant.modelstore import ModelStore

    store = ModelStore(app.settings)
    catalog = app.settings.models.catalog
    wanted = (
        list(catalog)
        if all_
        else list(names)
        or [n for n in (app.settings.embedding.model, app.settings.llm.local.model) if n in catalog]
    )
    for name in wanted:
        if verify and store.is_ready(name) and not store.is_ready(name, verify=True):
            click.echo(f"{name}: checksum mismatch, re-fetching")
            import shutil

            shutil.rmtree(store.root / name, ignore_errors=True)
        path = store.provision(name, progress=True)
        click.echo(f"{name}: ready at {path}")


# ----------------------------------------------------------------------------- corpus


@cli.group(cls=Group)
def corpus() -> None:
    """The plan and the documents it cites."""


@corpus.command("stats")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def corpus_stats_cmd(app: AppContext, as_json: bool) -> None:
    """Counts: pages, sections, footnotes, references, chunks."""
    from assistant.corpus.build import corpus_stats, load_corpus
    from assistant.index import IndexLayout

    bundle = load_corpus(app.settings)
    manifest = IndexLayout(app.settings).current()
    stats = corpus_stats(bundle, manifest.chunks if manifest else None)
    if as_json:
        _echo_json(stats)
    else:
        for k, v in stats.items():
            click.echo(f"{k:22} {v}")


@corpus.command("references")
@click.option("--draft", type=click.Path(dir_okay=False), help="Write a fresh draft registry here.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def corpus_references(app: AppContext, draft: str | None, as_json: bool) -> None:
    """List the reviewed reference registry (or draft a new one from the footnotes)."""
    from assistant.corpus.build import load_corpus
    from assistant.corpus.references import draft_registry, write_registry

    bundle = load_corpus(app.settings, include_added=False)
    if draft:
        write_registry(Path(draft), draft_registry(bundle.footnotes))
        click.echo(
            f"draft written to {draft}; review it, then replace {app.settings.data.references}"
        )
        return
    for r in bundle.references:
        if as_json:
            _echo_json(r.model_dump())
        else:
            click.echo(
                f"{r.id:14} {r.kind:9} {r.date or '':10} {(r.title_en or r.title)[:60]:60} {r.url or ''}"
            )


@corpus.command("fetch")
@click.option("--only", multiple=True, help="Registry ids to fetch (default: all with a URL).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def corpus_fetch(app: AppContext, only: tuple[str, ...], as_json: bool) -> None:
    """Download the cited documents listed in the registry."""
    from assistant.corpus.fetch import fetch_references

    report = fetch_references(app.settings, list(only) or None, progress=not as_json)
    data = report.model_dump() if hasattr(report, "model_dump") else report.__dict__
    if as_json:
        _echo_json(data)
    else:
        click.echo(
            report.summary() if hasattr(report, "summary") else json.dumps(data, default=str)
        )


@corpus.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--ref", "ref_id", help="Registry id this document is the text of (e.g. usc-15-278s)."
)
@click.option("--title")
@click.option("--lang", type=click.Choice(["en", "ko"]))
@click.option("--no-index", is_flag=True, help="Do not update the index now.")
@pass_app
def corpus_add(
    app: AppContext,
    file: str,
    ref_id: str | None,
    title: str | None,
    lang: str | None,
    no_index: bool,
) -> None:
    """Add a local PDF, HTML, Markdown or text file to the corpus (and index it)."""
    from assistant.corpus.documents import add_document

    result = add_document(app.settings, Path(file), ref_id, title, lang)
    click.echo(f"{getattr(result, 'status', result)}: {getattr(result, 'doc_id', '')}")
    if not no_index:
        _report_build(app.services.build_index(progress=True))


@corpus.command("remove")
@click.argument("doc_id")
@pass_app
def corpus_remove(app: AppContext, doc_id: str) -> None:
    """Remove an added document (and update the index)."""
    from assistant.corpus.documents import remove_document

    remove_document(app.settings, doc_id)
    click.echo(f"removed: {doc_id}")
    _report_build(app.services.build_index(progress=True))


# ----------------------------------------------------------------------------- index


def _report_build(report, as_json: bool = False) -> None:  # noqa: ANN001
    m = report.manifest
    data = {
        "changed": report.changed,
        "build_id": m.build_id,
        "chunks": m.chunks,
        "sentences": m.sentences,
        "chunks_embedded": report.chunks_embedded,
        "sentences_embedded": report.sentences_embedded,
        "documents_changed": report.documents_changed,
        "seconds": round(report.seconds, 2),
        "model_id": m.model_id,
    }
    if as_json:
        _echo_json(data)
    elif report.changed:
        click.echo(
            f"index {m.build_id}: {m.chunks} chunks, {m.sentences} sentences; embedded "
            f"{report.chunks_embedded} chunks + {report.sentences_embedded} sentences in "
            f"{report.seconds:.1f}s; changed documents: {', '.join(report.documents_changed) or '-'}"
        )
    else:
        click.echo(f"index {m.build_id} is up to date ({m.chunks} chunks)")


@cli.command("index")
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
@click.option(
    "--render-en/--no-render-en",
    default=None,
    help="Also render every Korean sentence of the build in English with the local LLM "
    "(cached with the build; default: the renderings.prerender_en setting).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def index_cmd(app: AppContext, force: bool, render_en: bool | None, as_json: bool) -> None:
    """Build or update the search index (only changed chunks are embedded)."""
    report = app.services.build_index(force=force, progress=not as_json)
    if render_en if render_en is not None else app.settings.renderings.prerender_en:
        got = app.services.retriever.snapshot.sentences.get(include=["documents"])
        stats = app.services.renderer.prerender(
            [d for d in got["documents"] if d], "en", progress=not as_json
        )
        if not as_json:
            click.echo(
                f"renderings: {stats['rendered']} new, {stats['cached']} cached, "
                f"{stats['withheld']} withheld of {stats['sentences']} Korean sentences"
            )
    _report_build(report, as_json)


# ----------------------------------------------------------------------------- search / ask


def _questions(path: str):  # noqa: ANN202
    from evals.dataset import load_questions

    return load_questions(Path(path))


@cli.command("search")
@click.argument("question", required=False)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), help="Eval-format file.")
@click.option("-k", "top_k", default=10, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]))
@click.option("--json", "as_json", is_flag=True)
@pass_app
def search_cmd(
    app: AppContext,
    question: str | None,
    questions: str | None,
    top_k: int,
    mode: str | None,
    as_json: bool,
) -> None:
    """Retrieve passages for a question (no generation). Without a question: interactive."""
    from assistant.answer.frame import build_frame, query_for

    retriever = app.services.retriever

    def run(text: str, history: list[Turn], qid: str | None = None) -> dict:
        query = query_for(build_frame(text, history, app.settings.answer.default_lang), top_k=top_k)
        hits = retriever.search(query, mode=mode)
        out = {
            "question": text,
            "language": query.lang,
            "search_text": query.search_text,
            "hits": [
                {
                    "rank": h.rank,
                    "score": h.score,
                    "doc_id": h.doc_id,
                    "page": h.page_start,
                    "section": h.section,
                    "text": h.text,
                    "footnotes": h.footnotes,
                    "chunk_id": h.chunk_id,
                    "kind": h.kind,
                    "dense_rank": h.dense_rank,
                    "bm25_rank": h.bm25_rank,
                }
                for h in hits
            ],
        }
        return {"id": qid, **out} if qid else out

    if questions:
        for q in _questions(questions):
            _echo_json(run(q.question, q.history, q.id))
        return
    if question is None:
        click.echo("Type a question (empty line to quit).")
        while True:
            text = click.prompt(">", default="", show_default=False)
            if not text.strip():
                return
            for h in run(text, [])["hits"][:5]:
                click.echo(
                    f"  {h['rank']}. p.{h['page']} {h['section'][:70]}\n     {h['text'][:160]}"
                )
    result = run(question, [])
    if as_json:
        _echo_json(result)
        return
    for h in result["hits"]:
        click.echo(
            f"{h['rank']:2}. [{h['score']:.4f}] p.{h['page']} {h['section']}\n    {h['text'][:200]}"
        )


def _print_answer_stream(events, show_sources: bool = True) -> Answer | None:  # noqa: ANN001
    """Print the streamed answer, then the checked one and its sources; return it."""
    streamed = ""
    final = None
    for event in events:
        if isinstance(event, EvidenceEvent):
            click.secho(f"(evidence ready in {event.retrieve_s:.1f}s)", fg="bright_black", err=True)
        elif isinstance(event, TokenEvent):
            streamed += event.text
            click.echo(event.text, nl=False)
        elif isinstance(event, ResetEvent):
            click.echo()
            click.secho(
                "(draft did not match its sources; rewriting from the strongest passage)",
                fg="bright_black",
                err=True,
            )
            streamed = ""
        elif isinstance(event, FinalEvent):
            a = final = event.answer
            if streamed.strip() != a.answer.strip():
                if streamed:
                    click.echo()
                    click.secho("checked answer:", fg="bright_black")
                click.echo(a.answer)
            else:
                click.echo()
            for note in a.notices:
                click.secho(f"note: {note}", fg="yellow")
            if show_sources:
                for c in a.citations or a.related:
                    mark = c.support if a.citations else "related"
                    click.echo(
                        f"  [{c.n}] {c.doc_title[:40]} {c.page_label}, {c.section[:60]} ({mark})"
                    )
                    click.echo(f"      “{c.quote[:200]}”")
                    for r in c.references:
                        click.echo(f"      ↳ {r.title[:80]} {r.url or ''}")
            t = a.timings
            click.secho(
                f"retrieve {t.retrieve_s:.2f}s, first token {t.first_token_s or 0:.2f}s, "
                f"total {t.total_s:.2f}s",
                fg="bright_black",
                err=True,
            )
    return final


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), help="Eval-format file.")
@click.option(
    "--history",
    "history_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON list of {role, content} turns.",
)
@click.option("--mode", type=click.Choice(["local", "openai", "extractive", "fake"]))
@click.option("--json", "as_json", is_flag=True)
@click.option("--no-log", is_flag=True, help="Do not write this answer to logs.db.")
@click.option(
    "--render",
    is_flag=True,
    help="Then render the cited sentences in the answer's language (machine translation).",
)
@pass_app
def ask_cmd(
    app: AppContext,
    question: str | None,
    questions: str | None,
    history_file: str | None,
    mode: str | None,
    as_json: bool,
    no_log: bool,
    render: bool,
) -> None:
    """Answer a question with citations, in the question's language."""
    service = app.services.answers

    from assistant.renderings import shown_field

    def rendered(ans: Answer) -> Answer:
        if not render:
            return ans
        ans = app.services.renderer.fill(ans)
        if ans.log_id and service.log_path is not None:
            from assistant.logs import update_renderings

            update_renderings(service.log_path, ans.log_id, ans.citations)
        return ans

    if questions:
        for q in _questions(questions):
            ans = service.answer(q.question, q.history, mode, source="cli", log=not no_log)
            _echo_json({"id": q.id, **rendered(ans).to_public_json()})
        return
    if question is None:
        raise click.UsageError("give a QUESTION or --questions FILE")
    history = _history(history_file)
    if as_json:
        ans = service.answer(question, history, mode, source="cli", log=not no_log)
        _echo_json(rendered(ans).to_public_json())
        return
    final = _print_answer_stream(
        service.stream(question, history, mode, source="cli", log=not no_log)
    )
    if render and final is not None:
        ans = rendered(final)
        for c in getattr(ans, shown_field(ans)):
            for r in c.renderings:
                shown = r.text if r.status == "ok" else f"(withheld: {'; '.join(r.problems)})"
                click.echo(f"[{c.n}] {r.lang.upper()} (machine translation): {shown}")


# ----------------------------------------------------------------------------- serve


@cli.command("prepare")
@pass_app
def prepare_cmd(app: AppContext) -> None:
    """Provision missing models and build the index when missing or outdated."""
    from assistant.modelstore import ModelStore

    store = ModelStore(app.settings)
    catalog = app.settings.models.catalog
    for name in (app.settings.embedding.model, app.settings.llm.local.model):
        if name in catalog and not store.is_ready(name):
            click.echo(f"provisioning {name} …")
            store.provision(name, progress=True)
    t = time.perf_counter()
    _report_build(app.services.build_index(progress=True))
    click.echo(f"ready ({time.perf_counter() - t:.1f}s)")


@cli.command("serve")
@click.option("--host")
@click.option("--port", type=int)
@click.option(
    "--prepare/--no-prepare", default=True, help="Provision models and build the index first."
)
@click.pass_context
def serve_cmd(ctx: click.Context, host: str | None, port: int | None, prepare: bool) -> None:
    """Run the chat UI (and the staff review tab when credentials are configured)."""
    app: AppContext = ctx.find_object(AppContext)
    if prepare:
        ctx.invoke(prepare_cmd)
    from ui.app import launch

    launch(app.services, host=host, port=port)


# ----------------------------------------------------------------------------- review


@cli.group(cls=Group)
def review() -> None:
    """Staff reviewers of the citation review page."""


@review.command("add-user")
@click.argument("name")
@click.password_option(help="At least 12 characters (asked for when not given).")
@pass_app
def review_add_user(app: AppContext, name: str, password: str) -> None:
    """Add (or replace) a reviewer; only a salted hash of the password is written."""
    from assistant.reviewers import add_user

    path = add_user(app.settings, name, password)
    click.echo(
        f"reviewer {name} written to {path} (salted scrypt hash; restart the server to apply)"
    )


@review.command("list")
@pass_app
def review_list(app: AppContext) -> None:
    """Reviewer names (never passwords)."""
    from assistant.reviewers import load_reviewers

    for name in load_reviewers(app.settings).names():
        click.echo(name)


# ----------------------------------------------------------------------------- logs


@cli.group(cls=Group)
def logs() -> None:
    """The answer log (logs.db)."""


@logs.command("path")
@pass_app
def logs_path(app: AppContext) -> None:
    """Print the path of logs.db."""
    click.echo(paths.logs_db(app.settings))


@logs.command("list")
@click.option("-n", "limit", default=10, show_default=True)
@click.option("--language", type=click.Choice(["en", "ko"]))
@click.option("--json", "as_json", is_flag=True)
@pass_app
def logs_list(app: AppContext, limit: int, language: str | None, as_json: bool) -> None:
    """Show the latest logged answers."""
    from assistant.logs import list_answers, open_db

    db = open_db(paths.logs_db(app.settings))
    for row in list_answers(db, language=language, limit=limit):
        if as_json:
            _echo_json(dict(row))
        else:
            click.echo(
                f"{row['created_at']} [{row['language']}] {row['question'][:60]} -> {str(row['answer'])[:60]}"
            )


@logs.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False))
@pass_app
def logs_export(app: AppContext, out_dir: str) -> None:
    """Write answers.csv, citations.csv and verdicts.csv."""
    from assistant.logs import export_csv, open_db

    files = export_csv(open_db(paths.logs_db(app.settings)), Path(out_dir))
    for name, path in files.items():
        click.echo(f"{name}: {path}")


@logs.command("on")
def logs_on() -> None:
    """Explain how to turn logging on."""
    click.echo(
        "Logging is on by default; set ASSISTANT__LOG__ENABLED=true (or log.enabled in a profile)."
    )


@logs.command("off")
def logs_off() -> None:
    """Explain how to turn logging off."""
    click.echo(
        "Set ASSISTANT__LOG__ENABLED=false (or log.enabled: false in a settings profile), or pass "
        "--no-log to `assistant ask`."
    )


def main() -> None:
    try:
        from assistant import cli_eval  # noqa: F401 - registers `eval` and `bench`
    except ImportError:  # pragma: no cover - evals are optional in a trimmed install
        pass
    cli(prog_name="assistant")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
