"""Documents added to the corpus by users (`assistant corpus add` / `corpus fetch`).

Added files are copied to ``<user corpus>/added/<slug>.<ext>``; fetched ones live in
``<user corpus>/fetched/<ref_id>.<ext>``. Both are listed in ``<user corpus>/manifest.json``::

    {
      "format": 1,
      "updated_at": "2026-01-01T00:00:00Z",
      "documents": {                       # what gets indexed, by doc_id
        "added/foo": {"doc_id": "added/foo", "path": "added/foo.md", "origin": "add",
                      "source_name": "foo.md", "file_type": "markdown", "sha256": "…",
                      "size": 123, "ref_id": null, "title": "Foo", "lang": "en",
                      "added_at": "2026-01-01T00:00:00Z"}
      },
      "fetched": {                         # the last download attempt per registry entry
        "fn10a": {"ref_id": "fn10a", "url": "…", "status": "ok" | "failed", "reason": null,
                  "content_type": "application/pdf", "size": 1234, "sha256": "…",
                  "path": "fetched/fn10a.pdf", "doc_id": "fetched/fn10a", …}
      }
    }

The manifest is only changed under a file lock and written atomically (tmp + os.replace),
so concurrent `add`/`fetch` runs and a killed process never leave it half-written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant import paths
from assistant.corpus.extract import CANONICAL_EXT, Block, Extracted, extract
from assistant.corpus.references import load_registry
from assistant.errors import CorpusError
from assistant.knowledge.glossary import glossary
from assistant.settings import Settings
from assistant.types import Passage, Reference, SourceDocument

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
PASSAGE_MAX_CHARS = 1500  # the index stage re-chunks to 300-600 characters
AddStatus = Literal["added", "replaced", "unchanged"]
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class AddResult:
    """Outcome of `add_document`."""

    doc_id: str
    status: AddStatus
    path: Path
    sha256: str
    title: str
    lang: str
    ref_id: str | None
    file_type: str
    page_count: int | None
    passages: int
    duplicate_of: str | None = None


# ----------------------------------------------------------------------------- manifest


def utc_now() -> str:
    """Current UTC time as ISO 8601 with a Z suffix (manifest timestamps)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_path(settings: Settings) -> Path:
    """``<user corpus>/manifest.json``."""
    return paths.user_corpus_dir(settings) / "manifest.json"


def _empty_manifest() -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "updated_at": None, "documents": {}, "fetched": {}}


