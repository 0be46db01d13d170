"""Text extraction for added and fetched documents: PDF, HTML, Markdown and plain text.

`extract(path)` returns the document's title, its pages (PDFs keep their 1-based physical
page numbers; other formats are one unpaginated page) and its paragraphs as `Block`s, each
with the heading path it sits under. Everything that cannot be read (broken or encrypted
PDF, a PDF without a text layer, binary or unknown files) raises `CorpusError` with a
message a user can act on; nothing else escapes.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.errors import CorpusError

logger = logging.getLogger(__name__)

FileType = Literal["pdf", "html", "markdown", "text"]

EXTENSIONS: dict[str, FileType] = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}
CANONICAL_EXT: dict[FileType, str] = {
    "pdf": ".pdf",
    "html": ".html",
    "markdown": ".md",
    "text": ".txt",
}
SUPPORTED = "PDF, HTML, Markdown (.md) or plain text (.txt)"
MAX_HEADING_CHARS = 200  # longer "headings" are paragraphs a converter marked up as headings


@dataclass(frozen=True)
class ExtractedPage:
    """One page of text. Non-paginated formats are a single page numbered 1."""

    number: int
    text: str


@dataclass(frozen=True)
class Block:
    """One paragraph with the headings it sits under (outermost first)."""

    text: str
    section_path: tuple[str, ...] = ()
    page: int | None = None


@dataclass
class Extracted:
    """What `extract` found in a file."""

    title: str
    pages: list[ExtractedPage]
    file_type: FileType
    paginated: bool
    blocks: list[Block] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All text, pages joined by blank lines."""
        return "\n\n".join(p.text for p in self.pages)


# ----------------------------------------------------------------------------- entry point


def detect_type(path: Path, head: bytes) -> FileType:
    """The file's type from its leading bytes, then its extension."""
    ext = path.suffix.lower()
    # Magic bytes win over the name: a fetched PDF saved as .html is still a PDF. (PDF
    # readers accept junk before the header, but a text file may merely quote "%PDF-".)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"%PDF-") or (
        EXTENSIONS.get(ext, "pdf") == "pdf" and b"%PDF-" in head[:1024]
    ):
        return "pdf"
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    sniff = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sniff.startswith((b"<!doctype html", b"<html")):
        return "html"
    raise CorpusError(
        f"unsupported file type {ext or '(no extension)'}: {path.name}",
        hint=f"Add a {SUPPORTED} file.",
    )


def extract(path: Path) -> Extracted:
    """Extract title, pages, headings and paragraphs of a PDF, HTML, Markdown or text file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    kind = detect_type(path, head)
    if kind == "pdf":
        return _extract_pdf(path)
    raw = path.read_bytes()
    if kind == "html":
        if b"\x00" in raw[:8192]:
            raise CorpusError(
                f"unsupported file type: {path.name} looks binary", hint=f"Add a {SUPPORTED} file."
            )
        try:  # BeautifulSoup detects the page's own encoding from the bytes
            return _extract_html(raw, path)
        except RecursionError as exc:
            raise CorpusError(f"{path.name}: HTML nested too deeply to read") from exc
    text = _decode(raw, path)
    if kind == "markdown":
        return _extract_markdown(text, path)
    return _extract_text(text, path)


# ----------------------------------------------------------------------------- helpers

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def _clean(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _decode(raw: bytes, path: Path) -> str:
    """Decode a text file; binary content is refused rather than indexed as noise."""
    sample = raw[:8192]
    if b"\x00" in sample:
        raise CorpusError(
            f"unsupported file type: {path.name} looks binary", hint=f"Add a {SUPPORTED} file."
        )
    for encoding in ("utf-8-sig", "cp949"):  # cp949: Korean files saved by older tools
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CorpusError(
            f"unsupported file type: {path.name} is neither UTF-8 nor CP949 text",
            hint="Save it as UTF-8.",
        )
    controls = sum(
        1 for ch in text[:8192] if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f"
    )
    if controls > 0.05 * max(1, min(len(text), 8192)):
        raise CorpusError(
            f"unsupported file type: {path.name} looks binary", hint=f"Add a {SUPPORTED} file."
        )
    return text


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, inner line breaks joined."""
    out = []
    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        joined = _clean(" ".join(line.strip() for line in para.split("\n")))
        if joined:
            out.append(joined)
    return out


# ----------------------------------------------------------------------------- PDF


