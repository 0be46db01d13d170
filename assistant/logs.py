"""logs.db: every answer, its citations and the staff verdicts on them, in SQLite.

Modelled on simonw/llm's logs.db. The schema lives in ``assistant.migrations``; this module
writes and reads it. One connection per ``open_db`` call (WAL, foreign keys on, 5 s busy
timeout), so the UI workers, the CLI and eval runs can write the same file at once.
Connections are in autocommit mode and every write is an explicit ``BEGIN IMMEDIATE``
transaction, so a write that returned is committed.
"""

from __future__ import annotations

import csv
import json
import logging
import secrets
import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from assistant import sqlitedb
from assistant.migrations import migrate, transaction
from assistant.types import Answer, Citation, Turn

logger = logging.getLogger(__name__)

SOURCES = ("cli", "ui", "api", "eval")
VERDICTS = ("correct", "wrong_passage", "unsupported_claim")
VERIFIED_FILTERS = ("all", "verified", "unverified", "refused")
TABLES = ("answers", "citations", "verdicts")


# ---------------------------------------------------------------- connection


def open_db(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the logs database at ``path`` and bring its schema up to date.

    Each call returns a new connection; share none across processes. ``check_same_thread``
    is off so a connection can be handed to a worker thread, but give each thread its own.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; writes use explicit BEGIN IMMEDIATE.
    db = sqlitedb.connect(path, timeout_s=5.0, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        # FULL: a committed verdict survives power loss too, not only a killed process.
        # Writes are a few per answer, so the extra fsync costs nothing noticeable.
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


_last_id = [0, 0]  # (ms, random part) of the last id this process made
_id_lock = threading.Lock()


def new_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit ms timestamp + 80 random bits); ids
    made in the same millisecond by this process still sort in creation order (the random part
    is incremented, as in monotonic ULIDs)."""
    with _id_lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_id[0]:
            ms, rand = _last_id[0], _last_id[1] + 1
        else:
            rand = int.from_bytes(secrets.token_bytes(10), "big") >> 1  # room to increment
        _last_id[:] = [ms, rand]
    return f"{ms:012x}{rand:020x}"


def _utc_iso(value: str | None = None) -> str:
    """``value`` (ISO 8601; naive means UTC) as UTC ISO to the second; now if ``None``.

    One format for every row keeps ``created_at`` comparable as text.
    """
    if not value:
        return datetime.now(UTC).isoformat(timespec="seconds")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="seconds")


def _json(value: Any) -> str:
    # ensure_ascii=False keeps Korean readable in the CSV export and in sqlite3 sessions.
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- writing


def log_answer(
    db: sqlite3.Connection,
    answer: Answer,
    *,
    profile: str,
    source: str,
    eval_run: str | None = None,
    conversation_id: str | None = None,
    history: list[Turn] | None = None,
    detected_language: str = "",
) -> str:
    """Insert ``answer`` and its citations in one transaction; return the new answer id."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    answer_id = new_id()
    t = answer.timings
    hits = [
        {
            "chunk_id": h.chunk_id,
            "doc_id": h.doc_id,
            "rank": h.rank,
            "score": h.score,
            "dense_rank": h.dense_rank,
            "bm25_rank": h.bm25_rank,
            "dense_score": h.dense_score,
        }
        for h in answer.hits
    ]
    with transaction(db):
        db.execute(
            """INSERT INTO answers (
                id, created_at, question, language, detected_language, search_text, profile,
                mode, refused, answer, support_json, timings_json, retrieve_s, first_token_s,
                total_s, hits_json, llm_id, embed_id, source, eval_run, notices_json,
                conversation_id, history_json, trace_json, sentences_json
            ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                answer_id,
                _utc_iso(answer.created_at),
                answer.question,
                answer.language,
                detected_language,
                answer.search_text,
                profile,
                answer.mode,
                int(answer.refused),
                answer.answer,
                _json(answer.support.model_dump()),
                _json(t.model_dump()),
                t.retrieve_s,
                t.first_token_s,
                t.total_s,
                _json(hits),
                answer.llm_id,
                answer.embed_id,
                source,
                eval_run,
                _json(answer.notices),
                conversation_id,
                _json([turn.model_dump() for turn in history or []]),
                _json([d.model_dump() for d in answer.trace]),
                _json([x.model_dump() for x in answer.sentences]),
            ),
        )
        db.executemany(
            """INSERT INTO citations (
                answer_id, n, chunk_id, doc_id, doc_title, page, page_end, section, quote,
                passage, verified, unverified_numbers_json, references_json, support,
                renderings_json
            ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    answer_id,
                    c.n,
                    c.chunk_id,
                    c.doc_id,
                    c.doc_title,
                    c.page,
                    c.page_end,
                    c.section,
                    c.quote,
                    c.passage,
                    int(c.verified),
                    _json(c.unverified_numbers),
                    _json([r.model_dump() for r in c.references]),
                    c.support,
                    _json([r.model_dump() for r in c.renderings]),
                )
                for c in answer.citations
            ],
        )
    return answer_id


