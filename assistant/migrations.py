"""Schema of logs.db as an ordered list of migrations (the simonw/llm pattern).

Each migration is a function ``m00N_description(db)`` appended to ``MIGRATIONS``; the
``_migrations`` table records which ones ran. A shipped migration is never edited: a schema
change is a new function at the end of the list, so every existing logs.db reaches the same
schema as a blank one. ``tests/test_migrations.py`` pins the schema a blank database ends at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration (order of definition is order of application)."""
    MIGRATIONS.append(fn)
    return fn


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one ``BEGIN IMMEDIATE`` transaction; roll back on any error.

    IMMEDIATE takes the write lock up front, so two writers queue on ``busy_timeout``
    instead of one failing later when it upgrades a read lock.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        # Some errors (SQLITE_FULL, interrupts) already rolled back; a second ROLLBACK would
        # replace the real error with "no transaction is active".
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def ensure_migrations_table(db: sqlite3.Connection) -> None:
    """Create ``_migrations`` if it is missing."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")


def applied(db: sqlite3.Connection) -> set[str]:
    """Names of the migrations already applied to ``db``."""
    ensure_migrations_table(db)
    return {row[0] for row in db.execute("SELECT name FROM _migrations")}


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every pending migration, each in its own transaction; return the names applied.

    Idempotent, and safe when several processes open a fresh database at once: the set of
    applied migrations is re-read after the write lock is taken, so a migration another
    process has just run is skipped rather than run twice.
    """
    ensure_migrations_table(db)
    done: list[str] = []
    for fn in MIGRATIONS:
        name = fn.__name__
        if name in applied(db):
            continue
        with transaction(db):
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        done.append(name)
    return done


# Migrations run inside transaction(): use db.execute only, never executescript (it commits).


@migration
def m001_answers(db: sqlite3.Connection) -> None:
    # One row per answer shown to anyone (CLI, UI, API) or produced by an eval run. The
    # Answer's nested models are kept as JSON so a later review sees exactly what was shown;
    # the timings are also columns because latency reports aggregate them.
    db.execute(
        """CREATE TABLE answers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL,
    detected_language TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    profile TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL DEFAULT '',
    refused INTEGER NOT NULL CHECK (refused IN (0, 1)),
    answer TEXT NOT NULL,
    support_json TEXT NOT NULL DEFAULT '{}',
    timings_json TEXT NOT NULL DEFAULT '{}',
    retrieve_s REAL,
    first_token_s REAL,
    total_s REAL,
    hits_json TEXT NOT NULL DEFAULT '[]',
    llm_id TEXT NOT NULL DEFAULT '',
    embed_id TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    eval_run TEXT,
    notices_json TEXT NOT NULL DEFAULT '[]',
    conversation_id TEXT,
    history_json TEXT NOT NULL DEFAULT '[]'
)"""
    )
    db.execute("CREATE INDEX idx_answers_created_at ON answers (created_at)")
    db.execute("CREATE INDEX idx_answers_language ON answers (language)")


@migration
def m002_citations(db: sqlite3.Connection) -> None:
    # One row per citation of an answer, in the order shown ([n]). doc_title, page_end and
    # unverified_numbers_json are kept so a reviewer sees the citation as the user saw it.
    db.execute(
        """CREATE TABLE citations (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    chunk_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    doc_title TEXT NOT NULL DEFAULT '',
    page INTEGER,
    page_end INTEGER,
    section TEXT NOT NULL DEFAULT '',
    quote TEXT NOT NULL DEFAULT '',
    passage TEXT NOT NULL DEFAULT '',
    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
    unverified_numbers_json TEXT NOT NULL DEFAULT '[]',
    references_json TEXT NOT NULL DEFAULT '[]'
)"""
    )
    db.execute("CREATE INDEX idx_citations_answer_id ON citations (answer_id)")


@migration
def m003_verdicts(db: sqlite3.Connection) -> None:
    # Staff review of a citation. Rows are never updated: a new verdict is a new row and the
    # current verdict of a citation is its highest id. AUTOINCREMENT keeps ids from being
    # reused, so "highest id" stays "latest" even after deletions.
    db.execute(
        """CREATE TABLE verdicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    citation_id INTEGER NOT NULL REFERENCES citations (id) ON DELETE CASCADE,
    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'wrong_passage', 'unsupported_claim')),
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL CHECK (length(trim(reviewer)) > 0),
    created_at TEXT NOT NULL
)"""
    )
    db.execute("CREATE INDEX idx_verdicts_citation_id ON verdicts (citation_id)")
    # Deleting an answer cascades here; without this index each delete scans verdicts.
    db.execute("CREATE INDEX idx_verdicts_answer_id ON verdicts (answer_id)")


@migration
def m004_trace_and_support_states(db: sqlite3.Connection) -> None:
    # The pipeline's coded decisions per answer, the checked sentences, and each citation's
    # support state (verified / partial / unverified) beside the verified flag.
    db.execute("ALTER TABLE answers ADD COLUMN trace_json TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE answers ADD COLUMN sentences_json TEXT NOT NULL DEFAULT '[]'")
    db.execute(
        "ALTER TABLE citations ADD COLUMN support TEXT NOT NULL DEFAULT 'unverified' "
        "CHECK (support IN ('verified', 'partial', 'unverified'))"
    )


@migration
def m005_citation_renderings(db: sqlite3.Connection) -> None:
    # Machine-translated renderings of each cited sentence in the reader's language
    # (assistant.renderings), filled in after the answer was shown.
    db.execute("ALTER TABLE citations ADD COLUMN renderings_json TEXT NOT NULL DEFAULT '[]'")
