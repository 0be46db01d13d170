"""Tests for assistant.logs: logging answers to logs.db, review verdicts, reports, export."""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.logs import (
    citation_quality,
    export_csv,
    get_answer,
    list_answers,
    log_answer,
    logs_status,
    open_db,
    record_verdict,
    safe_log_answer,
)
from assistant.migrations import MIGRATIONS
from assistant.types import Answer, Citation, Hit, ReferenceLink, Support, Timings, Turn

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ builders


def cite(n: int, *, verified: bool = True, doc_id: str = "plan/nist-ams-600-15") -> Citation:
    """A real Citation of the plan, numbered ``n``."""
    return Citation(
        n=n,
        chunk_id=f"{doc_id}#c{n:03d}",
        doc_id=doc_id,
        doc_title="Manufacturing USA Strategic Plan",
        page=10 + n,
        page_end=11 + n if n == 2 else None,
        page_label=f"p. {10 + n}",
        section="Goals > Goal 1",
        quote=f"Quote {n}: 제조업 혁신 연구소는 17개이다.",
        passage=f"Passage {n}. The network has 17 institutes.",
        verified=verified,
        unverified_numbers=[] if verified else ["17"],
        references=[ReferenceLink(id=f"ref-{n}", title=f"Report {n}", url="https://example.org")]
        if n == 1
        else [],
    )


def hit(rank: int) -> Hit:
    return Hit(
        chunk_id=f"plan/nist-ams-600-15#c{rank:03d}",
        doc_id="plan/nist-ams-600-15",
        doc_title="Plan",
        kind="text",
        text="long chunk text that must not be logged",
        lang="ko",
        page_start=rank,
        page_end=rank,
        section="Intro",
        score=1.0 / rank,
        rank=rank,
        dense_rank=rank + 1,
        bm25_rank=None,
        dense_score=0.5,
    )


