"""`fetch_references` against a real HTTP server on 127.0.0.1 (no mocks of httpx)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.corpus.documents import documents_by_ref, load_added_documents, read_manifest
from assistant.corpus.fetch import fetch_references
from assistant.errors import CorpusError
from assistant.settings import load_settings
from assistant.types import Reference
from tests.fixtures.pdf import make_pdf

pytestmark = pytest.mark.network

LIMIT = 4096  # max_bytes passed to the fetcher in these tests
READ_TIMEOUT = 0.5


PDF = make_pdf(
    [["Manufacturing USA annual report", "Hello from page one."], ["Second page about workforce."]]
)
HTML = (
    b"<!doctype html><html><head><title>Institute page</title><style>p{}</style></head>"
    b"<body><nav>Home | About</nav><h1>Institute page</h1><h2>Mission</h2>"
    b"<p>The institute advances additive manufacturing.</p><footer>Contact</footer>"
    b"<script>var x = 1;</script></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    flaky_hits = 0
    lock = threading.Lock()
    release = threading.Event()  # /slow answers only when the test is over

    def log_message(self, *args) -> None:  # noqa: ANN002 - keep test output clean
        pass

    def _send(self, code: int, ctype: str, body: bytes, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size limit)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        route = self.path
        if route == "/doc.pdf":
            self._send(200, "application/pdf", PDF)
        elif route == "/octet":
            self._send(200, "application/octet-stream", PDF)
        elif route == "/page.html":
            self._send(200, "text/html; charset=utf-8", HTML)
        elif route == "/notes.md":
            self._send(200, "text/markdown", b"# Notes\n\n## Part\n\nSome notes on LIFT.\n")
        elif route == "/slow":  # a server that never answers in time: the fetcher must give up
            _Handler.release.wait(60)
            self._send(200, "text/plain", b"too late")
        elif route == "/missing":
            self._send(404, "text/html", b"<p>not here</p>")
        elif route == "/style.css":
            self._send(200, "text/css", b"body { color: red }")
        elif route == "/big-declared":
            self._send(200, "application/pdf", b"%PDF-1.4\n" + b"0" * (LIMIT * 3))
        elif route == "/big-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()  # no Content-Length: HTTP/1.0 body ends when the socket closes
            try:
                for _ in range(20):
                    self.wfile.write(b"x" * 1024)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/doc.pdf")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/flaky":
            with _Handler.lock:
                _Handler.flaky_hits += 1
                hits = _Handler.flaky_hits
            if hits == 1:
                self._send(503, "text/plain", b"busy")
            else:
                self._send(200, "text/plain", b"Recovered text about NIIMBL.\n\nSecond para.")
        else:
            self._send(404, "text/plain", b"")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _Handler.flaky_hits = 0
    _Handler.release.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    # Loopback is refused by default (SSRF); this test server is allowed by name and port.
    monkeypatch.setenv("ASSISTANT__FETCH__ALLOW_HOSTS", f"127.0.0.1:{httpd.server_address[1]}")
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    return tmp_path


def _ref(rid: str, url: str | None, kind: str = "report") -> Reference:
    return Reference(
        id=rid, footnote_ids=[f"fn-{rid}"], title=f"Title of {rid}", url=url, kind=kind
    )  # type: ignore[arg-type]


def _fetch(refs: list[Reference], **kw):  # noqa: ANN003, ANN202
    opts = dict(
        registry=refs, connect_timeout=1.0, read_timeout=READ_TIMEOUT, max_bytes=LIMIT, backoff=0.05
    )
    opts.update(kw)
    return fetch_references(load_settings(profiles=["test"]), **opts)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_generated_pdf_is_readable() -> None:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(PDF))
    assert "Hello from page one." in reader.pages[0].extract_text()
    assert "workforce" in reader.pages[1].extract_text()


def test_fetch_outcomes_files_and_manifest(server: str, home: Path) -> None:
    refs = [
        _ref("pdf", f"{server}/doc.pdf"),
        _ref("octet", f"{server}/octet"),
        _ref("html", f"{server}/page.html", "web_page"),
        _ref("md", f"{server}/notes.md", "web_page"),
        _ref("slow", f"{server}/slow"),
        _ref("missing", f"{server}/missing"),
        _ref("css", f"{server}/style.css", "web_page"),
        _ref("bigdecl", f"{server}/big-declared"),
        _ref("bigstream", f"{server}/big-streamed"),
        _ref("redir", f"{server}/redirect"),
        _ref("loop", f"{server}/loop"),
        _ref("flaky", f"{server}/flaky"),
        _ref("nourl", None),
    ]
    report = _fetch(refs)
    out = report.by_id()

    assert [o.ref_id for o in report.outcomes] == [r.id for r in refs]
    assert out["pdf"].status == "fetched"
    assert out["octet"].status == "fetched" and out["octet"].content_type == "application/pdf"
    assert out["html"].status == "fetched" and out["html"].path.suffix == ".html"
    assert out["md"].status == "fetched" and out["md"].path.suffix == ".md"
    assert out["slow"].status == "failed" and out["slow"].reason.startswith("timeout")
    assert out["slow"].attempts == 3  # timeouts are retried (the server never answers)
    assert out["missing"].reason == "http 404" and out["missing"].attempts == 1
    assert out["css"].reason == "wrong content type text/css"
    assert out["bigdecl"].reason.startswith("too large")
    assert out["bigstream"].reason.startswith("too large")
    assert out["redir"].status == "fetched" and out["redir"].sha256 == out["pdf"].sha256
    assert out["loop"].reason.startswith("too many redirects")
    assert out["flaky"].status == "fetched" and out["flaky"].attempts == 2
    assert out["nourl"].status == "skipped"

    fetched = home / "corpus" / "fetched"
    pdf_path = fetched / "pdf.pdf"
    assert out["pdf"].path == pdf_path
    assert hashlib.sha256(pdf_path.read_bytes()).hexdigest() == hashlib.sha256(PDF).hexdigest()
    assert not list(fetched.glob(".*")), "temporary downloads must be cleaned up"
    assert sorted(p.name for p in fetched.iterdir()) == sorted(
        ["pdf.pdf", "octet.pdf", "html.html", "md.md", "redir.pdf", "flaky.txt"]
    )

    raw = json.loads((home / "corpus" / "manifest.json").read_text(encoding="utf-8"))
    rec = raw["fetched"]["pdf"]
    assert rec["status"] == "ok" and rec["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert rec["size"] == len(PDF) and rec["content_type"] == "application/pdf"
    assert rec["url"] == f"{server}/doc.pdf" and rec["fetched_at"].endswith("Z")
    assert raw["fetched"]["redir"]["final_url"].endswith("/doc.pdf")
    assert raw["fetched"]["missing"] == raw["fetched"]["missing"] | {
        "status": "failed",
        "reason": "http 404",
    }
    assert raw["fetched"]["css"]["reason"] == "wrong content type text/css"
    assert "sha256" not in raw["fetched"]["css"]
    assert "nourl" not in raw["fetched"]
    assert not list((home / "corpus").glob(".manifest.json*")), "no stray temp manifest"

    # Fetched files are documents: they load, with pages, and resolve from their reference.
    loaded = {
        d.doc_id: (d, ps) for d, ps in load_added_documents(load_settings(profiles=["test"]), refs)
    }
    doc, passages = loaded["fetched/pdf"]
    assert doc.ref_id == "pdf" and doc.page_count == 2 and doc.kind == "report"
    assert any("Hello from page one." in p.text and p.page_start == 1 for p in passages)
    assert any("workforce" in p.text and p.page_start == 2 for p in passages)
    html_doc, html_passages = loaded["fetched/html"]
    assert html_doc.kind == "web_page"
    assert [p.section_path for p in html_passages] == [["Institute page", "Mission"]]
    assert "Home" not in html_passages[0].text and "var x" not in html_passages[0].text
    assert loaded["fetched/flaky"][1][0].entities == ["NIIMBL"]
    assert documents_by_ref(load_settings(profiles=["test"]))["pdf"] == "fetched/pdf"


def test_refetch_identical_is_unchanged(server: str, home: Path) -> None:
    refs = [_ref("pdf", f"{server}/doc.pdf")]
    assert _fetch(refs).outcomes[0].status == "fetched"
    first = read_manifest(load_settings(profiles=["test"]))["documents"]["fetched/pdf"]
    again = _fetch(refs, only=["pdf"]).outcomes[0]
    assert again.status == "unchanged"
    assert read_manifest(load_settings(profiles=["test"]))["documents"]["fetched/pdf"] == first


def test_unreachable_hosts_fail_fast_and_keep_files(server: str, home: Path) -> None:
    good = [_ref("pdf", f"{server}/doc.pdf"), _ref("html", f"{server}/page.html")]
    _fetch(good)
    pdf_path = home / "corpus" / "fetched" / "pdf.pdf"
    before = (pdf_path.read_bytes(), pdf_path.stat().st_mtime_ns)

    port = _closed_port()
    offline = [
        _ref("pdf", "http://no-such-host.invalid/doc.pdf"),
        _ref("html", f"http://127.0.0.1:{port}/page.html"),
        _ref("other", "http://no-such-host.invalid/other.pdf"),
    ]
    report = _fetch(offline, connect_timeout=0.5)
    assert [o.status for o in report.outcomes] == ["failed"] * 3
    assert all(o.reason.startswith("unreachable") for o in report.outcomes if o.ref_id != "html"), (
        report.outcomes
    )
    assert report.by_id()["html"].reason.startswith(
        "refused"
    )  # another loopback port: never reached (SSRF)
    assert report.by_id()["pdf"].attempts == 1  # a failed DNS lookup is not retried

    assert (pdf_path.read_bytes(), pdf_path.stat().st_mtime_ns) == before
    manifest = read_manifest(load_settings(profiles=["test"]))
    rec = manifest["fetched"]["pdf"]
    assert rec["status"] == "failed" and rec["reason"].startswith("unreachable")
    assert rec["sha256"] == hashlib.sha256(PDF).hexdigest() and rec["path"] == "fetched/pdf.pdf"
    assert set(manifest["documents"]) == {"fetched/pdf", "fetched/html"}
    assert {d.doc_id for d, _ in load_added_documents(load_settings(profiles=["test"]), good)} == {
        "fetched/pdf",
        "fetched/html",
    }


def test_committed_registry_offline_fails_cleanly(home: Path) -> None:
    try:
        socket.getaddrinfo("www.nist.gov", 443)
    except OSError:
        pass
    else:
        pytest.skip("network available: this test covers the offline behaviour")
    report = fetch_references(load_settings(profiles=["test"]))
    assert report.outcomes and report.counts.get("fetched", 0) == 0
    failed = [o for o in report.outcomes if o.status == "failed"]
    assert failed and all(o.reason.startswith("unreachable") for o in failed)
    assert all(o.status in ("failed", "skipped") for o in report.outcomes)
    assert not list((home / "corpus" / "fetched").iterdir())


def test_unknown_id_and_progress(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    refs = [_ref("usc-15-278s", f"{server}/notes.md", "statute")]
    with pytest.raises(CorpusError, match="usc-15-278s"):
        _fetch(refs, only=["usc-15-278"])
    report = _fetch(refs, only=["usc-15-278s"], progress=True)
    assert report.outcomes[0].status == "fetched"
    assert "[1/1] usc-15-278s: fetched" in capsys.readouterr().err


def test_report_is_json_ready(server: str) -> None:
    report = _fetch([_ref("pdf", f"{server}/doc.pdf"), _ref("missing", f"{server}/missing")])
    data = json.loads(json.dumps(report.model_dump()))
    assert data["counts"] == {"fetched": 1, "failed": 1}
    assert data["outcomes"][1]["reason"] == "http 404"
    assert report.summary().startswith("1 failed, 1 fetched")
