"""`assistant eval` (score a question file, compare runs, sweep settings) and `assistant bench`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli import AppContext, Group, _echo_json, cli, pass_app


@cli.group(cls=Group, invoke_without_command=True)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default="evals/questions.jsonl",
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: runs/<timestamp>).")
@click.option("--mode", type=click.Choice(["local", "openai", "extractive", "fake"]),
              help="Also score answers with this generator.")
@click.option("--no-retrieval", is_flag=True, help="Skip the retrieval scores.")
@click.option("--limit", type=int, help="Only the first N questions (smoke runs).")
@click.option("--report/--no-report", default=True, help="Write report.html beside metrics.json.")
@click.pass_context
def eval_cmd(ctx: click.Context, questions: str, out_dir: str | None, mode: str | None, no_retrieval: bool,
             limit: int | None, report: bool) -> None:
    """Score retrieval (and answers with --mode) on an eval-format question file."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from evals.dataset import load_questions
    from evals.run import run_eval

    app: AppContext = ctx.find_object(AppContext)
    qs = load_questions(Path(questions))[:limit] if limit else load_questions(Path(questions))
    out = Path(out_dir or f"runs/{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
    metrics = run_eval(app.services, qs, out, mode=mode, retrieval=not no_retrieval)
    if report:
        try:
            from evals.report import write_report

            write_report(out)
        except ImportError:  # pragma: no cover - report module missing in a trimmed install
            pass
    click.echo(json.dumps({k: metrics.get(k) for k in ("retrieval", "answers")}, ensure_ascii=False, indent=1))
    click.echo(f"written: {out}/metrics.json")


eval_cmd.name = "eval"


@eval_cmd.command("compare")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
def eval_compare(run_a: str, run_b: str, as_json: bool) -> None:
    """Deltas between two runs and the questions whose outcome changed."""
    from evals.compare import compare_runs, format_comparison

    diff = compare_runs(Path(run_a), Path(run_b))
    if as_json:
        _echo_json(diff)
    else:
        click.echo(format_comparison(diff))


@eval_cmd.command("sweep")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default="evals/questions.jsonl")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/sweep")
@click.option("--set", "sets", multiple=True, required=True,
              help="Settings to try, e.g. --set retrieval.weights.en.bm25=0,0.1,0.5 (repeatable).")
@click.option("--mode", type=click.Choice(["local", "openai", "extractive", "fake"]))
@pass_app
def eval_sweep(app: AppContext, questions: str, out_dir: str, sets: tuple[str, ...], mode: str | None) -> None:
    """Run the question set under each combination of settings and tabulate the results."""
    from evals.dataset import load_questions
    from evals.sweep import format_sweep, run_sweep

    table = run_sweep(app.settings, load_questions(Path(questions)), Path(out_dir), list(sets), mode)
    click.echo(format_sweep(table))


@cli.command("bench")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default="runs/bench.json", show_default=True)
@click.option("--modes", default="extractive,local", show_default=True)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), default="evals/questions.jsonl")
@click.option("-n", "limit", default=12, show_default=True, help="Questions per measurement.")
@click.option("--label", default="", help="Name of this measurement (e.g. before/after).")
@pass_app
def bench_cmd(app: AppContext, out_file: str, modes: str, questions: str, limit: int, label: str) -> None:
    """Benchmarks: index build, retrieval and answer latency, RSS, concurrent throughput."""
    from evals.bench import run_bench

    result = run_bench(app.settings, Path(questions), [m for m in modes.split(",") if m], limit, label)
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    Path(out_file).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))