def read_manifest(settings: Settings) -> dict[str, Any]:
    """The manifest (an empty one if none exists). A corrupt file raises CorpusError."""
    path = manifest_path(settings)
    if not path.exists():
        return _empty_manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(
            f"the corpus manifest {path} is unreadable: {exc}",
            hint="Fix it by hand or delete it and add the documents again.",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents", {}), dict):
        raise CorpusError(
            f"the corpus manifest {path} has an unexpected layout",
            hint="Fix it by hand or delete it and add the documents again.",
        )
    out = _empty_manifest()
    out.update(data)
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file next to ``path``, fsync it, then rename it over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def manifest_transaction(settings: Settings) -> Iterator[dict[str, Any]]:
    """Read-modify-write the manifest under an exclusive lock; written when the block exits."""
    corpus = paths.user_corpus_dir(settings)
    corpus.mkdir(parents=True, exist_ok=True)
    # flock works between processes and between separate opens in one process (threads).
    with open(corpus / ".manifest.lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            manifest = read_manifest(settings)
            yield manifest
            manifest["updated_at"] = utc_now()
            write_json_atomic(manifest_path(settings), manifest)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _resolve_stored(settings: Settings, rel: str) -> Path | None:
    """The absolute path of a manifest entry's file, or None if it points outside the corpus."""
    root = paths.user_corpus_dir(settings).resolve()
    target = (root / rel).resolve()
    return target if target.is_relative_to(root) else None


# ----------------------------------------------------------------------------- helpers


def slugify(text: str) -> str:
    """File-name-safe slug: lower case, word characters (Hangul kept) joined by dashes."""
    norm = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^\w]+", "-", norm).strip("-_")
    return slug[:80].rstrip("-_") or "document"


def detect_lang(text: str) -> str:
    """'ko' when Hangul makes up a fifth of the letters (same rule as questions), else 'en'."""
    sample = text[:50_000]
    letters = len(_LETTER.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    return "ko" if letters and hangul >= 2 and hangul / letters >= 0.2 else "en"


def _registry(settings: Settings, registry: list[Reference] | None) -> list[Reference]:
    return (
        registry
        if registry is not None
        else load_registry(paths.committed(settings.data.references))
    )


def check_ref(ref_id: str, registry: list[Reference]) -> Reference:
    """The registry entry ``ref_id``; an unknown id raises CorpusError naming close ids."""
    by_id = {r.id: r for r in registry}
    if ref_id in by_id:
        return by_id[ref_id]
    close = difflib.get_close_matches(ref_id, list(by_id), n=5, cutoff=0.5)
    listed = ", ".join(close) if close else ", ".join(list(by_id)[:8]) + ", …"
    raise CorpusError(
        f"unknown reference id {ref_id!r} (close: {listed})",
        hint="`assistant corpus references` lists every id.",
    )


def register_document(
    manifest: dict[str, Any],
    *,
    doc_id: str,
    rel_path: str,
    sha256: str,
    size: int,
    ref_id: str | None,
    title: str,
    lang: str,
    origin: Literal["add", "fetch"],
    source_name: str,
    file_type: str,
) -> None:
    """Put a document entry into ``manifest`` (call inside `manifest_transaction`)."""
    manifest["documents"][doc_id] = {
        "doc_id": doc_id,
        "path": rel_path,
        "origin": origin,
        "source_name": source_name,
        "file_type": file_type,
        "sha256": sha256,
        "size": size,
        "ref_id": ref_id,
        "title": title,
        "lang": lang,
        "added_at": utc_now(),
    }


# ----------------------------------------------------------------------------- add / remove


def add_document(
    settings: Settings,
    path: Path,
    ref_id: str | None = None,
    title: str | None = None,
    lang: str | None = None,
    *,
    registry: list[Reference] | None = None,
) -> AddResult:
    """Copy a PDF, HTML, Markdown or text file into the user corpus and record it.

    The file is extracted first, so a broken, encrypted, scanned or unsupported file is
    refused (CorpusError) before anything is copied. Re-adding the identical file is
    ``unchanged``; a changed file (or changed title/lang/ref) at the same slug is
    ``replaced``. Omitted ``ref_id``/``title``/``lang`` keep the values already recorded
    for that slug.
    """
    src = Path(path).expanduser()
    if not src.is_file():
        raise CorpusError(f"{src} does not exist or is not a file")
    if ref_id is not None:
        check_ref(ref_id, _registry(settings, registry))
    if lang is not None:
        lang = lang.strip().lower()
        if not _LANG_CODE.match(lang):
            raise CorpusError(
                f"invalid language code {lang!r}", hint="Use 'en', 'ko' or another ISO 639 code."
            )
    extracted = extract(src)
    slug = slugify(title or src.stem)
    doc_id = f"added/{slug}"
    rel = f"added/{slug}{CANONICAL_EXT[extracted.file_type]}"
    corpus = paths.user_corpus_dir(settings)
    target = corpus / rel
    sha = sha256_file(src)
    with manifest_transaction(settings) as manifest:
        prev = manifest["documents"].get(doc_id)
        same_content = bool(prev and prev.get("sha256") == sha)
        if same_content:  # a plain re-add keeps what the first add recorded
            ref_id = ref_id if ref_id is not None else prev.get("ref_id")
            title = title if title is not None else prev.get("title")
            lang = lang if lang is not None else prev.get("lang")
        final_title = title or extracted.title
        final_lang = lang or detect_lang(extracted.text)
        duplicate_of = next(
            (d for d, e in manifest["documents"].items() if d != doc_id and e.get("sha256") == sha),
            None,
        )
        if duplicate_of:
            logger.warning("document already in corpus doc_id=%s same_as=%s", doc_id, duplicate_of)
        result = AddResult(
            doc_id=doc_id,
            status="unchanged",
            path=target,
            sha256=sha,
            title=final_title,
            lang=final_lang,
            ref_id=ref_id,
            file_type=extracted.file_type,
            page_count=len(extracted.pages) if extracted.paginated else None,
            passages=len(build_passages(doc_id, final_lang, extracted)),
            duplicate_of=duplicate_of,
        )
        if (
            prev
            and same_content
            and prev.get("path") == rel
            and target.is_file()
            and sha256_file(target) == sha
            and prev.get("ref_id") == ref_id
            and prev.get("title") == final_title
            and prev.get("lang") == final_lang
        ):
            logger.info("document unchanged doc_id=%s", doc_id)
            return result
        _copy_atomic(src, target)
        if prev and prev.get("path") != rel:  # same slug, other extension: drop the old file
            old = _resolve_stored(settings, prev.get("path", ""))
            if old is not None and old != target.resolve():
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()
        register_document(
            manifest,
            doc_id=doc_id,
            rel_path=rel,
            sha256=sha,
            size=target.stat().st_size,
            ref_id=ref_id,
            title=final_title,
            lang=final_lang,
            origin="add",
            source_name=src.name,
            file_type=extracted.file_type,
        )
    status: AddStatus = "replaced" if prev else "added"
    logger.info("document %s doc_id=%s path=%s", status, doc_id, rel)
    return dataclasses.replace(result, status=status)


def _copy_atomic(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_document(settings: Settings, doc_id: str) -> Path | None:
    """Remove a document's file and manifest entry; returns the removed file's path."""
    with manifest_transaction(settings) as manifest:
        entry = manifest["documents"].pop(doc_id, None)
        if entry is None:
            close = difflib.get_close_matches(doc_id, list(manifest["documents"]), n=5, cutoff=0.4)
            raise CorpusError(
                f"no added document {doc_id!r}"
                + (f" (close: {', '.join(close)})" if close else ""),
                hint="`assistant corpus list` shows the added documents.",
            )
        if entry.get("origin") == "fetch":
            # Forget the download too, or `documents_by_ref` users would look for it again.
            for ref_id, rec in list(manifest.get("fetched", {}).items()):
                if rec.get("doc_id") == doc_id:
                    del manifest["fetched"][ref_id]
        target = _resolve_stored(settings, entry.get("path", ""))
        if target is not None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
    logger.info("document removed doc_id=%s", doc_id)
    return target


def list_documents(settings: Settings) -> list[dict[str, Any]]:
    """The manifest's document entries, by doc_id, each with ``exists`` (file present)."""
    manifest = read_manifest(settings)
    out = []
    for doc_id, entry in sorted(manifest["documents"].items()):
        target = _resolve_stored(settings, entry.get("path", ""))
        out.append({**entry, "doc_id": doc_id, "exists": bool(target and target.is_file())})
    return out


def documents_by_ref(settings: Settings) -> dict[str, str]:
    """Registry id -> doc_id of the document holding its text (added files before fetched)."""
    try:
        manifest = read_manifest(settings)
    except CorpusError as exc:  # the answer stage must not fail on a broken manifest
        logger.warning("manifest unreadable error=%s", exc)
        return {}
    out: dict[str, str] = {}
    # A file the user added by hand wins over an automatic download of the same reference.
    entries = sorted(
        manifest["documents"].items(), key=lambda kv: (kv[1].get("origin") != "add", kv[0])
    )
    for doc_id, entry in entries:
        ref_id = entry.get("ref_id")
        target = _resolve_stored(settings, entry.get("path", ""))
        if ref_id and ref_id not in out and target is not None and target.is_file():
            out[ref_id] = doc_id
    return out


# ----------------------------------------------------------------------------- loading


def load_added_documents(
    settings: Settings, registry: list[Reference]
) -> Iterator[tuple[SourceDocument, list[Passage]]]:
    """Yield each added or fetched document with its passages.

    A missing or unreadable file is logged and skipped; the other documents still load.
    """
    try:
        manifest = read_manifest(settings)
    except CorpusError as exc:
        logger.warning("added documents skipped: %s", exc)
        return
    by_ref = {r.id: r for r in registry}
    for doc_id, entry in sorted(manifest["documents"].items()):
        target = _resolve_stored(settings, str(entry.get("path", "")))
        if target is None or not target.is_file():
            logger.warning("added document missing doc_id=%s path=%s", doc_id, entry.get("path"))
            continue
        try:
            extracted = extract(target)
        except CorpusError as exc:
            logger.warning("added document unreadable doc_id=%s error=%s", doc_id, exc)
            continue
        except Exception as exc:  # a parser bug on one file must not hide the others
            logger.warning("added document failed doc_id=%s error=%r", doc_id, exc)
            continue
        sha = sha256_file(target)
        if sha != entry.get("sha256"):
            logger.info("added document changed on disk doc_id=%s", doc_id)
        ref_id = entry.get("ref_id")
        ref = by_ref.get(ref_id) if ref_id else None
        if ref_id and ref is None:
            logger.warning(
                "added document cites unknown reference doc_id=%s ref_id=%s", doc_id, ref_id
            )
        lang = entry.get("lang") or detect_lang(extracted.text)
        title = (
            (ref.title_en if ref and ref.title_en else None)
            or entry.get("title")
            or extracted.title
        )
        passages = build_passages(doc_id, lang, extracted)
        if not passages:
            logger.warning("added document has no text doc_id=%s", doc_id)
            continue
        doc = SourceDocument(
            doc_id=doc_id,
            title=title,
            lang=lang,
            kind=ref.kind if ref else "report",
            source_path=str(entry.get("path")),
            sha256=sha,
            ref_id=ref_id,
            page_count=len(extracted.pages) if extracted.paginated else None,
            added_at=entry.get("added_at"),
        )
        yield doc, passages


def _split_long(text: str, limit: int) -> list[str]:
    """Cut one overlong paragraph at sentence ends, else at spaces, else hard."""
    pieces: list[str] = []
    cur = ""
    for sent in _SENTENCE_END.split(text):
        while len(sent) > limit:
            cut = sent.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, sent = sent[:cut].strip(), sent[cut:].strip()
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(head)
        if cur and len(cur) + 1 + len(sent) > limit:
            pieces.append(cur)
            cur = ""
        cur = f"{cur} {sent}".strip()
    if cur:
        pieces.append(cur)
    return [p for p in pieces if p]


def build_passages(
    doc_id: str, lang: str, extracted: Extracted, max_chars: int = PASSAGE_MAX_CHARS
) -> list[Passage]:
    """One passage per section block, split at paragraph boundaries near ``max_chars``."""
    gloss = glossary()
    passages: list[Passage] = []
    cur: list[tuple[str, int | None]] = []
    cur_path: tuple[str, ...] = ()

    def emit() -> None:
        if not cur:
            return
        text = "\n".join(t for t, _ in cur)
        pages = [p for _, p in cur if p is not None]
        passages.append(
            Passage(
                passage_id=f"{doc_id}#{len(passages) + 1:04d}",
                doc_id=doc_id,
                kind="text",
                text=text,
                lang=lang,
                page_start=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                section_path=list(cur_path),
                footnotes=[],
                entities=gloss.entities_in(text),
            )
        )
        cur.clear()

    block: Block
    for block in extracted.blocks:
        # A passage never crosses a section, nor a PDF page (citations name one page).
        if block.section_path != cur_path or (cur and cur[-1][1] != block.page):
            emit()
            cur_path = block.section_path
        pieces = (
            [block.text] if len(block.text) <= max_chars else _split_long(block.text, max_chars)
        )
        for piece in pieces:
            size = sum(len(t) + 1 for t, _ in cur)
            if cur and size + len(piece) > max_chars:
                emit()
            cur.append((piece, block.page))
    emit()
    return passages
