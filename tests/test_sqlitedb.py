"""assistant.sqlitedb: WAL set on a file another connection holds, retried instead of failing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.sqlitedb import connect, enable_wal


def holder_reading(path: Path) -> sqlite3.Connection:
    """A rollback-journal connection inside a read transaction: it keeps a SHARED lock, so
    switching the file to WAL from another connection returns SQLITE_BUSY."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN")
    holder.execute("SELECT * FROM t").fetchall()
    return holder


def test_wal_is_retried_until_the_other_connection_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    holder = holder_reading(path)
    # timeout=0: no SQLite busy handler, as when journal_mode=WAL meets a converting file.
    db = sqlite3.connect(path, isolation_level=None, timeout=0)
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:  # two attempts were refused; now the holder finishes
            holder.execute("COMMIT")

    enable_wal(db, timeout_s=5.0, pause=pause)
    assert len(pauses) == 2 and pauses[1] > pauses[0]  # backing off
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    holder.close()


def test_wal_gives_up_after_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    holder = holder_reading(path)
    db = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(db, timeout_s=0.05)
    db.close()
    holder.close()


def test_connect_sets_wal_and_busy_timeout(tmp_path: Path) -> None:
    db = connect(tmp_path / "b.db", timeout_s=2.5)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
    db.close()


def test_a_database_that_cannot_be_wal_is_an_error() -> None:
    with pytest.raises(sqlite3.OperationalError, match="not wal"):
        connect(":memory:")
