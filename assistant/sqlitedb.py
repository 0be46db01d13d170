"""Opening the project's SQLite files (logs.db, the vector cache) in WAL mode, safely at once.

SQLite waits on ``busy_timeout`` for ordinary locks but not when ``PRAGMA journal_mode=WAL``
meets another connection converting or reading the same fresh file: that pragma returns
SQLITE_BUSY at once (seen as "database is locked" when four UI workers opened a new logs.db
together). ``enable_wal`` is the busy handler SQLite does not call there: it retries the pragma
with a short backoff until the connection's own timeout has passed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

SQLITE_BUSY = 5
SQLITE_LOCKED = 6


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def enable_wal(
    db: sqlite3.Connection, timeout_s: float, pause: Callable[[float], None] = time.sleep
) -> None:
    """Put ``db``'s file in WAL mode, retrying while another connection holds it, for at most
    ``timeout_s`` seconds; the last SQLITE_BUSY is raised after that. ``pause(seconds)`` waits
    between attempts (a test passes one that releases the other connection)."""
    deadline = time.monotonic() + timeout_s
    wait = 0.005
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
            pause(min(wait, max(0.0, deadline - time.monotonic())))
            wait = min(wait * 2, 0.1)
            continue
        if str(mode).lower() != "wal":  # e.g. an in-memory database, which cannot be WAL
            raise sqlite3.OperationalError(f"journal_mode is {mode}, not wal")
        return


def connect(path: Path | str, *, timeout_s: float = 5.0, **kwargs: object) -> sqlite3.Connection:
    """``sqlite3.connect`` with ``busy_timeout`` and WAL set; extra keywords go to connect."""
    db = sqlite3.connect(path, timeout=timeout_s, **kwargs)  # type: ignore[arg-type]
    try:
        db.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        enable_wal(db, timeout_s)
    except BaseException:
        db.close()
        raise
    return db
