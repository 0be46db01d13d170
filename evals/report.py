"""`report.html` for an eval run: one self-contained page that opens offline.

Reads DIR/metrics.json and DIR/questions.jsonl (written by evals.run). Plots are PNGs drawn
with matplotlib's Agg backend and inlined as base64 data URIs; the CSS is inline; there is
no JavaScript and no external asset. Every piece of text from the run is HTML-escaped.
Parts of a run that were not made (retrieval-only or answers-only runs) show "n/a".
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

RETRIEVERS = ("dense", "bm25", "hybrid", "dense_exact", "hybrid_exact")
LANGS = ("en", "ko", "all")
KS = (1, 3, 5, 10)
RETRIEVAL_METRICS = [f"hit@{k}" for k in KS] + ["mrr@10", "ndcg@10", "recall@10_vs_exact"]
ANSWER_METRICS = [  # (key, label, kind)
    ("key_fact_accuracy", "Key-fact accuracy", "pct"),
    ("verified_precision", "Verified citations that cite a gold passage", "pct"),
    ("refusal_accuracy", "Refusal accuracy (unanswerable)", "pct"),
    ("false_refusals", "False refusals", "int"),
    ("language_match", "Language match", "pct"),
    ("citation_precision", "Citation precision", "pct"),
    ("citation_recall", "Citation recall", "pct"),
    ("verified_share", "Verified citations", "pct"),
    ("unresolved_markers", "Unresolved markers", "int"),
    ("answers_with_markers", "Answers with markers", "int"),
]
LATENCIES = (("retrieve_s", "retrieve"), ("first_token_s", "first token"), ("total_s", "total"))
NA = "n/a"


# ----------------------------------------------------------------------------- loading


def load_run(run_dir: Path) -> tuple[dict, list[dict]]:
    """metrics.json and the per-question rows (empty when questions.jsonl is missing)."""
    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    rows: list[dict] = []
    qpath = run_dir / "questions.jsonl"
    if qpath.exists():
        for line in qpath.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return metrics, rows


def _num(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def headline(metrics: dict) -> dict[str, float]:
    """Every numeric headline metric of a run as a flat {dotted.name: value} dict.

    retrieval.<retriever>.<lang>.<metric>, answers.<lang>.<metric>,
    answers.<lang>.latency.<name>.<p50|p95>, answers.by_type.<type>.accuracy.
    Counts of questions (n) are left out; metrics that were not computed (None) too, and so
    are the groups of a language with no question (evals.run writes 0.0 for those).
    """
    out: dict[str, float] = {}
    for retriever, per_lang in (metrics.get("retrieval") or {}).items():
        for lang, vals in (per_lang or {}).items():
            if (vals or {}).get("n") == 0:  # no question of this language (run.py writes 0s)
                continue
            for name, v in (vals or {}).items():
                if name != "n" and _num(v):
                    out[f"retrieval.{retriever}.{lang}.{name}"] = v
    answers = metrics.get("answers") or {}
    for lang, vals in answers.items():
        if lang == "by_type":
            for t, tv in (vals or {}).items():
                if _num(tv.get("accuracy")):
                    out[f"answers.by_type.{t}.accuracy"] = tv["accuracy"]
            continue
        if (vals or {}).get("n") == 0:
            continue
        for name, v in (vals or {}).items():
            if name == "latency":
                for lat, ps in (v or {}).items():
                    for p, pv in (ps or {}).items():
                        if _num(pv):
                            out[f"answers.{lang}.latency.{lat}.{p}"] = pv
            elif name != "n" and _num(v):
                out[f"answers.{lang}.{name}"] = v
    return out


# ----------------------------------------------------------------------------- formatting


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def fmt(v: Any, kind: str = "num") -> str:
    if v is None or (not _num(v)):
        return NA
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return str(int(v))
    if kind == "s":
        return f"{v:.3f} s"
    return f"{v:.3f}"


def _plot_png(fig) -> str:  # noqa: ANN001
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(b64: str | None, alt: str) -> str:
    if not b64:
        return f'<p class="na">{esc(alt)}: n/a</p>'
    return f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{b64}"><figcaption>{esc(alt)}</figcaption></figure>'


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# ----------------------------------------------------------------------------- plots

_COLORS = {"dense": "#1f77b4", "bm25": "#ff7f0e", "hybrid": "#2ca02c"}
_STYLES = {"en": "-", "ko": "--", "all": ":"}
_MARKERS = {"en": "o", "ko": "s", "all": "^"}


def plot_hit_curves(metrics: dict) -> str | None:
    retrieval = metrics.get("retrieval")
    if not retrieval:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for retriever in RETRIEVERS:
        for lang in ("en", "ko"):
            vals = (retrieval.get(retriever) or {}).get(lang) or {}
            if not vals.get("n"):
                continue
            ys = [vals.get(f"hit@{k}") for k in KS]
            if any(y is None for y in ys):
                continue
            ax.plot(
                KS,
                ys,
                _STYLES[lang],
                marker=_MARKERS[lang],
                color=_COLORS.get(retriever),
                label=f"{retriever} · {lang} (n={vals['n']})",
            )
    ax.set_xticks(KS)
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k")
    ax.set_ylim(0, 1.03)
    ax.grid(alpha=0.3)
    ax.set_title("Retrieval hit@k by retriever and language")
    ax.legend(fontsize=8, loc="lower right")
    return _plot_png(fig)


def plot_latency(rows: list[dict]) -> str | None:
    answers = [r["answer"] for r in rows if r.get("answer")]
    data, labels = [], []
    for key, label in LATENCIES:
        vals = [a[key] for a in answers if _num(a.get(key))]
        if vals:
            data.append(vals)
            labels.append(f"{label}\n(n={len(vals)})")
    if not data:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.boxplot(data, vert=False, showfliers=True)
    ax.set_yticks(range(1, len(labels) + 1), labels)
    ax.set_xlabel("seconds")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Answer latency per question")
    return _plot_png(fig)


def type_scores(rows: list[dict]) -> tuple[str, dict[str, dict[str, tuple[float, int]]]]:
    """Per question type and language: (score, n). Answer accuracy, else hybrid hit@5."""
    use_answers = any(r.get("answer") for r in rows)
    out: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if use_answers:
            if not r.get("answer"):
                continue
            v = float(bool(r["answer"].get("correct")))
        else:
            hyb = (r.get("retrieval") or {}).get("hybrid")
            if not hyb or hyb.get("hit@5") is None:
                continue
            v = float(hyb["hit@5"])
        t = r.get("type") or "?"
        for lang in (r.get("lang") or "?", "all"):
            out.setdefault(t, {}).setdefault(lang, []).append(v)
    label = "answer accuracy" if use_answers else "hybrid hit@5"
    return label, {
        t: {lang: (sum(v) / len(v), len(v)) for lang, v in d.items()} for t, d in out.items()
    }


def plot_by_type(rows: list[dict]) -> str | None:
    label, scores = type_scores(rows)
    if not scores:
        return None
    plt = _pyplot()
    types = sorted(scores, key=lambda t: -scores[t]["all"][1])
    fig, ax = plt.subplots(figsize=(max(6.4, 0.9 * len(types) + 2), 3.8))
    langs = [
        (lang, color)
        for lang, color in (("en", "#4c72b0"), ("ko", "#dd8452"))
        if any(lang in scores[t] for t in types)
    ]
    width = 0.76 / max(1, len(langs))
    for j, (lang, color) in enumerate(langs):
        xs = [i + (j - (len(langs) - 1) / 2) * width for i in range(len(types))]
        ys = [scores[t].get(lang, (0.0, 0))[0] for t in types]
        ns = [scores[t].get(lang, (0.0, 0))[1] for t in types]
        bars = ax.bar(xs, ys, width, label=lang, color=color)
        for b, n in zip(bars, ns, strict=True):
            if n:
                ax.annotate(
                    f"n={n}",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(types)), types, rotation=20)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel(label)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{label.capitalize()} by question type")
    return _plot_png(fig)


# ----------------------------------------------------------------------------- tables


def retrieval_table(metrics: dict) -> str:
    retrieval = metrics.get("retrieval")
    head = "".join(f"<th>{esc(m)}</th>" for m in ["retriever", "lang", *RETRIEVAL_METRICS, "n"])
    if not retrieval:
        return (
            f'<table class="num"><tr>{head}</tr><tr><td colspan="{len(RETRIEVAL_METRICS) + 3}" '
            f'class="na">n/a — retrieval was not scored in this run</td></tr></table>'
        )
    body = []
    for retriever in RETRIEVERS:
        for lang in [
            g
            for g in ("dev.en", "dev.ko", "dev", "test.en", "test.ko", "test")
            if g in (retrieval.get(retriever) or {})
        ] or LANGS:
            vals = (retrieval.get(retriever) or {}).get(lang)
            if vals is None or vals.get("n") == 0:  # no question of this language: not measured
                cells = "".join(f"<td>{NA}</td>" for _ in RETRIEVAL_METRICS) + f"<td>{NA}</td>"
            else:
                cells = "".join(f"<td>{fmt(vals.get(m))}</td>" for m in RETRIEVAL_METRICS)
                cells += f"<td>{fmt(vals.get('n'), 'int')}</td>"
            cls = ' class="all"' if lang == "all" else ""
            body.append(f"<tr{cls}><td>{esc(retriever)}</td><td>{esc(lang)}</td>{cells}</tr>")
    return f'<table class="num"><tr>{head}</tr>{"".join(body)}</table>'


def answer_groups(metrics: dict) -> tuple[str, ...]:
    """The columns of the answers table: dev and test side by side when the run has splits."""
    answers = metrics.get("answers") or {}
    split_cols = tuple(
        g for g in ("dev.en", "dev.ko", "dev", "test.en", "test.ko", "test") if g in answers
    )
    return split_cols or LANGS


def answers_table(metrics: dict) -> str:
    answers = metrics.get("answers") or {}
    cols = answer_groups(metrics)
    head = "<tr><th>metric</th>" + "".join(f"<th>{esc(lang)}</th>" for lang in cols) + "</tr>"
    if not answers:
        return (
            f'<table class="num">{head}<tr><td colspan="4" class="na">n/a — answers were not '
            f"scored in this run (no --mode)</td></tr></table>"
        )
    answers = {
        lang: ({} if (v or {}).get("n") == 0 else v) if lang not in ("by_type", "steps") else v
        for lang, v in answers.items()
    }  # no question of a language: n/a, not 0
    body = [
        "<tr><td>questions</td>"
        + "".join(f"<td>{fmt((answers.get(lang) or {}).get('n', 0), 'int')}</td>" for lang in cols)
        + "</tr>"
    ]
    for key, label, kind in ANSWER_METRICS:
        body.append(
            f"<tr><td>{esc(label)}</td>"
            + "".join(f"<td>{fmt((answers.get(lang) or {}).get(key), kind)}</td>" for lang in cols)
            + "</tr>"
        )
    for key, label in LATENCIES:
        for p in ("p50", "p95"):
            body.append(
                f"<tr><td>Latency {esc(label)} {p}</td>"
                + "".join(
                    f"<td>{fmt((((answers.get(lang) or {}).get('latency') or {}).get(key) or {}).get(p), 's')}</td>"
                    for lang in cols
                )
                + "</tr>"
            )
    return f'<table class="num">{head}{"".join(body)}</table>'


def by_type_table(rows: list[dict]) -> str:
    label, scores = type_scores(rows)
    if not scores:
        return ""
    head = f"<tr><th>type</th>{''.join(f'<th>{lang}</th>' for lang in LANGS)}</tr>"
    body = []
    for t in sorted(scores, key=lambda t: -scores[t]["all"][1]):
        cells = "".join(
            f"<td>{fmt(scores[t][lang][0], 'pct')} <span class='n'>({scores[t][lang][1]})</span></td>"
            if lang in scores[t]
            else f"<td>{NA}</td>"
            for lang in LANGS
        )
        body.append(f"<tr><td>{esc(t)}</td>{cells}</tr>")
    return f'<p class="note">{esc(label)} (n)</p><table class="num">{head}{"".join(body)}</table>'


def split_type_table(metrics: dict) -> str:
    """Accuracy per question type, dev and test side by side."""
    by_type = (metrics.get("answers") or {}).get("by_type") or {}
    types = sorted({k.split(".", 1)[1] for k in by_type if "." in k})
    if not types:
        return ""
    head = "<tr><th>type</th><th>dev</th><th>test</th></tr>"
    body = []
    for t in types:
        cells = []
        for split in ("dev", "test"):
            v = by_type.get(f"{split}.{t}")
            cells.append(
                f"<td>{fmt(v['accuracy'], 'pct')} <span class='n'>({v['correct']}/{v['n']})</span></td>"
                if v
                else f"<td>{NA}</td>"
            )
        body.append(f"<tr><td>{esc(t)}</td>{''.join(cells)}</tr>")
    return f'<table class="num">{head}{"".join(body)}</table>'


def steps_table(metrics: dict) -> str:
    """How often each pipeline decision fired, per split, and per split x language / type."""
    steps = (metrics.get("answers") or {}).get("steps") or {}
    if not steps:
        return '<p class="na">n/a — no trace in this run</p>'
    cols = [g for g in ("dev", "test", "dev.en", "dev.ko", "test.en", "test.ko") if g in steps]
    type_cols = sorted(g for g in steps if ".type=" in g)
    codes = sorted({c for g in [*cols, *type_cols] for c in steps[g]})
    head = "<tr><th>decision</th>" + "".join(f"<th>{esc(g)}</th>" for g in cols) + "</tr>"
    body = [
        "<tr><td>"
        + esc(c)
        + "</td>"
        + "".join(f"<td>{steps[g].get(c, 0)}</td>" for g in cols)
        + "</tr>"
        for c in codes
    ]
    head2 = (
        "<tr><th>decision</th>"
        + "".join(f"<th>{esc(g.replace('.type=', ' '))}</th>" for g in type_cols)
        + "</tr>"
    )
    body2 = [
        "<tr><td>"
        + esc(c)
        + "</td>"
        + "".join(f"<td>{steps[g].get(c, 0) or ''}</td>" for g in type_cols)
        + "</tr>"
        for c in codes
    ]
    return (
        f'<table class="num">{head}{"".join(body)}</table><p class="note">per split and question type</p>'
        f'<div style="overflow-x:auto"><table class="num">{head2}{"".join(body2)}</table></div>'
    )


def ablation_table(ablation: dict | None) -> str:
    """Per switchable decision: how often it fired and what switching it off did to accuracy."""
    if not ablation:
        return (
            '<p class="na">n/a — no ablation run beside this report (`assistant eval ablate`)</p>'
        )
    head = (
        "<tr><th>switched off</th><th>fired (test)</th><th>test accuracy</th><th>Δ test</th>"
        "<th>dev accuracy</th><th>Δ dev</th><th>test refusal acc.</th></tr>"
    )
    body = []
    base = ablation.get("baseline") or {}
    for name, r in (ablation.get("steps") or {}).items():
        d_test = (
            None if r.get("test") is None or base.get("test") is None else r["test"] - base["test"]
        )
        d_dev = None if r.get("dev") is None or base.get("dev") is None else r["dev"] - base["dev"]
        body.append(
            f"<tr><td>{esc(name)}</td><td>{fmt(r.get('fired_test'), 'int')}</td><td>{fmt(r.get('test'), 'pct')}</td>"
            f"<td>{fmt(d_test, 'pct')}</td><td>{fmt(r.get('dev'), 'pct')}</td><td>{fmt(d_dev, 'pct')}</td>"
            f"<td>{fmt(r.get('test_refusal'), 'pct')}</td></tr>"
        )
    note = (
        f'<p class="note">mode {esc(ablation.get("mode"))}; baseline: test {fmt(base.get("test"), "pct")}, '
        f"dev {fmt(base.get('dev'), 'pct')}. A negative Δ means the decision earns its keep.</p>"
    )
    return note + f'<table class="num">{head}{"".join(body)}</table>'


def verifier_table(verifier: dict | None) -> str:
    if not verifier:
        return (
            '<p class="na">n/a — no verifier run beside this report (`assistant eval verifier`)</p>'
        )
    rows = []
    for name in ("configured_scores", "calibrated_scores"):
        for g, sc in (verifier.get(name) or {}).items():
            rows.append(
                f"<tr><td>{esc(name.split('_')[0])}</td><td>{esc(g)}</td><td>{fmt(sc.get('n'), 'int')}</td>"
                f"<td>{fmt(sc.get('verified'), 'int')}</td><td>{fmt(sc.get('precision'), 'pct')}</td>"
                f"<td>{fmt(sc.get('recall'), 'pct')}</td></tr>"
            )
    head = "<tr><th>thresholds</th><th>pairs</th><th>n</th><th>verified</th><th>precision</th><th>recall</th></tr>"
    th = esc(json.dumps(verifier.get("configured"), ensure_ascii=False))
    return f'<p class="note">configured thresholds {th}</p><table class="num">{head}{"".join(rows)}</table>'


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(d, dict):
        out = []
        for k, v in d.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return [(prefix, d)]


def settings_block(metrics: dict) -> str:
    top = [
        ("run id", metrics.get("run_id")),
        ("label", metrics.get("label") or "—"),
        ("created", metrics.get("created_at")),
        ("profile", metrics.get("profile")),
        ("answer mode", metrics.get("mode") or "— (retrieval only)"),
        ("questions", metrics.get("questions")),
        ("run seconds", metrics.get("seconds")),
    ]
    st = metrics.get("settings") or {}
    models = [("embedding model", st.get("embedding")), ("LLM", st.get("llm") or "—")]
    machine = [(f"machine.{k}", v) for k, v in (metrics.get("machine") or {}).items()]
    rest = [
        (k, v)
        for sect in ("retrieval", "answer", "chunking")
        for k, v in _flatten(st.get(sect) or {}, sect)
    ]

    def rows(items: list[tuple[str, Any]]) -> str:
        return "".join(
            f"<tr><th>{esc(k)}</th><td>{esc(json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)}</td></tr>"
            for k, v in items
        )

    return (
        f'<div class="settings"><table class="kv">{rows(top + models + machine)}</table>'
        f'<table class="kv">{rows(rest) or "<tr><td>n/a</td></tr>"}</table></div>'
    )


def _rank(r: dict | None) -> str:
    if not r:
        return NA
    return str(r["first_relevant"]) if r.get("first_relevant") else "miss"


def failures(row: dict, main: str = "hybrid") -> list[str]:
    """What went wrong for one question (empty when nothing did).

    Retrieval counts as failed when the retriever the answers use (``main``) has no relevant
    chunk in its top 5; the other retrievers' ranks are shown beside it, not counted.
    """
    out: list[str] = []
    a = row.get("answer")
    if a:
        if a.get("answerable", True):
            if a.get("false_refusal"):
                out.append("false refusal")
            elif a.get("missed_keys"):
                out.append(
                    "missed keys: " + "; ".join(" | ".join(alts) for alts in a["missed_keys"])
                )
            if not a.get("refused") and not a.get(
                "cited_correct_passage", any(c.get("correct") for c in a.get("citations") or [])
            ):
                out.append("no correct citation")
        elif not a.get("refused"):
            out.append("answered an unanswerable question")
        if a.get("language_ok") is False:
            out.append("wrong language")
        if a.get("unresolved_markers"):
            out.append(f"unresolved markers: {a['unresolved_markers']}")
    r = (row.get("retrieval") or {}).get(main)
    if r and not r.get("hit@5"):
        out.append(f"{main} retrieval: no relevant chunk in top 5")
    return out


def _citations_cell(a: dict | None) -> str:
    if not a:
        return NA
    cites = a.get("citations") or []
    if not cites:
        return "—"
    items = []
    for c in cites:
        ok = "✓" if c.get("correct") else "✗"
        ver = c.get("support") or ("verified" if c.get("verified") else "unverified")
        items.append(
            f'<li class="{"good" if c.get("correct") else "bad"}"><b>[{esc(c.get("n"))}]</b> '
            f"p.{esc(c.get('page'))} · {esc(c.get('section'))} · {esc(ver)} · correct {ok}"
            + (f'<div class="quote">{esc(c.get("quote"))}</div>' if c.get("quote") else "")
            + "</li>"
        )
    return f'<ul class="cites">{"".join(items)}</ul>'


def _trace_cell(a: dict | None) -> str:
    codes = [d.get("code") for d in (a or {}).get("trace") or []]
    return f'<div class="quote">{esc(" → ".join(c for c in codes if c))}</div>' if codes else ""


def question_table(rows: list[dict], main: str = "hybrid") -> str:
    head = (
        "<tr><th>id</th><th>split</th><th>lang</th><th>type</th><th>question</th><th>answer</th>"
        '<th>citations (page · section · verified · correct)</th><th class="rank">first relevant '
        "rank<br>dense/bm25/hybrid</th><th>what failed</th></tr>"
    )
    body = []
    for r in rows:
        a = r.get("answer")
        fails = failures(r, main)
        ret = r.get("retrieval")
        ranks = " / ".join(_rank((ret or {}).get(m)) for m in RETRIEVERS) if ret else NA
        if a is None:
            answer = NA
        else:
            tag = '<span class="tag">refused</span> ' if a.get("refused") else ""
            answer = tag + esc(a.get("answer"))
        fail_html = (
            ("<ul>" + "".join(f"<li>{esc(f)}</li>" for f in fails) + "</ul>") if fails else "—"
        )
        cls = "fail" if fails else "ok"
        body.append(
            f'<tr class="{cls}"><td>{esc(r.get("id"))}</td><td>{esc(r.get("split", "dev"))}</td>'
            f"<td>{esc(r.get('lang'))}</td>"
            f"<td>{esc(r.get('type'))}</td><td>{esc(r.get('question'))}</td>"
            f'<td class="ans">{answer}{_trace_cell(a)}</td><td>{_citations_cell(a)}</td><td>{esc(ranks)}</td>'
            f'<td class="why">{fail_html}</td></tr>'
        )
    n_fail = sum(1 for r in rows if failures(r, main))
    toggle = (
        '<input type="checkbox" id="only-fail"><label for="only-fail"> show only questions '
        f"with a failure ({n_fail} of {len(rows)})</label>"
    )
    return f'{toggle}<table class="qs">{head}{"".join(body)}</table>'


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans KR",sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}
th{background:#f4f4f4;text-align:left}table.num td{text-align:right}table.num td:first-child,table.num td:nth-child(2){text-align:left}
tr.all td{font-weight:600;background:#fafafa}.na{color:#888;font-style:italic}.note,.n{color:#666;font-size:12px}
.settings{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}table.kv th{font-weight:normal;color:#555}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:12px;color:#666}
figure img{max-width:100%;border:1px solid #eee}
table.qs{font-size:12.5px;width:100%}table.qs td.ans{max-width:420px}table.qs tr.fail td:first-child{border-left:4px solid #d62728}
table.qs tr.ok td:first-child{border-left:4px solid #2ca02c}ul{margin:0;padding-left:16px}
ul.cites li.bad{color:#8a1c1c}.quote{color:#666;font-size:11.5px}.tag{background:#eee;border-radius:3px;padding:0 4px;font-size:11px}
.why{color:#8a1c1c;max-width:260px}th.rank{min-width:120px}#only-fail:checked~table.qs tr.ok{display:none}
"""