def _extract_pdf(path: Path) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:  # AES needs the optional `cryptography` package
                raise CorpusError(
                    f"{path.name} is an encrypted PDF that cannot be opened ({exc})",
                    hint="Save an unencrypted copy and add that.",
                ) from exc
            if not opened:
                raise CorpusError(
                    f"{path.name} is an encrypted PDF (password required)",
                    hint="Save an unencrypted copy and add that.",
                )
        pages_raw = list(reader.pages)
    except CorpusError:
        raise
    except Exception as exc:  # pypdf raises many types (PdfReadError, PdfStreamError, ...)
        raise CorpusError(
            f"{path.name} is not a readable PDF (broken or truncated: {exc})",
            hint="Download it again or re-save it from a PDF viewer.",
        ) from exc
    pages: list[ExtractedPage] = []
    failed = 0
    for number, page in enumerate(pages_raw, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one bad page must not lose the rest of the document
            logger.warning("pdf page unreadable path=%s page=%s error=%s", path.name, number, exc)
            text, failed = "", failed + 1
        pages.append(ExtractedPage(number, text))
    if not any(p.text.strip() for p in pages):
        if failed == len(pages) and pages:
            raise CorpusError(f"{path.name}: no page of this PDF could be read (broken PDF?)")
        raise CorpusError(
            f"{path.name} has no extractable text (scanned PDF? no text layer)",
            hint="Run OCR on it first (e.g. ocrmypdf) and add the result.",
        )
    outline = _pdf_outline(reader)
    blocks: list[Block] = []
    for page in pages:
        section = _section_at(outline, page.number)
        for para in _pdf_paragraphs(page.text):
            blocks.append(Block(para, section, page.number))
    return Extracted(
        title=_pdf_title(reader, pages, path),
        pages=pages,
        file_type="pdf",
        paginated=True,
        blocks=blocks,
        headings=[(len(p), p[-1]) for _, p in outline],
    )


def _pdf_title(reader, pages: list[ExtractedPage], path: Path) -> str:  # noqa: ANN001
    try:
        meta_title = _clean(str((reader.metadata or {}).get("/Title") or ""))
    except Exception:  # broken metadata dictionaries are common and harmless
        meta_title = ""
    # Word exports put "Microsoft Word - file.docx" into the title field: not a title.
    if meta_title and not re.match(r"(?i)(microsoft word|untitled|\S+\.(docx?|pdf)$)", meta_title):
        return meta_title
    for page in pages:
        for line in page.text.splitlines():
            if len(_clean(line)) >= 3:
                return _clean(line)[:MAX_HEADING_CHARS]
    return path.stem


def _pdf_outline(reader) -> list[tuple[int, tuple[str, ...]]]:  # noqa: ANN001
    """(first page, heading path) of the PDF's bookmarks, two levels deep, by page."""
    found: list[tuple[int, tuple[str, ...]]] = []

    def walk(items, parents: tuple[str, ...]) -> None:  # noqa: ANN001
        last: tuple[str, ...] | None = None
        for item in items:
            if isinstance(item, list):
                if last is not None and len(last) < 2:
                    walk(item, last)
                continue
            try:
                number = reader.get_destination_page_number(item) + 1
                title = _clean(str(item.title))
            except Exception:  # dangling bookmark: skip it
                continue
            if not title:
                continue
            last = (*parents, title[:MAX_HEADING_CHARS])
            found.append((number, last))

    try:
        walk(reader.outline, ())
    except Exception as exc:  # bookmarks are optional; a broken tree only loses section paths
        logger.info("pdf outline unreadable error=%s", exc)
        return []
    return sorted(found, key=lambda item: item[0])


def _section_at(outline: list[tuple[int, tuple[str, ...]]], page: int) -> tuple[str, ...]:
    current: tuple[str, ...] = ()
    for start, path in outline:
        if start > page:
            break
        current = path
    return current


def _pdf_paragraphs(text: str) -> list[str]:
    """Paragraphs of a PDF page: blank lines, or a short line that ends a sentence."""
    lines = [line.rstrip() for line in text.replace("\r", "\n").split("\n")]
    width = max((len(line) for line in lines), default=0)
    paras: list[str] = []
    cur: list[str] = []

    def close() -> None:
        if cur:
            joined = cur[0]
            for nxt in cur[1:]:
                # Re-join words hyphenated at a line end ("manufac-" + "turing").
                if re.search(r"[a-z]-$", joined) and re.match(r"[a-z]", nxt):
                    joined = joined[:-1] + nxt
                else:
                    joined = f"{joined} {nxt}"
            if _clean(joined):
                paras.append(_clean(joined))
            cur.clear()

    for line in lines:
        if not line.strip():
            close()
            continue
        cur.append(line.strip())
        if re.search(r"[.!?:。]$", line) and len(line) < 0.7 * width:
            close()
    close()
    return paras


# ----------------------------------------------------------------------------- HTML

_DROP_TAGS = (
    "script",
    "style",
    "nav",
    "header",
    "footer",
    "noscript",
    "template",
    "svg",
    "iframe",
    "form",
)
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h5",
        "h6",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    }
)