def update_renderings(path: Path | str, answer_id: str, citations: list[Citation]) -> None:
    """Store the renderings made after ``answer_id`` was logged (a failure costs the log only)."""
    try:
        db = open_db(path)
        try:
            with transaction(db):
                db.executemany(
                    "UPDATE citations SET renderings_json = ? WHERE answer_id = ? AND n = ?",
                    [
                        (_json([r.model_dump() for r in c.renderings]), answer_id, c.n)
                        for c in citations
                    ],
                )
        finally:
            db.close()
    except Exception as exc:  # noqa: BLE001
        logger.warning("renderings not logged for %s: %s", answer_id, exc)


def safe_log_answer(path: Path | str, answer: Answer, **kw: Any) -> str | None:
    """``log_answer`` into the database at ``path``; on any failure warn and return ``None``.

    The answer has already been shown when it is logged: a full disk, a locked or corrupt
    logs.db, or a bad argument must cost the log row, never the answer.
    """
    try:
        db = open_db(path)
        try:
            return log_answer(db, answer, **kw)
        finally:
            db.close()
    except Exception as exc:  # never let logging crash an answer (see docstring)
        logger.warning("answer not logged to %s: %s", path, exc, exc_info=True)
        return None


def record_verdict(
    db: sqlite3.Connection,
    *,
    citation_id: int,
    verdict: str,
    reviewer: str,
    comment: str = "",
) -> int:
    """Record a reviewer's verdict on a citation and commit it; return the verdict id.

    Earlier verdicts stay as history; the latest one is the citation's current verdict.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise ValueError("reviewer must be a non-empty name")
    with transaction(db):
        row = db.execute("SELECT answer_id FROM citations WHERE id = ?", (citation_id,)).fetchone()
        if row is None:
            raise ValueError(f"no citation with id {citation_id}")
        # fetchall() finishes the statement, which COMMIT requires.
        ((verdict_id,),) = db.execute(
            """INSERT INTO verdicts (citation_id, answer_id, verdict, comment, reviewer, created_at)
            VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
            (citation_id, row[0], verdict, comment or "", reviewer, _utc_iso()),
        ).fetchall()
    # COMMIT has returned (synchronous=FULL): the verdict is on disk before its id is.
    return int(verdict_id)


# ---------------------------------------------------------------- reading


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    """A row as a dict: ``*_json`` columns parsed under the name without the suffix,
    0/1 flags as booleans."""
    out: dict[str, Any] = {}
    for key in row.keys():  # iterating a sqlite3.Row yields values, not names
        value = row[key]
        if key.endswith("_json"):
            out[key[: -len("_json")]] = json.loads(value) if value else None
        elif key in ("refused", "verified"):
            out[key] = bool(value)
        else:
            out[key] = value
    return out


def _until_bound(until: str) -> tuple[str, str]:
    """SQL operator and bound for ``until``: a bare date includes that whole day."""
    if len(until) == 10:
        next_day = date.fromisoformat(until) + timedelta(days=1)
        return "<", next_day.isoformat()
    return "<=", _utc_iso(until)


def _since_bound(since: str) -> str:
    return since if len(since) == 10 else _utc_iso(since)