def main_retriever(metrics: dict) -> str:
    mode = ((metrics.get("settings") or {}).get("retrieval") or {}).get("mode")
    return mode if mode in RETRIEVERS else "hybrid"


def render_report(
    metrics: dict, rows: list[dict], ablation: dict | None = None, verifier: dict | None = None
) -> str:
    title = f"Eval report — {metrics.get('label') or metrics.get('run_id') or 'run'}"
    plots = "".join(
        [
            _img(plot_hit_curves(metrics), "hit@k curves (retrieval)"),
            _img(plot_latency(rows), "latency distribution (answers)"),
            _img(plot_by_type(rows), "accuracy by question type"),
        ]
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="note">{esc(metrics.get("questions"))} questions · mode {esc(metrics.get("mode") or "retrieval only")}'
        f" · profile {esc(metrics.get('profile'))} · {esc(metrics.get('created_at'))}</p>",
        "<h2>Retrieval</h2>",
        retrieval_table(metrics),
        "<h2>Answers</h2>",
        answers_table(metrics),
        "<h2>Plots</h2>",
        f'<div class="plots">{plots}</div>',
        "<h2>By question type</h2>",
        split_type_table(metrics) or by_type_table(rows) or '<p class="na">n/a</p>',
        "<h2>Pipeline decisions (trace codes)</h2>",
        steps_table(metrics),
        "<h2>Ablation</h2>",
        ablation_table(ablation),
        "<h2>Claim verifier (labelled pairs)</h2>",
        verifier_table(verifier),
        "<h2>Settings</h2>",
        settings_block(metrics),
        "<h2>Questions</h2>",
        question_table(rows, main_retriever(metrics)),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(run_dir: Path) -> Path:
    """Write DIR/report.html from DIR/metrics.json (+ questions.jsonl); returns its path."""
    run_dir = Path(run_dir)
    metrics, rows = load_run(run_dir)
    extra = {}
    for name in ("ablation", "verifier"):
        path = run_dir / f"{name}.json"
        extra[name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    out = run_dir / "report.html"
    tmp = run_dir / "report.html.tmp"
    tmp.write_text(
        render_report(metrics, rows, extra["ablation"], extra["verifier"]), encoding="utf-8"
    )
    tmp.replace(out)
    return out


# ----------------------------------------------------------------------------- scale bench


def plot_scale(result: dict) -> str | None:
    runs = result.get("runs") or []
    if not runs:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for mode, style in (("embedded", "-"), ("server", "--")):
        rows = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["chunks"])
        if not rows:
            continue
        xs = [r["chunks"] for r in rows]
        for key, color in (("dense_s", "#1f77b4"), ("bm25_s", "#ff7f0e"), ("fused_s", "#2ca02c")):
            axes[0].plot(
                xs,
                [1000 * r[key]["p50"] for r in rows],
                style,
                marker="o",
                color=color,
                label=f"{key[:-2]} p50 · {mode}",
            )
        axes[1].plot(
            xs, [r["rss_mb"] for r in rows], style, marker="s", label=f"worker RSS · {mode}"
        )
        if mode == "server":
            axes[1].plot(
                xs,
                [r.get("server_rss_mb") or 0 for r in rows],
                ":",
                marker="^",
                label="chroma server RSS",
            )
    for ax, ylabel in ((axes[0], "ms"), (axes[1], "MB")):
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_title("Query latency (p50)")
    axes[1].set_title("Memory")
    return _plot_png(fig)


def write_scale_report(out_dir: Path) -> Path:
    result = json.loads((Path(out_dir) / "scale.json").read_text(encoding="utf-8"))
    head = (
        "<tr><th>chunks</th><th>mode</th><th>build (Chroma / BM25)</th><th>open</th><th>dense p50/p95</th>"
        "<th>BM25 p50/p95</th><th>fused p50/p95</th><th>worker RSS</th><th>server RSS</th>"
        "<th>recall@10 vs exact (min)</th></tr>"
    )
    rows = []

    def lat(r: dict, k: str) -> str:
        return f"{1000 * r[k]['p50']:.1f} / {1000 * r[k]['p95']:.1f} ms"

    for r in result.get("runs") or []:
        rows.append(
            f"<tr><td>{r['chunks']}</td><td>{esc(r['mode'])}</td><td>{r['build']['chroma_s']} s / "
            f"{r['build']['bm25_s']} s</td><td>{r['open_s']} s</td><td>{lat(r, 'dense_s')}</td><td>{lat(r, 'bm25_s')}</td>"
            f"<td>{lat(r, 'fused_s')}</td><td>{r['rss_mb']} MB</td><td>{r.get('server_rss_mb', NA)}</td>"
            f"<td>{r['recall@10_vs_exact']} ({r['recall@10_min']})</td></tr>"
        )
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Retrieval at scale</title>'
        f"<style>{CSS}</style></head><body><h1>Retrieval at scale</h1>"
        f'<p class="note">{esc(result.get("vectors"))}; {esc(result.get("texts"))}; {esc(result.get("queries"))}; '
        f'HNSW {esc(json.dumps(result.get("hnsw")))}</p><table class="num">{head}{"".join(rows)}</table>'
        f"{_img(plot_scale(result), 'latency and memory by corpus size')}</body></html>"
    )
    out = Path(out_dir) / "scale.html"
    out.write_text(page, encoding="utf-8")
    return out
