"""`assistant eval sweep --set a.b.c=v1,v2 --set d.e=v3,v4`: the eval under each combination.

Each ``--set`` is ``dotted.key=v1,v2,...`` (values parsed as YAML scalars: ``0.1``, ``true``,
``hybrid``). Every combination of the cartesian product runs `evals.run.run_eval` into
``out_dir/<combo-slug>/`` (with its report.html), and the table compares them.

The embedding model is loaded once and shared by every combination (it takes ~20 s), and so
is a loaded LLM. Retrieval/answer settings reuse the current index. Settings that change the
index itself (chunking.*, embedding.*) get their own data home under ``out_dir/_homes/`` so
the real index is never replaced; the home shares the current vector cache (settings
data.vector_cache), so only chunks whose text changed are embedded again.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from assistant import paths
from assistant.errors import AssistantError, ConfigError
from assistant.index import IndexLayout
from assistant.settings import DataSettings, Settings
from evals.report import headline

INDEX_SECTIONS = ("chunking", "embedding")  # settings that need their own index


# ----------------------------------------------------------------------------- parsing


def parse_value(raw: str) -> Any:
    raw = raw.strip()
    try:
        return yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        return raw


def parse_set(spec: str) -> tuple[str, list[Any]]:
    """'retrieval.weights.en.bm25=0,0.1' -> ('retrieval.weights.en.bm25', [0, 0.1])."""
    key, sep, values = spec.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise ConfigError(f"--set {spec!r}: expected dotted.key=value1,value2,...")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", key):
        raise ConfigError(f"--set {spec!r}: {key!r} is not a dotted settings key")
    return key, [parse_value(v) for v in values.split(",")]


def combinations(sets: list[str]) -> list[dict[str, Any]]:
    """The cartesian product of every --set, as [{key: value, ...}, ...] in --set order."""
    parsed = [parse_set(s) for s in sets]
    keys = [k for k, _ in parsed]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"a key is set twice: {keys}")
    return [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(v for _, v in parsed))
    ]


def _fmt_value(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, str) else v


def combo_slug(combo: dict[str, Any]) -> str:
    """A folder name for one combination: 'retrieval.weights.en.bm25=0.1__chunking.max_chars=500'."""
    parts = [f"{k}={_fmt_value(v)}" for k, v in combo.items()]
    slug = re.sub(r"[^A-Za-z0-9._=+-]+", "_", "__".join(parts)) or "base"
    return slug[:180]


def apply_overrides(settings: Settings, combo: dict[str, Any]) -> Settings:
    """A new Settings with each dotted key set (validated like a settings file)."""
    data = settings.model_dump()
    for key, value in combo.items():
        node = data
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                if isinstance(node, dict) and i > 0:  # a new entry of a dict setting (weights.de)
                    nxt = node[part] = {}
                else:
                    raise ConfigError(
                        f"unknown settings key {key!r} (no {'.'.join(parts[: i + 1])})"
                    )
            if not isinstance(nxt, dict):
                raise ConfigError(
                    f"settings key {key!r}: {'.'.join(parts[: i + 1])} is not a section"
                )
            node = nxt
        node[parts[-1]] = value
    try:
        return Settings.model_validate(data)
    except Exception as exc:  # pydantic.ValidationError names the key
        raise ConfigError(f"invalid sweep settings {combo}: {exc}") from exc


# ----------------------------------------------------------------------------- homes


def index_key(settings: Settings) -> str:
    """Settings that determine the index contents (a different value needs another index)."""
    return json.dumps(
        {s: getattr(settings, s).model_dump() for s in INDEX_SECTIONS}, sort_keys=True
    )


def _copy_sqlite(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(src)) as a,
        contextlib.closing(sqlite3.connect(dst)) as b,
    ):
        a.backup(b)


def can_share_vector_cache() -> bool:
    return "vector_cache" in DataSettings.model_fields


def home_settings(
    settings: Settings, home: Path, vector_cache: str | Path | None = None
) -> Settings:
    """Settings whose data (index, logs.db, added corpus) live under ``home``.

    ``vector_cache``: a shared vector cache file; None: the home's own (empty) cache.
    Refuses settings whose index would not be under ``home`` (never touch the real index).
    """
    over: dict[str, Any] = {"data.home": str(Path(home).resolve())}
    if can_share_vector_cache():
        over["data.vector_cache"] = str(vector_cache) if vector_cache else ""
    out = apply_overrides(settings, over)
    root = paths.index_dir(out).resolve()
    if not root.is_relative_to(Path(home).resolve()):
        raise AssistantError(f"refusing to build an index at {root}: it is not under {home}")
    return out


def prepare_home(home: Path, base_home: Path, copy_cache_from: Path | None = None) -> None:
    """A separate data home sharing the base home's added documents (and, when the vector
    cache cannot be shared through settings, starting from a copy of it)."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / "index" / "cache" / "vectors.sqlite"
    if copy_cache_from is not None and copy_cache_from.exists() and not target.exists():
        _copy_sqlite(copy_cache_from, target)
    corpus = base_home / "corpus"
    if corpus.exists() and not (home / "corpus").exists():
        (home / "corpus").symlink_to(corpus.resolve(), target_is_directory=True)


