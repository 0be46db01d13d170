"""`assistant eval` (score a question file, compare runs, sweep settings) and `assistant bench`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant import paths
from assistant.cli import AppContext, Group, _echo_json, cli, pass_app


@cli.group(cls=Group, invoke_without_command=True)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False),
    multiple=True,
    help="Question file(s) (default: the dev set evals/questions.jsonl and the frozen test set "
    "evals/questions-test.jsonl).",
)
@click.option(
    "--split", type=click.Choice(["dev", "test", "all"]), default="all", show_default=True
)
@click.option(
    "--without",
    "without",
    multiple=True,
    help="Switch a pipeline decision off for this run (ablation), e.g. --without gate_kind.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder (default: runs/<timestamp>).",
)
@click.option(
    "--mode",
    type=click.Choice(["local", "openai", "extractive", "fake"]),
    help="Also score answers with this generator.",
)
@click.option("--no-retrieval", is_flag=True, help="Skip the retrieval scores.")
@click.option("--limit", type=int, help="Only the first N questions (smoke runs).")
@click.option("--report/--no-report", default=True, help="Write report.html beside metrics.json.")
@click.pass_context
def eval_cmd(
    ctx: click.Context,
    questions: tuple[str, ...],
    split: str,
    without: tuple[str, ...],
    out_dir: str | None,
    mode: str | None,
    no_retrieval: bool,
    limit: int | None,
    report: bool,
) -> None:
    """Score retrieval (and answers with --mode) on an eval-format question file."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from assistant.answer.state import ABLATABLE
    from evals.dataset import DEFAULT_FILES, load_question_files
    from evals.run import run_eval

    if unknown := sorted(set(without) - set(ABLATABLE)):
        raise click.BadParameter(
            f"unknown step {', '.join(unknown)}; known: {', '.join(ABLATABLE)}",
            param_hint="--without",
        )
    app: AppContext = ctx.find_object(AppContext)
    files = [Path(p) for p in questions] or [paths.resource_root() / f for f in DEFAULT_FILES]
    qs = [q for q in load_question_files(files) if split == "all" or q.split == split]
    qs = qs[:limit] if limit else qs
    out = Path(out_dir or f"runs/{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
    metrics = run_eval(
        app.services, qs, out, mode=mode, retrieval=not no_retrieval, disabled=without
    )
    if report:
        try:
            from evals.report import write_report

            write_report(out)
        except ImportError:  # pragma: no cover - report module missing in a trimmed install
            pass
    brief = {
        k: {g: v for g, v in (metrics.get(k) or {}).items() if g in ("dev", "test", "all")}
        for k in ("answers",)
    }
    brief["retrieval"] = {
        m: {g: v for g, v in r.items() if g in ("dev", "test")}
        for m, r in (metrics.get("retrieval") or {}).items()
    }
    click.echo(json.dumps(brief, ensure_ascii=False, indent=1))
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
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Question file (default: the dev set).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/sweep")
@click.option(
    "--set",
    "sets",
    multiple=True,
    required=True,
    help="Settings to try, e.g. --set retrieval.weights.en.bm25=0,0.1,0.5 (repeatable).",
)
@click.option("--mode", type=click.Choice(["local", "openai", "extractive", "fake"]))
@pass_app
def eval_sweep(
    app: AppContext, questions: str, out_dir: str, sets: tuple[str, ...], mode: str | None
) -> None:
    """Run the question set under each combination of settings and tabulate the results."""
    from evals.dataset import load_questions
    from evals.sweep import format_sweep, run_sweep

    path = Path(questions) if questions else paths.resource_root() / "evals" / "questions.jsonl"
    table = run_sweep(app.settings, load_questions(path), Path(out_dir), list(sets), mode)
    click.echo(format_sweep(table))


@cli.group("bench", cls=Group, invoke_without_command=True)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default="runs/bench.json",
    show_default=True,
)
@click.option("--modes", default="extractive,local", show_default=True)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Question file (default: the dev set).",
)
@click.option("-n", "limit", default=12, show_default=True, help="Questions per measurement.")
@click.option("--label", default="", help="Name of this measurement (e.g. before/after).")
@click.pass_context
def bench_cmd(
    ctx: click.Context, out_file: str, modes: str, questions: str, limit: int, label: str
) -> None:
    """Benchmarks: index build, retrieval and answer latency, RSS, concurrent throughput."""
    if ctx.invoked_subcommand is not None:
        return
    app: AppContext = ctx.find_object(AppContext)
    from evals.bench import run_bench

    path = Path(questions) if questions else paths.resource_root() / "evals" / "questions.jsonl"
    result = run_bench(app.settings, path, [m for m in modes.split(",") if m], limit, label)
    Path(out_file).parent.mkdir(parents=True, exist_ok=True)
    Path(out_file).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    click.echo(json.dumps(result, ensure_ascii=False, indent=1))