# Share of the citations of an answer that passed the automatic check, and how many of them
# have at least one verdict.
_ANSWER_COUNTS = """
    (SELECT COUNT(*) FROM citations c WHERE c.answer_id = a.id) AS citations,
    (SELECT COALESCE(SUM(c.verified), 0) FROM citations c WHERE c.answer_id = a.id)
        AS verified_citations,
    (SELECT COUNT(*) FROM citations c WHERE c.answer_id = a.id
        AND EXISTS (SELECT 1 FROM verdicts v WHERE v.citation_id = c.id)) AS reviewed
"""

_VERIFIED_WHERE = {
    "all": "",
    # Answered, cited, and every citation passed the automatic check.
    "verified": "a.refused = 0"
    " AND EXISTS (SELECT 1 FROM citations c WHERE c.answer_id = a.id)"
    " AND NOT EXISTS (SELECT 1 FROM citations c WHERE c.answer_id = a.id AND c.verified = 0)",
    # Answered but not fully backed: an uncited answer counts as unverified.
    "unverified": "a.refused = 0"
    " AND (NOT EXISTS (SELECT 1 FROM citations c WHERE c.answer_id = a.id)"
    " OR EXISTS (SELECT 1 FROM citations c WHERE c.answer_id = a.id AND c.verified = 0))",
    "refused": "a.refused = 1",
}


