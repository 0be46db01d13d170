"""The reference registry: the documents the plan's footnotes cite.

`draft_registry` derives entries from the parsed footnotes (one per distinct document: the
U.S. Code section, the report URL...). The reviewed result is committed as
corpus/references.json; `load_registry` reads it and `attach_references` links each
footnote to its entries. A test keeps the committed file and the footnotes in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from assistant.errors import CorpusError
from assistant.types import Footnote, Reference

_USC = re.compile(r"(\d{1,2})\s*U\.?\s?S\.?\s?C\.?\s*(?:§\s*)?(\d{3,5}[a-z]?)")
_USC_URL = re.compile(r"title:(\d+)%20section:(\d+[a-z]?)")
_DATE = re.compile(r"\((?:[^()]*?)?(\d{4})년(?:\s*(\d{1,2})월)?(?:\s*(\d{1,2})일)?\)")
_STATUTE_URL = ("uscode.house.gov", "/plaws/", "/bills/")

USC_TITLES_EN = {
    ("15", "278s"): "15 U.S.C. § 278s — Manufacturing USA",
    ("42", "18972"): "42 U.S.C. § 18972 — Domestic production (CHIPS and Science Act § 10263)",
    (
        "10",
        "4022",
    ): "10 U.S.C. § 4022 — Authority of the DoD to carry out certain prototype projects",
    ("15", "4651"): "15 U.S.C. § 4651 — Definitions (CHIPS for America)",
    ("15", "4656"): "15 U.S.C. § 4656 — Advanced microelectronics research and development",
}


def usc_url(title: str, section: str) -> str:
    return f"https://uscode.house.gov/view.xhtml?req=(title:{title}%20section:{section}%20edition:prelim)"


def _date(text: str) -> str | None:
    matches = list(_DATE.finditer(text))
    if not matches:
        return None
    y, m, d = matches[-1].groups()
    return "-".join(p for p in (y, m and f"{int(m):02d}", d and f"{int(d):02d}") if p)


def _title_and_agency(segment: str) -> tuple[str, str | None]:
    """'Title, Agency(2022년 10월 7일).' -> ('Title', 'Agency')."""
    seg = re.sub(r"https?://\S+", "", segment).strip(" .,")
    seg = re.sub(r"\((?:[^()]*?)\d{4}년[^()]*\)\.?$", "", seg).strip(" .,")
    if not seg:
        return "", None
    parts = [p.strip() for p in seg.split(",")]
    if len(parts) >= 2 and len(parts[0]) > 3:
        return parts[0], ", ".join(parts[1:]) or None
    return seg, None


def _kind(text: str, url: str | None) -> str:
    if url and any(s in url for s in _STATUTE_URL):
        return "statute"
    if url and (url.lower().endswith(".pdf") or "/reports/" in url):
        return "report"
    if url is None:
        return "report"
    return "web_page"


def draft_registry(footnotes: list[Footnote]) -> list[Reference]:
    """One entry per distinct cited document, deduplicated by URL or U.S. Code section."""
    by_key: dict[str, Reference] = {}
    order: list[str] = []

    def put(key: str, ref: Reference, fid: str) -> None:
        if key in by_key:
            if fid not in by_key[key].footnote_ids:
                by_key[key].footnote_ids.append(fid)
            return
        by_key[key] = ref
        order.append(key)

    for fn in footnotes:
        text = fn.text
        cited_usc: set[tuple[str, str]] = set()
        for url in fn.urls:
            if m := _USC_URL.search(url):
                cited_usc.add((m.group(1), m.group(2)))
        if not cited_usc:  # a citation with no U.S. Code link printed: derive the link
            cited_usc = {(m.group(1), m.group(2)) for m in _USC.finditer(text)}
        for title, section in sorted(cited_usc):
            key = f"usc-{title}-{section}"
            printed = next((u for u in fn.urls if f"section:{section}" in u), None)
            raw = next((r for r, u in zip(fn.urls_raw, fn.urls, strict=True) if u == printed), None)
            put(
                key,
                Reference(
                    id=key,
                    footnote_ids=[fn.id],
                    title=text,
                    title_en=USC_TITLES_EN.get((title, section)),
                    agency="U.S. Congress (Office of the Law Revision Counsel)",
                    date=None,
                    url=printed or usc_url(title, section),
                    url_raw=raw,
                    url_repaired=bool(raw and raw != printed),
                    url_derived=printed is None,
                    kind="statute",
                ),
                fn.id,
            )
        others = [(u, r) for u, r in zip(fn.urls, fn.urls_raw, strict=True) if "uscode" not in u]
        if not others and not cited_usc:
            key = f"{fn.id}"
            title, agency = _title_and_agency(text)
            put(
                key,
                Reference(
                    id=key.replace("fn-", "fn"),
                    footnote_ids=[fn.id],
                    title=title or text,
                    agency=agency,
                    date=_date(text),
                    kind="report",
                ),
                fn.id,
            )
            continue
        # A footnote can cite several documents ("…, 그리고 …" in footnote 10).
        segments = re.split(r",\s*그리고\s+", text) if len(others) > 1 else [text]
        for idx, (url, raw) in enumerate(others):
            seg = next((s for s in segments if raw in s), text)
            title, agency = _title_and_agency(seg)
            base = fn.id.replace("fn-", "fn").replace("sidebar-", "sidebar")
            rid = base if len(others) == 1 else f"{base}{'abcdefgh'[idx]}"
            put(
                url.lower().rstrip("/"),
                Reference(
                    id=rid,
                    footnote_ids=[fn.id],
                    title=title or url,
                    agency=agency,
                    date=_date(seg),
                    url=url,
                    url_raw=raw,
                    url_repaired=raw != url,
                    kind=_kind(seg, url),
                ),
                fn.id,
            )
    return [by_key[k] for k in order]


def load_registry(path: Path) -> list[Reference]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(
            f"cannot read the reference registry {path}: {exc}",
            hint="Restore corpus/references.json from git.",
        ) from exc
    return [Reference.model_validate(r) for r in data["references"]]


def write_registry(path: Path, refs: list[Reference]) -> None:
    payload = {
        "about": "Documents cited by the footnotes of NIST AMS 600-15, drafted by "
        "`assistant corpus references --draft` and reviewed by hand. `title` is as given "
        "in the (machine-translated) footnote; `url` is the repaired URL; `url_raw` is as "
        "printed; `url_derived` marks U.S. Code links built from a citation.",
        "references": [r.model_dump(exclude_none=False) for r in refs],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def attach_references(footnotes: list[Footnote], refs: list[Reference]) -> list[Footnote]:
    """Footnotes with `reference_ids` filled from the registry."""
    by_note: dict[str, list[str]] = {}
    for r in refs:
        for fid in r.footnote_ids:
            by_note.setdefault(fid, []).append(r.id)
    return [fn.model_copy(update={"reference_ids": by_note.get(fn.id, [])}) for fn in footnotes]