@contextlib.contextmanager
def assistant_home(home: Path | None) -> Iterator[None]:
    """Also point the ASSISTANT_HOME variable at ``home`` for the duration (for code that
    loads settings again, e.g. a subprocess); the settings passed around carry the home."""
    if home is None:
        yield
        return
    old = os.environ.get("ASSISTANT_HOME")
    os.environ["ASSISTANT_HOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("ASSISTANT_HOME", None)
        else:
            os.environ["ASSISTANT_HOME"] = old


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- sweep


def run_sweep(
    settings: Settings,
    questions: list,
    out_dir: Path,
    sets: list[str],
    mode: str | None,
    progress: bool = True,
    report: bool = True,
) -> list[dict]:
    """Run the eval for every combination of ``sets``; returns one row per combination."""
    from assistant.services import Services, build_services
    from evals.run import run_eval

    combos = combinations(sets)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = build_services(settings)
    base_home = paths.home(settings)
    base_cache = IndexLayout(settings).cache_path  # vectors are keyed by model and text: shareable
    base_index = index_key(settings)
    embedders: dict[str, Any] = {}
    generators: dict[str, dict] = {}
    built: dict[str, dict] = {}
    rows: list[dict] = []
    for i, combo in enumerate(combos, start=1):
        slug = combo_slug(combo)
        cs = apply_overrides(settings, combo)
        _say(f"[sweep {i}/{len(combos)}] {slug}")
        t0 = time.perf_counter()
        emb_key = json.dumps(cs.embedding.model_dump(), sort_keys=True)
        if emb_key not in embedders:
            same = emb_key == json.dumps(settings.embedding.model_dump(), sort_keys=True)
            embedders[emb_key] = base.embedder if same else build_services(cs).embedder
        home = None
        ikey = index_key(cs)
        if ikey != base_index:
            home = (
                out_dir / "_homes" / f"index-{len(built) + 1}"
                if ikey not in built
                else Path(built[ikey]["home"])
            )
            share = can_share_vector_cache()
            prepare_home(home, base_home, None if share else base_cache)
            cs = home_settings(cs, home, base_cache if share else None)
        services = Services(settings=cs, _embedder=embedders[emb_key])
        with assistant_home(home):  # paths are resolved when the services are built: inside
            # One loaded LLM for every combination with the same LLM settings (AnswerService
            # keeps its generators in this dict; sharing it avoids a GGUF load per combination).
            services.answers._generators = generators.setdefault(
                json.dumps(cs.llm.model_dump(mode="json"), sort_keys=True), {}
            )
            index_info = None
            if home is not None:
                if ikey not in built:
                    changed = [
                        sec
                        for sec in INDEX_SECTIONS
                        if getattr(cs, sec).model_dump() != getattr(settings, sec).model_dump()
                    ]
                    _say(f"  building a separate index in {home} ({', '.join(changed)} changed)")
                    rep = services.build_index(progress=progress)
                    built[ikey] = {
                        "home": str(home),
                        "chunks": rep.manifest.chunks,
                        "sentences": rep.manifest.sentences,
                        "embedded_new": rep.chunks_embedded + rep.sentences_embedded,
                        "build_s": round(rep.seconds, 1),
                    }
                index_info = built[ikey]
            run_dir = out_dir / slug
            metrics = run_eval(
                services, questions, run_dir, mode=mode, progress=progress, label=slug
            )
        if report:
            try:
                from evals.report import write_report

                write_report(run_dir)
            except Exception as exc:  # noqa: BLE001 - a plot problem must not lose the sweep
                _say(f"  report not written: {exc}")
        rows.append(
            {
                "combo": combo,
                "slug": slug,
                "dir": str(run_dir),
                "index": index_info,
                "mode": mode,
                "seconds": round(time.perf_counter() - t0, 1),
                "metrics": headline(metrics),
            }
        )
    (out_dir / "sweep.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return rows


# ----------------------------------------------------------------------------- table


def _short_keys(keys: list[str]) -> dict[str, str]:
    """Shortest unique dotted suffix of each key (retrieval.weights.en.bm25 -> en.bm25)."""
    out = {}
    for k in keys:
        parts = k.split(".")
        for n in range(min(2, len(parts)), len(parts) + 1):
            cand = ".".join(parts[-n:])
            if sum(1 for o in keys if o.endswith(cand)) == 1:
                out[k] = cand
                break
        else:
            out[k] = k
    return out


def format_sweep(rows: list[dict], retriever: str = "hybrid") -> str:
    """Table: the swept values, per-language hit@1/hit@5/MRR (and answer accuracy). Best = *."""
    if not rows:
        return "(no combinations)"
    keys = list(dict.fromkeys(k for r in rows for k in r["combo"]))
    short = _short_keys(keys)
    cols: list[tuple[str, str]] = []
    for lang in ("en", "ko", "all"):
        cols += [
            (f"{lang} hit@1", f"retrieval.{retriever}.{lang}.hit@1"),
            (f"{lang} hit@5", f"retrieval.{retriever}.{lang}.hit@5"),
            (f"{lang} MRR", f"retrieval.{retriever}.{lang}.mrr@10"),
        ]
    if any(any(k.startswith("answers.") for k in r["metrics"]) for r in rows):
        cols += [
            (f"{lang} acc", f"answers.{lang}.key_fact_accuracy") for lang in ("en", "ko", "all")
        ]
        cols += [
            ("refusal", "answers.all.refusal_accuracy"),
            ("cite P", "answers.all.citation_precision"),
        ]
    cols = [(name, key) for name, key in cols if any(key in r["metrics"] for r in rows)]
    best = {
        key: max((r["metrics"][key] for r in rows if key in r["metrics"]), default=None)
        for _, key in cols
    }
    header = [short[k] for k in keys] + [name for name, _ in cols]
    table = []
    for r in rows:
        line = [_fmt_value(r["combo"].get(k, "")) for k in keys]
        for _, key in cols:
            v = r["metrics"].get(key)
            line.append(
                "n/a"
                if v is None
                else f"{v:.3f}" + ("*" if len(rows) > 1 and v == best[key] else " ")
            )
        table.append(line)
    widths = [max(len(h), *(len(line[i]) for line in table)) for i, h in enumerate(header)]
    out = [
        "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    out.append(
        f"({retriever} retrieval; * = best in column; runs in {Path(rows[0]['dir']).parent})"
    )
    return "\n".join(out)