@eval_cmd.command("verifier")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    default="runs/verifier.json",
    show_default=True,
)
@click.option("--target-precision", default=0.95, show_default=True)
@pass_app
def eval_verifier(app: AppContext, out_file: str, target_precision: float) -> None:
    """Precision/recall of 'verified' on the labelled sentence-passage pairs; calibrates the
    verifier's similarity and coverage thresholds on their calib split."""
    from assistant.answer.claims import Thresholds
    from evals.verifier import run_verifier_eval

    cfg = app.settings.answer
    current = {lang: Thresholds(t.min_similarity, t.min_coverage) for lang, t in cfg.verify.items()}
    result = run_verifier_eval(app.services.embedder, current, Path(out_file), target_precision)
    brief = {
        k: v for k, v in result.items() if k not in ("configured_rows", "calibrated_rows", "grid")
    }
    for name in ("configured_scores", "calibrated_scores"):
        brief[name] = {
            g: {m: x for m, x in sc.items() if m != "by_kind"} for g, sc in brief[name].items()
        }
    click.echo(json.dumps(brief, ensure_ascii=False, indent=1))
    click.echo(f"written: {out_file}")


@eval_cmd.command("rescore")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), multiple=True)
def eval_rescore(run_dir: str, out_dir: str, questions: tuple[str, ...]) -> None:
    """Re-score a run's stored answers with the current metrics and question files."""
    from evals.dataset import DEFAULT_FILES, load_question_files
    from evals.rescore import rescore_run

    files = [Path(p) for p in questions] or [paths.resource_root() / f for f in DEFAULT_FILES]
    metrics = rescore_run(Path(run_dir), load_question_files(files), Path(out_dir))
    click.echo(
        json.dumps(
            {g: metrics["answers"].get(g) for g in ("dev", "test")}, ensure_ascii=False, indent=1
        )
    )


@eval_cmd.command("ablate")
@click.option("--mode", type=click.Choice(["local", "openai", "extractive", "fake"]), required=True)
@click.option(
    "--steps",
    default="all",
    show_default=True,
    help="Comma-separated decisions to switch off, or all.",
)
@click.option(
    "--split", type=click.Choice(["dev", "test", "all"]), default="all", show_default=True
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False),
    help="A finished run with the same mode and no step off (skips the baseline run).",
)
@pass_app
def eval_ablate(
    app: AppContext, mode: str, steps: str, split: str, out_dir: str, baseline: str | None
) -> None:
    """Run the question set once per decision switched off; writes OUT/ablation.json (how often
    each decision fired on test, and the accuracy without it) and the baseline's report."""
    from assistant.answer.state import ABLATABLE
    from evals.ablation import run_ablation
    from evals.dataset import DEFAULT_FILES, load_question_files

    names = (
        list(ABLATABLE) if steps == "all" else [s.strip() for s in steps.split(",") if s.strip()]
    )
    if unknown := sorted(set(names) - set(ABLATABLE)):
        raise click.BadParameter(f"unknown step {', '.join(unknown)}", param_hint="--steps")
    qs = [
        q
        for q in load_question_files([paths.resource_root() / f for f in DEFAULT_FILES])
        if split == "all" or q.split == split
    ]
    result = run_ablation(
        app.services, qs, mode, names, Path(out_dir), Path(baseline) if baseline else None
    )
    click.echo(
        json.dumps({k: v for k, v in result.items() if k != "runs"}, ensure_ascii=False, indent=1)
    )


@bench_cmd.command("scale")
@click.option("--sizes", default="1000,10000,100000", show_default=True)
@click.option("--modes", default="embedded,server", show_default=True)
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default="runs/scale", show_default=True
)
@pass_app
def bench_scale(app: AppContext, sizes: str, modes: str, out_dir: str) -> None:
    """Retrieval cost as the corpus grows: synthetic stores of SIZES chunks in each mode (build,
    open, query p50/p95 for dense/BM25/fused, RSS per worker, recall@10 of Chroma vs exact)."""
    from evals.bench_scale import run_scale
    from evals.report import write_scale_report

    result = run_scale(
        app.services, [int(x) for x in sizes.split(",")], [m for m in modes.split(",") if m]
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    write_scale_report(out)
    click.echo(f"written: {out}/scale.json, {out}/scale.html")