def list_answers(
    db: sqlite3.Connection,
    *,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    verified: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Logged answers, newest first.

    ``since``/``until`` are ISO dates or datetimes (UTC if naive), both inclusive; a bare
    ``until`` date includes that whole day. ``verified`` is ``"all"`` (default),
    ``"verified"`` (every citation passed the automatic check), ``"unverified"`` (answered,
    some citation failed or none given) or ``"refused"``. Each row adds ``citations``,
    ``verified_citations``, ``verified_share`` (``None`` without citations) and ``reviewed``
    (citations with at least one verdict).
    """
    verified = verified or "all"
    if verified not in VERIFIED_FILTERS:
        raise ValueError(f"verified must be one of {', '.join(VERIFIED_FILTERS)}, not {verified!r}")
    where: list[str] = []
    params: list[Any] = []
    if since:
        where.append("a.created_at >= ?")
        params.append(_since_bound(since))
    if until:
        op, bound = _until_bound(until)
        where.append(f"a.created_at {op} ?")
        params.append(bound)
    if language:
        where.append("a.language = ?")
        params.append(language)
    if _VERIFIED_WHERE[verified]:
        where.append(_VERIFIED_WHERE[verified])
    sql = f"SELECT a.*, {_ANSWER_COUNTS} FROM answers a"
    if where:
        sql += " WHERE " + " AND ".join(f"({w})" for w in where)
    # rowid breaks ties between answers logged in the same second.
    sql += " ORDER BY a.created_at DESC, a.rowid DESC LIMIT ? OFFSET ?"
    params += [limit, offset]
    rows = []
    for row in db.execute(sql, params):
        item = _decode(row)
        item["verified_share"] = (
            item["verified_citations"] / item["citations"] if item["citations"] else None
        )
        rows.append(item)
    return rows


def get_answer(db: sqlite3.Connection, answer_id: str) -> dict[str, Any] | None:
    """One answer with its citations (in ``n`` order), each with its current ``verdict``
    (a dict, or ``None`` if never reviewed) and ``verdict_count``; ``None`` if unknown."""
    row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
    if row is None:
        return None
    out = _decode(row)
    citations = []
    for c in db.execute(
        """SELECT c.*,
            v.id AS v_id, v.verdict AS v_verdict, v.reviewer AS v_reviewer,
            v.comment AS v_comment, v.created_at AS v_created_at,
            (SELECT COUNT(*) FROM verdicts WHERE citation_id = c.id) AS verdict_count
        FROM citations c
        LEFT JOIN verdicts v
            ON v.id = (SELECT MAX(id) FROM verdicts WHERE citation_id = c.id)
        WHERE c.answer_id = ?
        ORDER BY c.n, c.id""",
        (answer_id,),
    ):
        item = _decode(c)
        vfields = {k[2:]: item.pop(k) for k in list(item) if k.startswith("v_")}
        item["verdict"] = vfields if vfields["id"] is not None else None
        citations.append(item)
    out["citations"] = citations
    return out


# Current verdict of each reviewed citation: its latest row (highest id).
_CURRENT_VERDICTS = """
    SELECT v.citation_id, v.verdict FROM verdicts v
    JOIN (SELECT citation_id, MAX(id) AS id FROM verdicts GROUP BY citation_id) latest
        ON latest.id = v.id
"""


def citation_quality(
    db: sqlite3.Connection, *, by: str = "week", source: str | None = None
) -> list[dict[str, Any]]:
    """Citation precision from staff verdicts, per week and language or per language.

    ``by="week"``: one row per (``week``, ``language``), week as ``%Y-W%W`` of the answer's
    UTC ``created_at`` (SQLite's Monday-based week number, not the ISO 8601 week).
    ``by="language"``: one row per language over all time. Each row has ``citations``,
    ``reviewed`` (citations with a current verdict), ``correct`` (current verdict
    'correct'), ``precision`` = correct / reviewed (``None`` if nothing reviewed) and
    ``verified_share`` = share of all its citations that passed the automatic check.
    ``source`` restricts to answers of one source (e.g. leave out ``"eval"``).
    """
    if by == "week":
        keys = ["strftime('%Y-W%W', a.created_at) AS week", "a.language AS language"]
        group = "week, language"
    elif by == "language":
        keys = ["a.language AS language"]
        group = "language"
    else:
        raise ValueError(f"by must be 'week' or 'language', not {by!r}")
    where, params = "", []
    if source:
        where, params = "WHERE a.source = ?", [source]
    sql = f"""
        WITH cur AS ({_CURRENT_VERDICTS})
        SELECT {", ".join(keys)},
            COUNT(*) AS citations,
            COUNT(cur.citation_id) AS reviewed,
            TOTAL(cur.verdict = 'correct') AS correct,
            TOTAL(c.verified) AS verified
        FROM citations c
        JOIN answers a ON a.id = c.answer_id
        LEFT JOIN cur ON cur.citation_id = c.id
        {where}
        GROUP BY {group}
        ORDER BY {group}
    """
    rows = []
    for row in db.execute(sql, params):
        item = dict(row)
        item["correct"] = int(item["correct"])
        verified_count = int(item.pop("verified"))
        item["precision"] = item["correct"] / item["reviewed"] if item["reviewed"] else None
        item["verified_share"] = verified_count / item["citations"]
        rows.append(item)
    return rows


# ---------------------------------------------------------------- export and status


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (=HYPERLINK(…), +cmd, -2+3, @SUM) gets a
    leading apostrophe: shown as text, never evaluated."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def export_csv(db: sqlite3.Connection, out_dir: Path | str) -> dict[str, Path]:
    """Write ``answers.csv``, ``citations.csv`` and ``verdicts.csv`` (UTF-8, with a header,
    JSON columns as JSON text) into ``out_dir``; return the paths by table name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    # One read transaction: the three files describe the same moment even while others write.
    db.execute("BEGIN")
    try:
        for table in TABLES:
            path = out_dir / f"{table}.csv"
            cur = db.execute(f"SELECT * FROM {table} ORDER BY rowid")
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow([d[0] for d in cur.description])
                for row in cur:
                    writer.writerow(tuple(spreadsheet_safe(v) for v in row))
            written[table] = path
    finally:
        db.execute("COMMIT")
    return written


def logs_status(path: Path | str) -> dict[str, Any]:
    """Whether the logs database exists, its size in bytes (``wal_size`` apart), the rows
    per table and the migrations applied. Opens it read-only: never creates or migrates."""
    path = Path(path)
    status: dict[str, Any] = {
        "path": str(path),
        "exists": path.exists(),
        "size": 0,
        "wal_size": 0,
        "counts": {},
        "migrations": [],
    }
    if not path.exists():
        return status
    status["size"] = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    status["wal_size"] = wal.stat().st_size if wal.exists() else 0
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    try:
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        status["counts"] = {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES if t in present
        }
        if "_migrations" in present:
            status["migrations"] = [
                r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")
            ]
    finally:
        db.close()
    return status