def _extract_html(raw: bytes, path: Path) -> Extracted:
    from bs4 import BeautifulSoup
    from bs4.element import (
        Comment,
        Declaration,
        Doctype,
        NavigableString,
        ProcessingInstruction,
        Tag,
    )

    soup = BeautifulSoup(raw, "html.parser")
    page_title = _clean(soup.title.get_text(" ")) if soup.title else ""
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    if soup.head:
        soup.head.decompose()
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    stack: dict[int, str] = {}
    buf: list[str] = []

    def flush() -> None:
        text = _clean(" ".join(buf))
        buf.clear()
        if text:
            blocks.append(Block(text, tuple(stack[k] for k in sorted(stack))))

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _HEADING_TAGS:
                flush()
                text = _clean(child.get_text(" "))
                if text:
                    level = _HEADING_TAGS[name]
                    for deeper in [k for k in stack if k >= level]:
                        del stack[deeper]
                    stack[level] = text[:MAX_HEADING_CHARS]
                    headings.append((level, stack[level]))
                continue
            if name == "br":
                buf.append(" ")
                continue
            if name in ("td", "th"):
                buf.append(" | " if buf else "")
            block = name in _BLOCK_TAGS
            if block:
                flush()
            walk(child)
            if block:
                flush()

    walk(soup)
    flush()
    text = "\n\n".join(b.text for b in blocks)
    first_h1 = next((t for lvl, t in headings if lvl == 1), "")
    title = page_title or first_h1 or next((t for _, t in headings), "") or path.stem
    return Extracted(
        title=title,
        pages=[ExtractedPage(1, text)],
        file_type="html",
        paginated=False,
        blocks=blocks,
        headings=headings,
    )


# ----------------------------------------------------------------------------- Markdown

_MD_HEADING = re.compile(r"^(#{1,6})(?!#)\s+(.*?)(?:\s+#+)?\s*$")
_MD_OVERDEEP = re.compile(r"^#{7,}\s*")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|`)")
_USC_TITLE = re.compile(r"^Title\s+(\d+)\s*[—–-]")


def _md_inline(text: str) -> str:
    return _clean(_MD_EMPH.sub("", _MD_LINK.sub(r"\1", text)))


def _heading_text(text: str) -> str:
    # The U.S. Code export leaves a space before the closing period: "(a) Authority ."
    return re.sub(r"\s+([.,;:])$", r"\1", _md_inline(text))


def _extract_markdown(text: str, path: Path) -> Extracted:
    """Markdown: `#` headings make the section path.

    The U.S. Code files were cut into chunks that each restate the "# Title 15— …" /
    "### CHAPTER 7— …" / "#### § 278s. …" header. A heading identical to the one already
    open at its level is therefore a no-op (it must not close the subsection it repeats
    into), and section paths start at the statute's "§" heading: the title and chapter
    lines above it are the same for every passage and only add noise.
    """
    stack: dict[int, str] = {}
    headings: list[tuple[int, str]] = []
    blocks: list[Block] = []
    para: list[str] = []
    in_fence = False

    def path_now() -> tuple[str, ...]:
        parts = [stack[k] for k in sorted(stack)]
        for i, part in enumerate(parts):
            if part.startswith("§"):
                return tuple(parts[i:])
        return tuple(parts)

    def flush() -> None:
        joined = _md_inline(" ".join(para))
        para.clear()
        if joined:
            blocks.append(Block(joined, path_now()))

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            flush()
            continue
        m = None if in_fence else _MD_HEADING.match(line)
        if m and len(m.group(2)) <= MAX_HEADING_CHARS and m.group(2).strip():
            flush()
            level, heading = len(m.group(1)), _heading_text(m.group(2))
            if stack.get(level) == heading:
                continue
            for deeper in [k for k in stack if k >= level]:
                del stack[deeper]
            stack[level] = heading
            headings.append((level, heading))
            continue
        if m:  # an overlong "heading" is a paragraph the converter marked as one
            line = m.group(2)
        elif not in_fence and _MD_OVERDEEP.match(line):
            line = _MD_OVERDEEP.sub("", line)  # "######## (B) Costs …": not a heading at all
        if not line.strip():
            flush()
            continue
        para.append(line.strip())
    flush()
    return Extracted(
        title=_markdown_title(headings, blocks, path),
        pages=[ExtractedPage(1, "\n\n".join(b.text for b in blocks))],
        file_type="markdown",
        paginated=False,
        blocks=blocks,
        headings=headings,
    )


def _markdown_title(headings: list[tuple[int, str]], blocks: list[Block], path: Path) -> str:
    section = next((h for _, h in headings if h.startswith("§")), None)
    if section:
        usc = next((m.group(1) for _, h in headings if (m := _USC_TITLE.match(h))), None)
        return f"{usc} U.S.C. {section}" if usc else section
    if headings:
        return min(headings, key=lambda h: h[0])[1]
    return blocks[0].text[:MAX_HEADING_CHARS] if blocks else path.stem


# ----------------------------------------------------------------------------- plain text


def _extract_text(text: str, path: Path) -> Extracted:
    paras = _paragraphs(text)
    first_line = next((_clean(line) for line in text.splitlines() if line.strip()), "")
    return Extracted(
        title=first_line[:MAX_HEADING_CHARS] or path.stem,
        pages=[ExtractedPage(1, "\n\n".join(paras))],
        file_type="text",
        paginated=False,
        blocks=[Block(p) for p in paras],
    )
