"""Find URLs in footnote text and repair what the machine translation broke.

The MT translated words inside URLs and inserted spaces:
``…/readout-…-summit-with 제조-usa-innovation-institute-network -이사/`` was
``…/readout-…-summit-with-manufacturing-usa-innovation-institute-network-directors/``, and
``view.xhtml?req=(제목:15 섹션:278s 판: 예비)`` was ``(title:15%20section:278s%20edition:prelim)``.
A URL continues over a space when the next token is a slug fragment (has a hyphen, starts
with ``-`` or ``%``) or while a ``req=(`` parenthesis is open; Korean words in it are
translated back with a small URL vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Korean words the MT put into URLs -> the English slug word they replaced.
URL_WORDS_KO_EN: dict[str, str] = {
    "제조": "manufacturing",
    "조작": "manufacturing",
    "이사": "directors",
    "촉매": "catalyze",
    "인력": "workforce",
    "개발": "development",
    "노력": "efforts",
    "고급": "advanced",
    "일자리": "jobs",
    "및": "and",
    "경력": "careers",
    "상태": "states",
    "작업": "jobs",
    "제목": "title",
    "섹션": "section",
    "판": "edition",
    "예비": "prelim",
}

_URL_START = re.compile(r"https?://\S+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_SLUG_FRAGMENT = re.compile(r"^(?:[-%]\S*|\S*[A-Za-z0-9\uac00-\ud7a3]-[-\w%/.,)]*\S*)$")


@dataclass(frozen=True)
class FoundUrl:
    raw: str  # as printed (may span spaces)
    url: str  # repaired
    start: int
    end: int

    @property
    def repaired(self) -> bool:
        return self.raw != self.url


def _translate_slug(part: str) -> str:
    return _HANGUL.sub(lambda m: URL_WORDS_KO_EN.get(m.group(0), m.group(0)), part)


def repair_url(raw: str) -> str:
    """Repair one URL as printed by the MT (spaces and Korean words inside)."""
    url = raw.strip().rstrip(".,;")
    if "req=(" in url:
        # uscode.house.gov query: translate words, spaces become %20, close the paren.
        head, _, query = url.partition("req=(")
        query = query.rstrip(")").strip()
        query = re.sub(r":\s+", ":", query)
        query = _translate_slug(query)
        query = re.sub(r"\s+", "%20", query)
        return f"{head}req=({query})"
    pieces = url.split()
    if len(pieces) == 1:
        return _translate_slug(url)
    out = pieces[0]
    for piece in pieces[1:]:
        # Slug words are lower case (the MT capitalised some); %XX escapes keep their case.
        piece = re.sub(r"(?<!%)(?<!%[0-9A-Fa-f])[A-Z]+", lambda m: m.group(0).lower(), piece)
        sep = "" if out.endswith("-") or piece.startswith(("-", "%")) else "-"
        out = out + sep + piece
    out = re.sub(r"-{2,}", "-", out)
    return _translate_slug(out)


def find_urls(text: str) -> list[FoundUrl]:
    """Every URL in a footnote text, with its repaired form."""
    found: list[FoundUrl] = []
    for m in _URL_START.finditer(text):
        if found and m.start() < found[-1].end:
            continue
        start, end = m.start(), m.end()
        open_paren = "req=(" in m.group(0) and ")" not in m.group(0).split("req=(", 1)[1]
        # Extend over following space-separated tokens that continue the URL.
        while True:
            nxt = re.match(r"[ \t]+(\S+)", text[end:])
            if not nxt:
                break
            token = nxt.group(1)
            if token.startswith("http") or re.fullmatch(r"\d{1,2}", token):
                break  # next URL, or the next footnote's number
            if open_paren:
                end += nxt.end()
                if ")" in token or "예비" in token:
                    open_paren = ")" not in token
                    if not open_paren or "예비" in token:
                        break
                continue
            if _SLUG_FRAGMENT.match(token) and not re.search(r"[.,]$", text[start:end]):
                end += nxt.end()
                continue
            break
        raw = text[start:end].rstrip(".,;")
        found.append(FoundUrl(raw=raw, url=repair_url(raw), start=start, end=start + len(raw)))
    return found