def make_answer(
    question: str = "How many institutes are there?",
    *,
    language: str = "en",
    created_at: str = "2025-01-06T10:00:00+00:00",
    citations: list[Citation] | None = None,
    refused: bool = False,
) -> Answer:
    cs = [cite(1), cite(2)] if citations is None else citations
    return Answer(
        question=question,
        language=language,  # type: ignore[arg-type]
        answer="I cannot answer that." if refused else "There are 17 institutes [1][2].",
        refused=refused,
        citations=cs,
        support=Support(sentences=1, cited_sentences=1, total_citations=len(cs), level="full"),
        timings=Timings(retrieve_s=0.25, first_token_s=0.5, total_s=1.75),
        mode="extractive",
        search_text=question.lower(),
        notices=["question truncated"],
        hits=[hit(1), hit(2)],
        llm_id="qwen2.5-1.5b",
        embed_id="embeddinggemma-300m",
        created_at=created_at,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = open_db(tmp_path / "logs.db")
    yield conn
    conn.close()


def citation_ids(db: sqlite3.Connection, answer_id: str) -> list[int]:
    return [c["id"] for c in get_answer(db, answer_id)["citations"]]


# ------------------------------------------------------------------ connection


def test_open_db_pragmas_and_migrations(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "logs.db"
    db = open_db(path)
    assert path.exists()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")] == [
        fn.__name__ for fn in MIGRATIONS
    ]
    db.close()
    # WAL is a property of the file: a plain connection sees it too.
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()
    # Reopening migrates nothing and keeps the rows.
    db = open_db(path)
    assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    db.close()


# ------------------------------------------------------------------ log_answer / get_answer


def test_log_answer_round_trip(db: sqlite3.Connection) -> None:
    history = [
        Turn(role="user", content="제조업 혁신 연구소?"),
        Turn(role="assistant", content="17"),
    ]
    answer = make_answer(
        citations=[cite(1), cite(2, verified=False), cite(3)],
        created_at="2025-03-04T09:30:00+09:00",
    )
    answer_id = log_answer(
        db,
        answer,
        profile="small",
        source="ui",
        conversation_id="conv-1",
        history=history,
        detected_language="ko",
    )
    assert len(answer_id) == 32 and int(answer_id, 16) >= 0

    got = get_answer(db, answer_id)
    assert got is not None
    assert got["id"] == answer_id
    assert got["created_at"] == "2025-03-04T00:30:00+00:00"  # normalised to UTC
    assert got["question"] == "How many institutes are there?"
    assert got["language"] == "en"
    assert got["detected_language"] == "ko"
    assert got["search_text"] == "how many institutes are there?"
    assert got["profile"] == "small"
    assert got["mode"] == "extractive"
    assert got["refused"] is False
    assert got["answer"] == "There are 17 institutes [1][2]."
    assert got["support"]["level"] == "full"
    assert got["support"]["total_citations"] == 3
    assert got["timings"] == {"retrieve_s": 0.25, "first_token_s": 0.5, "total_s": 1.75}
    assert (got["retrieve_s"], got["first_token_s"], got["total_s"]) == (0.25, 0.5, 1.75)
    assert got["hits"] == [
        {
            "chunk_id": "plan/nist-ams-600-15#c001",
            "doc_id": "plan/nist-ams-600-15",
            "rank": 1,
            "score": 1.0,
            "dense_rank": 2,
            "bm25_rank": None,
            "dense_score": 0.5,
        },
        {
            "chunk_id": "plan/nist-ams-600-15#c002",
            "doc_id": "plan/nist-ams-600-15",
            "rank": 2,
            "score": 0.5,
            "dense_rank": 3,
            "bm25_rank": None,
            "dense_score": 0.5,
        },
    ]
    assert got["llm_id"] == "qwen2.5-1.5b"
    assert got["embed_id"] == "embeddinggemma-300m"
    assert got["source"] == "ui"
    assert got["eval_run"] is None
    assert got["notices"] == ["question truncated"]
    assert got["conversation_id"] == "conv-1"
    assert got["history"] == [
        {"role": "user", "content": "제조업 혁신 연구소?"},
        {"role": "assistant", "content": "17"},
    ]

    cs = got["citations"]
    assert [c["n"] for c in cs] == [1, 2, 3]
    assert [c["verified"] for c in cs] == [True, False, True]
    assert [c["verdict"] for c in cs] == [None, None, None]
    assert [c["verdict_count"] for c in cs] == [0, 0, 0]
    first = cs[0]
    assert first["answer_id"] == answer_id
    assert first["chunk_id"] == "plan/nist-ams-600-15#c001"
    assert first["doc_id"] == "plan/nist-ams-600-15"
    assert first["doc_title"] == "Manufacturing USA Strategic Plan"
    assert (first["page"], first["page_end"]) == (11, None)
    assert cs[1]["page_end"] == 13
    assert first["section"] == "Goals > Goal 1"
    assert first["quote"] == "Quote 1: 제조업 혁신 연구소는 17개이다."
    assert first["passage"] == "Passage 1. The network has 17 institutes."
    assert first["references"] == [
        {
            "id": "ref-1",
            "title": "Report 1",
            "url": "https://example.org",
            "agency": None,
            "date": None,
            "doc_id": None,
        }
    ]
    assert cs[1]["unverified_numbers"] == ["17"]
    # JSON is stored readable (Korean not escaped).
    raw = db.execute("SELECT history_json FROM answers WHERE id = ?", (answer_id,)).fetchone()[0]
    assert "제조업" in raw


def test_get_answer_unknown_is_none(db: sqlite3.Connection) -> None:
    assert get_answer(db, "nope") is None


def test_log_answer_rejects_unknown_source(db: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="source must be one of cli, ui, api, eval"):
        log_answer(db, make_answer(), profile="p", source="web")
    assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0


def test_log_answer_is_one_transaction(db: sqlite3.Connection) -> None:
    # A failing citation insert must take the answer row with it.
    db.execute(
        "CREATE TEMP TRIGGER no_citations BEFORE INSERT ON citations"
        " BEGIN SELECT RAISE(ABORT, 'citations refused'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="citations refused"):
        log_answer(db, make_answer(), profile="p", source="cli")
    assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0
    assert not db.in_transaction
    db.execute("DROP TRIGGER no_citations")
    assert log_answer(db, make_answer(), profile="p", source="cli")


def test_ids_sort_by_creation(db: sqlite3.Connection) -> None:
    ids = []
    for _ in range(50):  # many in the same millisecond
        ids.append(log_answer(db, make_answer(), profile="p", source="cli"))
    assert ids == sorted(ids)
    assert len(set(ids)) == 50


# ------------------------------------------------------------------ list_answers


@pytest.fixture
def listed(db: sqlite3.Connection) -> dict[str, str]:
    """A (en, all verified), B (ko, one unverified), C (en, refused), D (ko, uncited)."""
    return {
        "A": log_answer(
            db, make_answer("A", created_at="2025-01-06T10:00:00+00:00"), profile="p", source="ui"
        ),
        "B": log_answer(
            db,
            make_answer(
                "B",
                language="ko",
                created_at="2025-01-07T23:59:59+00:00",
                citations=[cite(1), cite(2, verified=False)],
            ),
            profile="p",
            source="ui",
        ),
        "C": log_answer(
            db,
            make_answer("C", created_at="2025-01-08T00:00:00+00:00", citations=[], refused=True),
            profile="p",
            source="cli",
        ),
        "D": log_answer(
            db,
            make_answer("D", language="ko", created_at="2025-01-09T08:00:00+00:00", citations=[]),
            profile="p",
            source="api",
        ),
    }


def questions(rows: list[dict]) -> list[str]:
    return [r["question"] for r in rows]


def test_list_answers_newest_first_with_counts(
    db: sqlite3.Connection, listed: dict[str, str]
) -> None:
    rows = list_answers(db)
    assert questions(rows) == ["D", "C", "B", "A"]
    by_q = {r["question"]: r for r in rows}
    assert (by_q["A"]["citations"], by_q["A"]["verified_citations"]) == (2, 2)
    assert by_q["A"]["verified_share"] == 1.0
    assert (by_q["B"]["citations"], by_q["B"]["verified_citations"]) == (2, 1)
    assert by_q["B"]["verified_share"] == 0.5
    assert by_q["C"]["citations"] == 0
    assert by_q["C"]["verified_share"] is None
    assert by_q["C"]["refused"] is True
    assert [r["reviewed"] for r in rows] == [0, 0, 0, 0]

    first_b = citation_ids(db, listed["B"])[0]
    record_verdict(db, citation_id=first_b, verdict="correct", reviewer="kim")
    record_verdict(db, citation_id=first_b, verdict="wrong_passage", reviewer="lee")
    by_q = {r["question"]: r for r in list_answers(db)}
    assert by_q["B"]["reviewed"] == 1  # two verdicts, one citation
    assert by_q["A"]["reviewed"] == 0


def test_list_answers_filters(db: sqlite3.Connection, listed: dict[str, str]) -> None:
    assert questions(list_answers(db, language="en")) == ["C", "A"]
    assert questions(list_answers(db, language="ko")) == ["D", "B"]
    assert questions(list_answers(db, verified="all")) == ["D", "C", "B", "A"]
    assert questions(list_answers(db, verified="verified")) == ["A"]
    assert questions(list_answers(db, verified="unverified")) == ["D", "B"]
    assert questions(list_answers(db, verified="refused")) == ["C"]
    assert questions(list_answers(db, language="ko", verified="unverified")) == ["D", "B"]
    assert questions(list_answers(db, language="en", verified="unverified")) == []
    # Dates: since inclusive; a bare until date covers its whole day.
    assert questions(list_answers(db, since="2025-01-07")) == ["D", "C", "B"]
    assert questions(list_answers(db, until="2025-01-07")) == ["B", "A"]
    assert questions(list_answers(db, since="2025-01-07", until="2025-01-08")) == ["C", "B"]
    # Datetimes are exact bounds, in any offset.
    assert questions(list_answers(db, since="2025-01-08T00:00:00+00:00")) == ["D", "C"]
    assert questions(list_answers(db, until="2025-01-08T08:59:59+09:00")) == ["B", "A"]
    assert questions(list_answers(db, until="2025-01-08T09:00:00+09:00")) == ["C", "B", "A"]
    assert questions(list_answers(db, since="2025-01-10")) == []
    # Paging.
    assert questions(list_answers(db, limit=2)) == ["D", "C"]
    assert questions(list_answers(db, limit=2, offset=2)) == ["B", "A"]
    with pytest.raises(ValueError, match="verified must be one of"):
        list_answers(db, verified="maybe")


# ------------------------------------------------------------------ verdicts


def test_record_verdict_validation(db: sqlite3.Connection) -> None:
    cid = citation_ids(db, log_answer(db, make_answer(), profile="p", source="ui"))[0]
    with pytest.raises(ValueError, match="verdict must be one of correct, wrong_passage"):
        record_verdict(db, citation_id=cid, verdict="good", reviewer="kim")
    with pytest.raises(ValueError, match="reviewer must be a non-empty name"):
        record_verdict(db, citation_id=cid, verdict="correct", reviewer="")
    with pytest.raises(ValueError, match="reviewer must be a non-empty name"):
        record_verdict(db, citation_id=cid, verdict="correct", reviewer="   ")
    with pytest.raises(ValueError, match="no citation with id 9999"):
        record_verdict(db, citation_id=9999, verdict="correct", reviewer="kim")
    assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
    assert not db.in_transaction


def test_latest_verdict_supersedes(db: sqlite3.Connection) -> None:
    answer_id = log_answer(db, make_answer(), profile="p", source="ui")
    c1, c2 = citation_ids(db, answer_id)
    v1 = record_verdict(db, citation_id=c1, verdict="wrong_passage", reviewer="kim")
    v2 = record_verdict(
        db, citation_id=c1, verdict="correct", reviewer=" kim ", comment="page was right"
    )
    assert v2 > v1
    got = get_answer(db, answer_id)
    current = got["citations"][0]["verdict"]
    assert current["id"] == v2
    assert current["verdict"] == "correct"
    assert current["reviewer"] == "kim"  # stripped
    assert current["comment"] == "page was right"
    assert current["created_at"].endswith("+00:00")
    assert got["citations"][0]["verdict_count"] == 2
    assert got["citations"][1]["verdict"] is None
    # History is kept, and the verdict row points at the answer.
    rows = db.execute(
        "SELECT id, verdict, answer_id FROM verdicts WHERE citation_id = ? ORDER BY id", (c1,)
    ).fetchall()
    assert [tuple(r) for r in rows] == [
        (v1, "wrong_passage", answer_id),
        (v2, "correct", answer_id),
    ]
    # A later verdict by another reviewer is the current one too.
    v3 = record_verdict(db, citation_id=c1, verdict="unsupported_claim", reviewer="lee")
    current = get_answer(db, answer_id)["citations"][0]["verdict"]
    assert (current["id"], current["verdict"], current["reviewer"]) == (
        v3,
        "unsupported_claim",
        "lee",
    )


# ------------------------------------------------------------------ citation_quality


def test_citation_quality_hand_computed(db: sqlite3.Connection) -> None:
    # Week 2025-W01 (Mon 6 Jan), English: 4 citations, 3 automatically verified.
    a1 = log_answer(
        db,
        make_answer(created_at="2025-01-06T09:00:00+00:00", citations=[cite(1), cite(2)]),
        profile="p",
        source="ui",
    )
    a2 = log_answer(
        db,
        make_answer(
            created_at="2025-01-12T23:00:00+00:00",  # Sunday: still W01
            citations=[cite(1), cite(2, verified=False)],
        ),
        profile="p",
        source="ui",
    )
    c1, c2 = citation_ids(db, a1)
    c3, c4 = citation_ids(db, a2)
    record_verdict(db, citation_id=c1, verdict="correct", reviewer="kim")
    record_verdict(db, citation_id=c2, verdict="wrong_passage", reviewer="kim")
    record_verdict(db, citation_id=c2, verdict="correct", reviewer="kim")  # supersedes
    record_verdict(db, citation_id=c3, verdict="wrong_passage", reviewer="kim")
    record_verdict(db, citation_id=c3, verdict="unsupported_claim", reviewer="lee")  # supersedes
    # c4 never reviewed -> en W01: 4 citations, 3 reviewed, 2 correct, 3/4 verified.

    # Week 2025-W01, Korean: 2 unverified citations, none reviewed.
    log_answer(
        db,
        make_answer(
            language="ko",
            created_at="2025-01-07T09:00:00+00:00",
            citations=[cite(1, verified=False), cite(2, verified=False)],
        ),
        profile="p",
        source="ui",
    )
    # Week 2025-W02 (Mon 13 Jan), English, from an eval run: 1 verified citation, correct.
    a4 = log_answer(
        db,
        make_answer(created_at="2025-01-13T00:00:00+00:00", citations=[cite(1)]),
        profile="p",
        source="eval",
        eval_run="run-1",
    )
    record_verdict(db, citation_id=citation_ids(db, a4)[0], verdict="correct", reviewer="kim")
    # A refused answer has no citations and changes nothing.
    log_answer(
        db,
        make_answer(created_at="2025-01-14T00:00:00+00:00", citations=[], refused=True),
        profile="p",
        source="ui",
    )

    weekly = citation_quality(db)
    assert [(r["week"], r["language"]) for r in weekly] == [
        ("2025-W01", "en"),
        ("2025-W01", "ko"),
        ("2025-W02", "en"),
    ]
    en1, ko1, en2 = weekly
    assert (en1["citations"], en1["reviewed"], en1["correct"]) == (4, 3, 2)
    assert en1["precision"] == pytest.approx(0.667, abs=1e-3)
    assert en1["verified_share"] == 0.75
    assert (ko1["citations"], ko1["reviewed"], ko1["correct"]) == (2, 0, 0)
    assert ko1["precision"] is None
    assert ko1["verified_share"] == 0.0
    assert (en2["citations"], en2["reviewed"], en2["correct"]) == (1, 1, 1)
    assert en2["precision"] == 1.0
    assert en2["verified_share"] == 1.0

    per_lang = citation_quality(db, by="language")
    assert [r["language"] for r in per_lang] == ["en", "ko"]
    en, ko = per_lang
    assert "week" not in en
    assert (en["citations"], en["reviewed"], en["correct"]) == (5, 4, 3)
    assert en["precision"] == 0.75
    assert en["verified_share"] == 0.8
    assert (ko["citations"], ko["reviewed"], ko["precision"]) == (2, 0, None)

    only_ui = citation_quality(db, by="language", source="ui")
    assert [(r["language"], r["citations"], r["correct"]) for r in only_ui] == [
        ("en", 4, 2),
        ("ko", 2, 0),
    ]
    with pytest.raises(ValueError, match="by must be 'week' or 'language'"):
        citation_quality(db, by="month")


def test_citation_quality_empty(db: sqlite3.Connection) -> None:
    assert citation_quality(db) == []
    assert citation_quality(db, by="language") == []


# ------------------------------------------------------------------ export and status


def test_export_csv(db: sqlite3.Connection, tmp_path: Path) -> None:
    a1 = log_answer(db, make_answer("첫 질문", language="ko"), profile="p", source="ui")
    log_answer(db, make_answer("second", citations=[cite(1)]), profile="p", source="cli")
    cid = citation_ids(db, a1)[0]
    record_verdict(db, citation_id=cid, verdict="correct", reviewer="kim", comment="맞음")
    record_verdict(db, citation_id=cid, verdict="wrong_passage", reviewer="kim")

    out = export_csv(db, tmp_path / "export")
    assert out == {
        "answers": tmp_path / "export" / "answers.csv",
        "citations": tmp_path / "export" / "citations.csv",
        "verdicts": tmp_path / "export" / "verdicts.csv",
    }

    def read(name: str) -> list[dict[str, str]]:
        with out[name].open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    answers, citations, verdicts = read("answers"), read("citations"), read("verdicts")
    assert len(answers) == 2 and len(citations) == 3 and len(verdicts) == 2
    assert list(answers[0])[:4] == ["id", "created_at", "question", "language"]
    assert answers[0]["id"] == a1
    assert answers[0]["question"] == "첫 질문"
    assert json.loads(answers[0]["support_json"])["level"] == "full"
    assert json.loads(answers[0]["hits_json"])[0]["rank"] == 1
    assert json.loads(citations[0]["references_json"])[0]["id"] == "ref-1"
    assert [v["verdict"] for v in verdicts] == ["correct", "wrong_passage"]
    assert verdicts[0]["comment"] == "맞음"
    assert not db.in_transaction


def test_logs_status(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    missing = logs_status(path)
    assert missing["exists"] is False
    assert missing["counts"] == {}
    assert not path.exists()  # status never creates the database

    db = open_db(path)
    answer_id = log_answer(db, make_answer(), profile="p", source="ui")
    record_verdict(db, citation_id=citation_ids(db, answer_id)[0], verdict="correct", reviewer="k")
    status = logs_status(path)
    db.close()
    assert status["exists"] is True
    assert status["size"] > 0
    assert status["counts"] == {"answers": 1, "citations": 2, "verdicts": 1}
    assert status["migrations"] == [fn.__name__ for fn in MIGRATIONS]


# ------------------------------------------------------------------ safety


def test_safe_log_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "logs.db"
    answer_id = safe_log_answer(path, make_answer(), profile="p", source="cli")
    assert answer_id is not None
    db = open_db(path)
    assert get_answer(db, answer_id)["source"] == "cli"
    db.close()

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="assistant.logs"):
        assert safe_log_answer(corrupt, make_answer(), profile="p", source="cli") is None
        # A directory where the file should be, and a bad argument: still no exception.
        assert safe_log_answer(tmp_path, make_answer(), profile="p", source="cli") is None
        assert safe_log_answer(path, make_answer(), profile="p", source="nope") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    assert all("answer not logged" in r.getMessage() for r in warnings)


def test_concurrent_writers(tmp_path: Path) -> None:
    # Four threads open the same fresh file at once (racing the migrations) and write.
    path = tmp_path / "logs.db"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            barrier.wait()
            db = open_db(path)
            try:
                for i in range(25):
                    answer = make_answer(f"q{k}-{i}", citations=[cite(1)])
                    aid = log_answer(db, answer, profile="p", source="ui")
                    with lock:
                        ids.append(aid)
            finally:
                db.close()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 100
    db = open_db(path)
    assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 100
    assert db.execute("SELECT COUNT(*) FROM citations").fetchone()[0] == 100
    assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    assert len(list_answers(db, limit=1000)) == 100
    db.close()


CHILD = """
import sys
from assistant.logs import open_db, record_verdict

db = open_db(sys.argv[1])
citation_id = int(sys.argv[2])
kinds = ["correct", "wrong_passage", "unsupported_claim"]
i = 0
while True:
    vid = record_verdict(db, citation_id=citation_id, verdict=kinds[i % 3], reviewer="kill")
    print(vid, flush=True)
    i += 1
"""


@pytest.mark.timeout(120)
def test_committed_verdicts_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    db = open_db(path)
    citation_id = citation_ids(db, log_answer(db, make_answer(), profile="p", source="ui"))[0]
    db.close()
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), str(citation_id)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
    )
    printed: list[int] = []
    try:
        while len(printed) < 30:
            line = proc.stdout.readline()
            assert line, f"child ended early: {proc.stderr.read()}"
            printed.append(int(line))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # Ids the child printed before the kill but we had not read yet count too; a torn last
    # line (no newline) does not.
    rest = proc.stdout.read()
    printed += [int(x) for x in rest.split("\n")[:-1] if x.strip()]
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(printed) >= 30

    db = open_db(path)
    stored = {
        r[0] for r in db.execute("SELECT id FROM verdicts WHERE citation_id = ?", (citation_id,))
    }
    assert set(printed) <= stored
    assert len(stored) >= len(printed)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    current = get_answer(db, get_answer_id(db, citation_id))["citations"][0]["verdict"]
    assert current["id"] == max(stored)
    db.close()


def get_answer_id(db: sqlite3.Connection, citation_id: int) -> str:
    return db.execute("SELECT answer_id FROM citations WHERE id = ?", (citation_id,)).fetchone()[0]
