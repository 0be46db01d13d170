"""Download the documents the plan cites (`assistant corpus fetch`).

Every registry entry of kind report/statute/web_page with a URL is fetched with httpx:
short connect timeout, bounded read timeout, at most `ATTEMPTS` tries with exponential
backoff (only on connect errors, timeouts and 5xx), redirects followed (at most
`MAX_REDIRECTS`), a size limit enforced while streaming and a content-type whitelist. A
good download is checked by extracting it, then moved over ``fetched/<ref_id>.<ext>``
atomically and registered as a document, so it is indexed like an added file. Failures are
recorded in the manifest with their reason and never stop the other entries; a failed
re-fetch leaves the file already on disk (and its document) untouched.

Offline, every entry fails fast: a failed DNS lookup is immediate and not retried, and a
host found unreachable is not contacted again in the same run.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from assistant import paths
from assistant.corpus.documents import (
    detect_lang,
    manifest_path,
    manifest_transaction,
    register_document,
    sha256_file,
    utc_now,
)
from assistant.corpus.extract import extract
from assistant.corpus.references import load_registry
from assistant.errors import CorpusError
from assistant.settings import Settings
from assistant.types import Reference

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
TOTAL_TIMEOUT_S = 300.0  # a server dripping bytes never trips the per-read timeout
MAX_BYTES = 50 * 1024 * 1024
ATTEMPTS = 3
BACKOFF_S = 0.5  # waits 0.5 s, then 1 s, ... between attempts
MAX_REDIRECTS = 5
WORKERS = 4
FETCH_KINDS = frozenset({"report", "statute", "web_page"})
ACCEPTED_TYPES: dict[str, str] = {
    "application/pdf": ".pdf",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
# Some servers label PDFs as generic binaries: accepted only if the bytes are a PDF.
_GENERIC_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "binary/octet-stream",
        "application/x-download",
        "application/force-download",
    }
)
USER_AGENT = "mfg-usa-assistant/0.1 (corpus fetch; +https://doi.org/10.6028/NIST.AMS.600-15)"
_CHUNK = 64 * 1024
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

FetchStatus = Literal["fetched", "unchanged", "failed", "skipped"]


@dataclass
class FetchOutcome:
    """What happened to one registry entry."""

    ref_id: str
    url: str | None
    status: FetchStatus
    reason: str | None = None
    path: Path | None = None
    doc_id: str | None = None
    sha256: str | None = None
    size: int | None = None
    content_type: str | None = None
    attempts: int = 0
    seconds: float = 0.0


@dataclass
class FetchReport:
    """All outcomes of one `fetch_references` run, in registry order."""

    outcomes: list[FetchOutcome]
    manifest_path: Path
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for o in self.outcomes:
            self.counts[o.status] = self.counts.get(o.status, 0) + 1

    def by_id(self) -> dict[str, FetchOutcome]:
        """Outcomes keyed by registry id."""
        return {o.ref_id: o for o in self.outcomes}

    @property
    def failed(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def model_dump(self) -> dict[str, Any]:
        """JSON-ready dict (same name as pydantic's, which the CLI's --json relies on)."""
        return {
            "manifest": str(self.manifest_path),
            "seconds": round(self.seconds, 3),
            "counts": dict(self.counts),
            "outcomes": [
                {
                    **o.__dict__,
                    "path": str(o.path) if o.path else None,
                    "seconds": round(o.seconds, 3),
                }
                for o in self.outcomes
            ],
        }

    def summary(self) -> str:
        """One line: counts per status and the elapsed time."""
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        return f"{parts or 'nothing to fetch'} in {self.seconds:.1f} s"


class _Failure(Exception):
    """One failed attempt: the reason recorded, and whether another attempt may help."""

    def __init__(self, reason: str, retryable: bool = False, host_down: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.host_down = host_down


@dataclass
class _Download:
    content_type: str
    ext: str
    size: int
    sha256: str
    final_url: str


# ----------------------------------------------------------------------------- public


def fetch_references(
    settings: Settings,
    only: list[str] | None = None,
    progress: bool = False,
    *,
    registry: list[Reference] | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    read_timeout: float = READ_TIMEOUT_S,
    total_timeout: float = TOTAL_TIMEOUT_S,
    max_bytes: int = MAX_BYTES,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF_S,
    max_redirects: int = MAX_REDIRECTS,
    workers: int = WORKERS,
    on_outcome: Callable[[FetchOutcome], None] | None = None,
) -> FetchReport:
    """Download registry entries (all fetchable ones, or the ids in ``only``).

    ``registry`` defaults to the committed reference registry; the keyword arguments
    override the module defaults (timeouts in seconds, ``max_bytes`` per file). With
    ``progress`` one line per entry goes to stderr. Unknown ids in ``only`` raise
    CorpusError; everything else that goes wrong is an outcome, never an exception.
    """
    started = time.monotonic()
    refs = (
        registry
        if registry is not None
        else load_registry(paths.committed(settings.data.references))
    )
    selected = _select(refs, only)
    fetched_dir = paths.user_corpus_dir(settings) / "fetched"
    fetched_dir.mkdir(parents=True, exist_ok=True)
    dead_hosts: set[str] = set()
    lock = threading.Lock()
    done = [0]

    def report(outcome: FetchOutcome) -> None:
        with lock:
            done[0] += 1
            if progress:
                detail = outcome.reason or (outcome.path.name if outcome.path else "")
                print(
                    f"[{done[0]}/{len(selected)}] {outcome.ref_id}: {outcome.status} {detail}",
                    file=sys.stderr,
                    flush=True,
                )
        if on_outcome is not None:
            on_outcome(outcome)

    timeout = httpx.Timeout(
        read_timeout, connect=connect_timeout, pool=connect_timeout + read_timeout
    )
    options = _Options(
        connect_timeout,
        read_timeout,
        total_timeout,
        max_bytes,
        max(1, attempts),
        max(0.0, backoff),
        max_redirects,
        frozenset(h.lower() for h in settings.fetch.allow_hosts),
    )
    # Redirects are followed by hand: every hop's address is checked before it is requested.
    with httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
    ) as client:

        def run(ref: Reference) -> FetchOutcome:
            try:
                outcome = _fetch_one(settings, client, ref, fetched_dir, options, dead_hosts, lock)
            except Exception as exc:  # a bug on one entry must not lose the others' results
                logger.exception("fetch crashed ref_id=%s", ref.id)
                outcome = FetchOutcome(ref.id, ref.url, "failed", f"error: {exc!r}")
            report(outcome)
            return outcome

        if workers <= 1 or len(selected) <= 1:
            outcomes = [run(ref) for ref in selected]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
                outcomes = list(pool.map(run, selected))
    result = FetchReport(outcomes, manifest_path(settings), time.monotonic() - started)
    logger.info("fetch done summary=%r", result.summary())
    return result


# ----------------------------------------------------------------------------- internals

_ACCEPT = (
    "application/pdf, text/html;q=0.9, application/xhtml+xml;q=0.9, "
    "text/markdown;q=0.8, text/plain;q=0.7"
)


@dataclass(frozen=True)
class _Options:
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_bytes: int
    attempts: int
    backoff: float
    max_redirects: int
    allow_hosts: frozenset[str] = frozenset()


def refused_address(url: str, allow_hosts: frozenset[str]) -> str | None:
    """Why this URL may not be fetched (None: it may): its host must resolve only to public
    addresses — not loopback, private, link-local (cloud metadata 169.254.169.254), multicast or
    reserved ranges, nor a ``localhost`` name — unless ``fetch.allow_hosts`` names it (tests)."""
    import ipaddress
    import socket

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme not in ("http", "https") or not host:
        return f"not an http(s) URL: {url}"
    if host in allow_hosts or f"{host}:{port}" in allow_hosts:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"refused: {host} is a local name"
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # unresolvable: the download reports it as unreachable
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
            or getattr(ip, "ipv4_mapped", None) is not None
        ):
            return f"refused: {host} resolves to a non-public address ({ip})"
    return None


def _select(refs: list[Reference], only: list[str] | None) -> list[Reference]:
    if only is None:
        return [r for r in refs if r.kind in FETCH_KINDS]
    by_id = {r.id: r for r in refs}
    unknown = [i for i in only if i not in by_id]
    if unknown:
        hints = []
        for i in unknown:
            close = difflib.get_close_matches(i, list(by_id), n=3, cutoff=0.5)
            hints.append(f"{i!r}" + (f" (close: {', '.join(close)})" if close else ""))
        raise CorpusError(
            f"unknown reference id(s): {'; '.join(hints)}",
            hint="`assistant corpus references` lists every id.",
        )
    return [by_id[i] for i in dict.fromkeys(only)]


def _fetch_one(
    settings: Settings,
    client: httpx.Client,
    ref: Reference,
    fetched_dir: Path,
    opt: _Options,
    dead_hosts: set[str],
    lock: threading.Lock,
) -> FetchOutcome:
    started = time.monotonic()
    if not ref.url:
        return FetchOutcome(ref.id, None, "skipped", "no URL")
    if not _SAFE_ID.fullmatch(ref.id):  # the id becomes a file name
        return FetchOutcome(ref.id, ref.url, "skipped", "id unusable as a file name")
    if ref.kind not in FETCH_KINDS:
        return FetchOutcome(ref.id, ref.url, "skipped", f"kind {ref.kind} is not fetched")
    host = urlsplit(ref.url).hostname or ""
    with lock:
        down = host in dead_hosts
    if down:
        return _failed(
            settings, ref, f"unreachable: {host} (unreachable earlier in this run)", 0, started
        )
    tmp_base = fetched_dir / f".{ref.id}.{os.getpid()}.{threading.get_ident()}.part"
    failure: _Failure | None = None
    got: _Download | None = None
    tries = 0
    for tries in range(1, opt.attempts + 1):
        try:
            got = _download(client, ref.url, tmp_base, opt)
            failure = None
            break
        except _Failure as exc:
            failure = exc
            logger.info(
                "fetch attempt failed ref_id=%s attempt=%s reason=%r", ref.id, tries, exc.reason
            )
            if not exc.retryable or tries == opt.attempts:
                break
            time.sleep(opt.backoff * (2 ** (tries - 1)))
    if failure is not None or got is None:
        _cleanup(tmp_base)
        reason = failure.reason if failure else "error: no result"
        if failure and failure.host_down and host:
            with lock:
                dead_hosts.add(host)
        if failure and failure.retryable and tries > 1:
            reason = f"{reason} (after {tries} attempts)"
        return _failed(settings, ref, reason, tries, started)
    return _store(settings, ref, got, tmp_base, fetched_dir, tries, started)


def _tmp_file(tmp_base: Path, ext: str) -> Path:
    # The extension matters: extraction picks the parser by it.
    return tmp_base.with_name(tmp_base.name + ext)


def _cleanup(tmp_base: Path) -> None:
    for ext in {*ACCEPTED_TYPES.values(), ""}:
        with contextlib.suppress(FileNotFoundError):
            _tmp_file(tmp_base, ext).unlink()


def _is_dns_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    return any(
        s in text
        for s in (
            "name or service not known",
            "name resolution",
            "nodename nor servname",
            "getaddrinfo failed",
            "no address associated",
        )
    )


def _download(client: httpx.Client, url: str, tmp_base: Path, opt: _Options) -> _Download:
    """One attempt: stream ``url`` into a temporary file, checking every redirect hop's address,
    the type and the size."""
    host = urlsplit(url).hostname or url
    deadline = time.monotonic() + opt.total_timeout
    try:
        hops = 0
        while True:
            if why := refused_address(url, opt.allow_hosts):
                raise _Failure(why)
            request = client.build_request("GET", url)
            resp = client.send(request, stream=True)
            if resp.is_redirect and resp.headers.get("location"):
                resp.close()
                hops += 1
                if hops > opt.max_redirects:
                    raise _Failure(f"too many redirects (max {opt.max_redirects})")
                url = str(resp.url.join(resp.headers["location"]))
                host = urlsplit(url).hostname or url
                continue
            break
        with contextlib.closing(resp):
            code = resp.status_code
            if code >= 500:
                raise _Failure(f"http {code}", retryable=True)
            if code >= 300:  # 3xx left over after redirects: no Location, or 304
                raise _Failure(f"http {code}")
            raw_type = resp.headers.get("content-type", "")
            ctype = raw_type.split(";", 1)[0].strip().lower()
            if ctype not in ACCEPTED_TYPES and ctype not in _GENERIC_TYPES:
                raise _Failure(f"wrong content type {ctype}")
            declared = resp.headers.get("content-length")
            if declared and declared.strip().isdigit() and int(declared) > opt.max_bytes:
                raise _Failure(f"too large: {int(declared)} bytes declared (limit {opt.max_bytes})")
            size = 0
            digest = hashlib.sha256()
            tmp: Path | None = None
            f = None
            try:
                for chunk in resp.iter_bytes(_CHUNK):
                    if not chunk:
                        continue
                    if tmp is None:
                        if ctype in _GENERIC_TYPES:
                            if chunk.lstrip()[:5] != b"%PDF-":
                                raise _Failure(f"wrong content type {ctype or '(none)'}")
                            ctype = "application/pdf"
                        tmp = _tmp_file(tmp_base, ACCEPTED_TYPES[ctype])
                        f = open(tmp, "wb")  # noqa: SIM115 - closed in the finally below
                    size += len(chunk)
                    if size > opt.max_bytes:
                        raise _Failure(f"too large: more than {opt.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise _Failure(
                            f"timeout: download took longer than {opt.total_timeout:g} s"
                        )
                    digest.update(chunk)
                    f.write(chunk)
            finally:
                if f is not None:
                    f.close()
            if tmp is None:
                raise _Failure("empty response")
            return _Download(ctype, ACCEPTED_TYPES[ctype], size, digest.hexdigest(), str(resp.url))
    except _Failure:
        raise
    except httpx.ConnectTimeout as exc:
        raise _Failure(
            f"unreachable: connect timeout after {opt.connect_timeout:g} s ({host})",
            retryable=True,
            host_down=True,
        ) from exc
    except httpx.ConnectError as exc:
        if _is_dns_failure(exc):
            # The resolver has already retried; more attempts would only make offline slow.
            raise _Failure(f"unreachable: cannot resolve {host}", host_down=True) from exc
        raise _Failure(
            f"unreachable: {exc or type(exc).__name__} ({host})", retryable=True, host_down=True
        ) from exc
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as exc:
        raise _Failure(f"timeout: no data within {opt.read_timeout:g} s", retryable=True) from exc
    except httpx.TooManyRedirects as exc:
        raise _Failure(f"too many redirects (max {opt.max_redirects})") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise _Failure(f"invalid url: {exc}") from exc
    except httpx.HTTPError as exc:  # ReadError, RemoteProtocolError...: the transfer broke
        raise _Failure(f"transfer failed: {type(exc).__name__}: {exc}") from exc
    except OSError as exc:  # writing the temporary file
        raise _Failure(f"cannot write download: {exc}") from exc


def _failed(
    settings: Settings, ref: Reference, reason: str, tries: int, started: float
) -> FetchOutcome:
    """Record a failure; the last good file and its fields stay in the record."""
    with manifest_transaction(settings) as manifest:
        prev: dict[str, Any] = manifest["fetched"].get(ref.id, {})
        manifest["fetched"][ref.id] = {
            **prev,
            "ref_id": ref.id,
            "url": ref.url,
            "status": "failed",
            "reason": reason,
            "attempted_at": utc_now(),
            "attempts": tries,
        }
    logger.warning("fetch failed ref_id=%s reason=%r", ref.id, reason)
    return FetchOutcome(
        ref.id, ref.url, "failed", reason, attempts=tries, seconds=time.monotonic() - started
    )


def _store(
    settings: Settings,
    ref: Reference,
    got: _Download,
    tmp_base: Path,
    fetched_dir: Path,
    tries: int,
    started: float,
) -> FetchOutcome:
    """Check a download extracts, move it into place and register its document."""
    tmp = _tmp_file(tmp_base, got.ext)
    try:
        extracted = extract(tmp)
    except CorpusError as exc:
        _cleanup(tmp_base)
        return _failed(settings, ref, f"unreadable: {exc}", tries, started)
    corpus = paths.user_corpus_dir(settings)
    target = fetched_dir / f"{ref.id}{got.ext}"
    rel = target.relative_to(corpus).as_posix()
    doc_id = f"fetched/{ref.id}"
    with manifest_transaction(settings) as manifest:
        prev = manifest["fetched"].get(ref.id, {})
        unchanged = (
            prev.get("sha256") == got.sha256
            and prev.get("path") == rel
            and target.is_file()
            and sha256_file(target) == got.sha256
            and doc_id in manifest["documents"]
        )
        if unchanged:
            tmp.unlink()
        else:
            os.replace(tmp, target)
            old = prev.get("path")
            if old and old != rel:  # the type changed (was HTML, now PDF): drop the old file
                with contextlib.suppress(FileNotFoundError):
                    (corpus / old).unlink()
            register_document(
                manifest,
                doc_id=doc_id,
                rel_path=rel,
                sha256=got.sha256,
                size=got.size,
                ref_id=ref.id,
                title=ref.title_en or extracted.title or ref.title,
                lang=detect_lang(extracted.text),
                origin="fetch",
                source_name=got.final_url,
                file_type=extracted.file_type,
            )
        now = utc_now()
        manifest["fetched"][ref.id] = {
            "ref_id": ref.id,
            "url": ref.url,
            "final_url": got.final_url,
            "status": "ok",
            "reason": None,
            "content_type": got.content_type,
            "size": got.size,
            "sha256": got.sha256,
            "path": rel,
            "doc_id": doc_id,
            "fetched_at": now,
            "attempted_at": now,
            "attempts": tries,
        }
    status: FetchStatus = "unchanged" if unchanged else "fetched"
    logger.info("fetch %s ref_id=%s path=%s size=%s", status, ref.id, rel, got.size)
    return FetchOutcome(
        ref.id,
        ref.url,
        status,
        None,
        target,
        doc_id,
        got.sha256,
        got.size,
        got.content_type,
        tries,
        time.monotonic() - started,
    )
