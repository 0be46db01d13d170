"""Tests for assistant.migrations: the exact schema a blank logs.db migrates to."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant import migrations
from assistant.migrations import MIGRATIONS, migrate

# The schema a blank database ends at. A change here needs a new migration, never an edit
# of a shipped one (an existing logs.db would not get it).
EXPECTED_SCHEMA = {
    "_migrations": ("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"),
    "answers": (
        "CREATE TABLE answers (\n"
        "    id TEXT PRIMARY KEY,\n"
        "    created_at TEXT NOT NULL,\n"
        "    question TEXT NOT NULL,\n"
        "    language TEXT NOT NULL,\n"
        "    detected_language TEXT NOT NULL DEFAULT '',\n"
        "    search_text TEXT NOT NULL DEFAULT '',\n"
        "    profile TEXT NOT NULL DEFAULT '',\n"
        "    mode TEXT NOT NULL DEFAULT '',\n"
        "    refused INTEGER NOT NULL CHECK (refused IN (0, 1)),\n"
        "    answer TEXT NOT NULL,\n"
        "    support_json TEXT NOT NULL DEFAULT '{}',\n"
        "    timings_json TEXT NOT NULL DEFAULT '{}',\n"
        "    retrieve_s REAL,\n"
        "    first_token_s REAL,\n"
        "    total_s REAL,\n"
        "    hits_json TEXT NOT NULL DEFAULT '[]',\n"
        "    llm_id TEXT NOT NULL DEFAULT '',\n"
        "    embed_id TEXT NOT NULL DEFAULT '',\n"
        "    source TEXT NOT NULL,\n"
        "    eval_run TEXT,\n"
        "    notices_json TEXT NOT NULL DEFAULT '[]',\n"
        "    conversation_id TEXT,\n"
        "    history_json TEXT NOT NULL DEFAULT '[]'\n"
        ", trace_json TEXT NOT NULL DEFAULT '[]', sentences_json TEXT NOT NULL DEFAULT '[]')"
    ),
    "citations": (
        "CREATE TABLE citations (\n"
        "    id INTEGER PRIMARY KEY,\n"
        "    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,\n"
        "    n INTEGER NOT NULL,\n"
        "    chunk_id TEXT NOT NULL,\n"
        "    doc_id TEXT NOT NULL,\n"
        "    doc_title TEXT NOT NULL DEFAULT '',\n"
        "    page INTEGER,\n"
        "    page_end INTEGER,\n"
        "    section TEXT NOT NULL DEFAULT '',\n"
        "    quote TEXT NOT NULL DEFAULT '',\n"
        "    passage TEXT NOT NULL DEFAULT '',\n"
        "    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),\n"
        "    unverified_numbers_json TEXT NOT NULL DEFAULT '[]',\n"
        "    references_json TEXT NOT NULL DEFAULT '[]'\n"
        ", support TEXT NOT NULL DEFAULT 'unverified' CHECK (support IN ('verified', 'partial', 'unverified'))"
        ", renderings_json TEXT NOT NULL DEFAULT '[]')"
    ),
    "idx_answers_created_at": ("CREATE INDEX idx_answers_created_at ON answers (created_at)"),
    "idx_answers_language": ("CREATE INDEX idx_answers_language ON answers (language)"),
    "idx_citations_answer_id": ("CREATE INDEX idx_citations_answer_id ON citations (answer_id)"),
    "idx_verdicts_answer_id": ("CREATE INDEX idx_verdicts_answer_id ON verdicts (answer_id)"),
    "idx_verdicts_citation_id": ("CREATE INDEX idx_verdicts_citation_id ON verdicts (citation_id)"),
    "sqlite_sequence": ("CREATE TABLE sqlite_sequence(name,seq)"),
    "verdicts": (
        "CREATE TABLE verdicts (\n"
        "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
        "    citation_id INTEGER NOT NULL REFERENCES citations (id) ON DELETE CASCADE,\n"
        "    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE,\n"
        "    verdict TEXT NOT NULL CHECK (verdict IN ('correct', 'wrong_passage', 'unsupported_claim')),\n"
        "    comment TEXT NOT NULL DEFAULT '',\n"
        "    reviewer TEXT NOT NULL CHECK (length(trim(reviewer)) > 0),\n"
        "    created_at TEXT NOT NULL\n"
        ")"
    ),
}

EXPECTED_MIGRATIONS = [
    "m001_answers",
    "m002_citations",
    "m003_verdicts",
    "m004_trace_and_support_states",
    "m005_citation_renderings",
]


def schema(db: sqlite3.Connection) -> dict[str, str]:
    """Every table and index of ``db`` by name, with its CREATE statement."""
    return dict(
        db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
    )


def test_blank_db_migrates_to_exact_schema() -> None:
    db = sqlite3.connect(":memory:")
    assert migrate(db) == EXPECTED_MIGRATIONS
    assert schema(db) == EXPECTED_SCHEMA


def test_migration_names_are_ordered_and_unique() -> None:
    names = [fn.__name__ for fn in MIGRATIONS]
    assert names == EXPECTED_MIGRATIONS
    assert names == sorted(names)
    assert all(n[:1] == "m" and n[1:4].isdigit() and n[4] == "_" for n in names)


def test_migrate_twice_is_a_noop(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "logs.db")
    migrate(db)
    applied_at = dict(db.execute("SELECT name, applied_at FROM _migrations"))
    assert migrate(db) == []
    assert dict(db.execute("SELECT name, applied_at FROM _migrations")) == applied_at
    assert schema(db) == EXPECTED_SCHEMA


def test_migrate_runs_only_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    db = sqlite3.connect(":memory:")
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
    assert migrations.migrate(db) == ["m001_answers"]
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    assert migrations.migrate(db) == [
        "m002_citations",
        "m003_verdicts",
        "m004_trace_and_support_states",
        "m005_citation_renderings",
    ]
    assert schema(db) == EXPECTED_SCHEMA


def test_failing_migration_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def m004_broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    db = sqlite3.connect(":memory:")
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, m004_broken])
    with pytest.raises(RuntimeError, match="boom"):
        migrations.migrate(db)
    # The three good migrations committed; the broken one left nothing behind.
    assert [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")] == (
        EXPECTED_MIGRATIONS
    )
    assert "half_done" not in schema(db)
    assert not db.in_transaction


def test_foreign_keys_cascade_from_answers() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    db.execute(
        "INSERT INTO answers (id, created_at, question, language, refused, answer, source)"
        " VALUES ('a1', '2025-01-01T00:00:00+00:00', 'q', 'en', 0, 'x', 'cli')"
    )
    db.execute(
        "INSERT INTO citations (id, answer_id, n, chunk_id, doc_id, verified)"
        " VALUES (7, 'a1', 1, 'c', 'd', 1)"
    )
    db.execute(
        "INSERT INTO verdicts (citation_id, answer_id, verdict, reviewer, created_at)"
        " VALUES (7, 'a1', 'correct', 'kim', '2025-01-02T00:00:00+00:00')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO verdicts (citation_id, answer_id, verdict, reviewer, created_at)"
            " VALUES (7, 'a1', 'great', 'kim', '2025-01-02T00:00:00+00:00')"
        )
    db.execute("DELETE FROM answers WHERE id = 'a1'")
    assert db.execute("SELECT COUNT(*) FROM citations").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
