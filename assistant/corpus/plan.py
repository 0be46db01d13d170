"""Parse the plan's Korean machine translation into pages, sections, footnotes and passages.

load -> clean -> structure:
* pages: a running footer closes printed page N (``미국 제조 프로그램 N을 위한 전략적 계획``,
  ``… 전략적 계획 N`` or the number on the next line); the text after it is page N+1, so
  pages match the official English PDF.
* footnotes: the block at the bottom of each page, split by the expected running number
  (some numbers were lost and only the URL is left); markers glued to sentence ends in the
  body (``…했습니다.4``) link passages to them.
* sections: the reviewed outline (corpus/plan/outline.yaml) names each heading, its page and
  its English title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.corpus.tables import (
    check_goals,
    check_institutes,
    parse_goals_table,
    parse_institutes_table,
)
from assistant.corpus.urls import find_urls
from assistant.errors import CorpusError
from assistant.knowledge.glossary import glossary
from assistant.knowledge.records import records as reviewed_records
from assistant.types import Footnote, GoalRecord, InstituteRecord, Passage, Records

_FOOTER_N_BEFORE = re.compile(r"^미국 제조 프로그램 (\d{1,2})[을를] 위한 전략적 계획\s*$")
_FOOTER_N_AFTER = re.compile(r"^미국 제조 프로그램을 위한 전략적 계획\s+(\d{1,2})\s*$")
_FOOTER_BARE = re.compile(r"^미국 제조 프로그램을 위한 전략적 계획\s*$")
_FOOTER_SIDEBAR = re.compile(r"^제조 미국 전략 계획\s*$")
_LONE_NUMBER = re.compile(r"^\s*(\d{1,2})\s*$")


@dataclass
class Page:
    number: int  # printed page; 0 = front matter
    lines: list[str]


@dataclass
class Outline:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Outline:
        try:
            return cls(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            raise CorpusError(f"cannot read the plan outline {path}: {exc}") from exc

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    @property
    def doc_id(self) -> str:
        return self.raw["document"]["doc_id"]


@dataclass
class PlanParse:
    pages: list[Page]
    passages: list[Passage]
    footnotes: list[Footnote]
    records: Records
    sections: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- load/clean


def read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read the plan source {path}: {exc}") from exc
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\r\n", "\n")
    return [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]


def paginate(lines: list[str], outline: Outline) -> list[Page]:
    """Split cleaned lines into printed pages using the running footers."""
    start = next((i for i, ln in enumerate(lines) if re.match(outline["start"], ln)), None)
    if start is None:
        raise CorpusError("the plan's title line was not found: is this the right source file?")
    front_end = next(
        (i for i, ln in enumerate(lines) if re.match(outline["front_matter_end"], ln)), None
    )
    if front_end is None:
        raise CorpusError("the end of the plan's front matter (page i footer) was not found")
    toc = next(
        (i for i in range(start, front_end) if re.match(outline["toc"], lines[i])), front_end
    )
    pages = [Page(0, [ln for ln in lines[start:toc] if ln])]

    current: list[str] = []
    expected = 1
    i = front_end + 1
    while i < len(lines):
        line = lines[i]
        number: int | None = None
        consumed = 1
        if m := _FOOTER_N_BEFORE.match(line) or _FOOTER_N_AFTER.match(line):
            number = int(m.group(1))
        elif _FOOTER_BARE.match(line):
            nxt = next((j for j in range(i + 1, min(i + 3, len(lines))) if lines[j]), None)
            if nxt is not None and (m := _LONE_NUMBER.match(lines[nxt])):
                number, consumed = int(m.group(1)), nxt - i + 1
            elif nxt is not None and _FOOTER_SIDEBAR.match(lines[nxt]):
                # Sidebar page: "27 / 미국 제조… / 제조 미국 전략 계획 / 27".
                after = next(
                    (j for j in range(nxt + 1, min(nxt + 3, len(lines))) if lines[j]), None
                )
                if after is not None and (m := _LONE_NUMBER.match(lines[after])):
                    number, consumed = int(m.group(1)), after - i + 1
                    while current and _LONE_NUMBER.match(current[-1]):
                        current.pop()  # the page number printed above the footer
        if number is None:
            if line:
                current.append(line)
            i += 1
            continue
        if number != expected:
            raise CorpusError(f"page footer {number} found where page {expected} was expected")
        pages.append(Page(number, current))
        current, expected = [], expected + 1
        i += consumed
    last = outline["document"]["pages"]
    if len(pages) - 1 != last:
        raise CorpusError(f"found {len(pages) - 1} numbered pages, the outline says {last}")
    # Whatever follows the last footer is the back cover (office name, report codes).
    return pages


def drop_debris(pages: list[Page], outline: Outline) -> None:
    patterns = [re.compile(p) for p in outline["debris"]]
    for page in pages:
        page.lines = [ln for ln in page.lines if not any(p.match(ln) for p in patterns)]


# ---------------------------------------------------------------------------- footnotes


def _numbered_line(n: int) -> re.Pattern[str]:
    return re.compile(rf"^{n}\s+\S")


def _split_footnote_zone(zone: str, first: int, page: int) -> list[tuple[int, str]]:
    """Split the footnote block of a page into (number, text) by the running number."""
    items: list[tuple[int, str]] = []
    pos, k = 0, first
    while pos < len(zone.strip()) and zone[pos:].strip():
        found = None
        for ahead in range(0, 4):
            m = re.compile(rf"(?:^|(?<=\s)){k + ahead}\s+(?=\S)", re.M).search(zone, pos)
            if m and (m.start() == pos or zone[pos : m.start()].strip()):
                found = (k + ahead, m)
                break
            if m and m.start() == pos:
                found = (k + ahead, m)
                break
        if found is None:
            orphan_end = len(zone)
        else:
            orphan_end = found[1].start()
        orphan = zone[pos:orphan_end].strip()
        if orphan:
            # Text before the next numbered note: notes whose number the MT dropped. Each
            # starts on its own line with a URL.
            parts = [p.strip() for p in re.split(r"\n(?=https?://)", orphan) if p.strip()]
            missing = (found[0] - k) if found else len(parts)
            if found and len(parts) != missing:
                if items and len(parts) == 1 and missing == 0:
                    num, text = items[-1]
                    items[-1] = (num, f"{text}\n{orphan}")
                    parts = []
                else:
                    raise CorpusError(
                        f"page {page}: cannot assign footnotes {k}..{found[0] - 1} to {parts!r}"
                    )
            for part in parts:
                items.append((k, part))
                k += 1
        if found is None:
            break
        number, m = found
        nxt = re.compile(rf"(?:^|(?<=\s)){number + 1}\s+(?=\S)", re.M).search(zone, m.end())
        # The next note may also start as a bare URL on a new line.
        bare = re.compile(r"\n(?=https?://)").search(zone, m.end())
        end = len(zone)
        if nxt:
            end = nxt.start()
        text = zone[m.end() : end]
        if bare and bare.start() < end and _has_url(zone[m.end() : bare.start()]):
            end = bare.start()
            text = zone[m.end() : end]
        items.append((number, text.strip()))
        pos, k = end, number + 1
    return items


def _has_url(text: str) -> bool:
    return bool(re.search(r"https?://", text))


def _zone_start(lines: list[str], expected: int) -> int | None:
    numbered = _numbered_line(expected)
    for i, line in enumerate(lines):
        if numbered.match(line) or line.startswith(("http://", "https://")):
            return i
    return None


def extract_footnotes(pages: list[Page], outline: Outline) -> list[Footnote]:
    """Remove footnote blocks from the pages and return the footnotes."""
    notes: list[Footnote] = []
    sidebar_page = outline["sidebar"]["page"]
    expected = 1
    for page in pages:
        if page.number == 0:
            kept = []
            for line in page.lines:
                if line.startswith("* "):
                    text = line[2:].strip()
                    notes.append(_footnote("fn-title", None, "title", None, text))
                else:
                    kept.append(line)
            page.lines = kept
            continue
        is_sidebar = page.number == sidebar_page
        first = 1 if is_sidebar else expected
        start = _zone_start(page.lines, first)
        if start is None:
            continue
        zone = "\n".join(page.lines[start:])
        items = _split_footnote_zone(zone, first, page.number)
        page.lines = page.lines[:start]
        for number, text in items:
            scope = "sidebar" if is_sidebar else "main"
            fid = f"sidebar-{number}" if is_sidebar else f"fn-{number}"
            notes.append(_footnote(fid, number, scope, page.number, text))
        if not is_sidebar and items:
            expected = items[-1][0] + 1
    return notes


def _footnote(fid: str, number: int | None, scope: str, page: int | None, text: str) -> Footnote:
    text = re.sub(r"\s+", " ", text).strip()
    urls = find_urls(text)
    return Footnote(
        id=fid,
        number=number,
        scope=scope,  # type: ignore[arg-type]
        page=page,
        text=text,
        urls=[u.url for u in urls],
        urls_raw=[u.raw for u in urls],
    )


def link_markers(text: str, numbers: set[int]) -> tuple[str, list[int]]:
    """Remove footnote markers glued to sentence ends and return the numbers found.

    Only numbers of footnotes printed on the same page count, so "코로나19" or "2,500개"
    are never taken for markers.
    """
    found: list[int] = []

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n in numbers:
            found.append(n)
            return ""
        return m.group(0)

    # "코로나19"/"COVID-19" end in digits too: never markers.
    cleaned = re.sub(
        r"(?<!코로나)(?<!COVID-)(?<=[\uac00-\ud7a3A-Za-z)\]”\"’.,])(\d{1,2})(?=[\s,.)]|$)",
        repl,
        text,
    )
    return cleaned, found


# ---------------------------------------------------------------------------- structure


@dataclass
class _Heading:
    page: int
    pattern: re.Pattern[str]
    title: str
    level: int
    inline: bool


class _SectionTracker:
    """Walks the outline's headings in order; each heading must be met on its page."""

    def __init__(self, outline: Outline) -> None:
        self.headings = [
            _Heading(
                h["page"], re.compile(h["match"]), h["title"], h["level"], h.get("inline", False)
            )
            for h in outline["headings"]
        ]
        self.next = 0
        self.stack: list[tuple[int, str]] = []

    def match(self, page: int, line: str) -> _Heading | None:
        if self.next >= len(self.headings):
            return None
        h = self.headings[self.next]
        if h.page == page and h.pattern.match(line):
            self.next += 1
            self.stack = [(lvl, t) for lvl, t in self.stack if lvl < h.level] + [(h.level, h.title)]
            return h
        if h.page < page:
            raise CorpusError(f"heading {h.title!r} expected on page {h.page} was not found")
        return None

    @property
    def path(self) -> list[str]:
        return [t for _, t in self.stack]

    def finish(self) -> None:
        if self.next < len(self.headings):
            h = self.headings[self.next]
            raise CorpusError(f"heading {h.title!r} (page {h.page}) was not found")


def _split_inline_heading(line: str) -> tuple[str, str]:
    """'목표 1.1: <title>. <body>' -> ('목표 1.1: <title>.', '<body>')."""
    m = re.match(r"^(목표 \d\.\d:\s*.+?(?:니다|다|요)\.)\s*(.*)$", line)
    if not m:
        return line, ""
    return m.group(1), m.group(2)


def parse_plan(source: Path, outline_path: Path) -> PlanParse:
    outline = Outline.load(outline_path)
    lines = read_lines(source)
    pages = paginate(lines, outline)
    drop_debris(pages, outline)
    footnotes = extract_footnotes(pages, outline)
    gl = glossary()
    doc_id = outline.doc_id
    tracker = _SectionTracker(outline)
    passages: list[Passage] = []
    recs = reviewed_records()
    notes_by_page: dict[int, dict[int, Footnote]] = {}
    for fn in footnotes:
        if fn.page is not None and fn.number is not None:
            notes_by_page.setdefault(fn.page, {})[fn.number] = fn
    sidebar = outline["sidebar"]
    figures = {f["page"]: f for f in outline["figures"]}
    t_inst = outline["tables"]["institutes"]
    t_goals = outline["tables"]["goals"]
    marker_hits: set[str] = set()
    seq = 0

    def add(
        kind: str,
        text: str,
        page: int,
        footnote_ids: list[str],
        page_end: int | None = None,
        path: list[str] | None = None,
        record: str | None = None,
    ) -> None:
        nonlocal seq
        seq += 1
        passages.append(
            Passage(
                passage_id=f"{doc_id}#{seq:04d}",
                doc_id=doc_id,
                kind=kind,  # type: ignore[arg-type]
                text=text,
                lang="ko",
                page_start=page or None,
                page_end=(page_end or page) or None,
                section_path=path or tracker.path or ["Front matter"],
                footnotes=footnote_ids,
                entities=gl.entities_in(text),
                record=record,
            )
        )

    table_lines: list[tuple[int, str]] = []
    in_table: str | None = None
    for page in pages:
        fig = figures.get(page.number)
        in_figure = False
        figure_labels: list[str] = []
        local_notes = notes_by_page.get(page.number, {})
        for line in page.lines:
            if fig and re.match(fig["start"], line):
                in_figure = True
            if in_figure:
                if re.match(fig["caption"], line):
                    in_figure = False
                    tracker.match(page.number, line)
                    text = f"{line} ({fig['title']})"
                    if fig.get("keep_labels"):
                        text += " " + ", ".join(figure_labels)
                    if fig.get("text_en"):
                        text += " " + fig["text_en"]
                    add("figure", text, page.number, [], path=[*tracker.path[:1], fig["title"]])
                else:
                    figure_labels.append(line)
                continue
            heading = tracker.match(page.number, line)
            if in_table and heading is not None and not heading.title.startswith("Table"):
                _flush_table(in_table, table_lines, t_inst, t_goals, recs, add)
                in_table, table_lines = None, []
            if in_table:
                table_lines.append((page.number, line))
                continue
            if heading is not None:
                if heading.title.startswith("Table 1"):
                    in_table = "institutes"
                    continue
                if heading.title.startswith("Table 2"):
                    in_table = "goals"
                    continue
                if not heading.inline:
                    continue  # heading text is in section_path
                title_ko, line = _split_inline_heading(line)
                add("heading", title_ko, page.number, [])
                if not line:
                    continue
            text, numbers = link_markers(line, set(local_notes))
            ids = []
            for n in numbers:
                fid = ("sidebar-" if page.number == sidebar["page"] else "fn-") + str(n)
                ids.append(fid)
                marker_hits.add(fid)
            kind = "list" if text.startswith("•") else "text"
            add(kind, text.strip(), page.number, ids)
        if in_table == "goals" and page.number != t_goals["page"]:
            pass
    if in_table:
        _flush_table(in_table, table_lines, t_inst, t_goals, recs, add)
    tracker.finish()

    # Notes whose marker sits on a neighbouring page: find them by number there.
    _link_orphan_markers(passages, footnotes, marker_hits, sidebar["page"])

    # Footnotes are passages too (answers can sit in them), in the section of their marker.
    section_of_note: dict[str, list[str]] = {}
    section_of_page: dict[int, list[str]] = {}
    for p in passages:
        for fid in p.footnotes:
            section_of_note.setdefault(fid, p.section_path)
        if p.page_start is not None:
            section_of_page[p.page_start] = p.section_path
    for fn in footnotes:
        label = {
            "main": f"Footnote {fn.number}",
            "title": "Title-page note",
            "sidebar": f"Sidebar footnote {fn.number}",
        }[fn.scope]
        base = section_of_note.get(fn.id) or section_of_page.get(fn.page or 0, ["Front matter"])
        add("footnote", f"{label}: {fn.text}", fn.page or 0, [fn.id], path=[*base, label])
    sections = sorted({" > ".join(p.section_path) for p in passages})
    return PlanParse(pages, passages, footnotes, recs, sections)


def _flush_table(kind, table_lines, t_inst, t_goals, recs: Records, add) -> None:  # noqa: ANN001
    """Check the table's lines against the reviewed records, then add one passage per record."""
    if kind == "institutes":
        parsed = parse_institutes_table(
            [ln for _, ln in table_lines],
            first_page=t_inst["pages"][0],
            page_of_line=[pg for pg, _ in table_lines],
        )
        check_institutes(parsed, recs.institutes)
        for r in recs.institutes:
            add(
                "table_row",
                institute_passage_text(r),
                r.page,
                [],
                path=["Manufacturing USA Program overview", t_inst["title"], r.acronym],
                record=r.id,
            )
    else:
        check_goals(parse_goals_table([ln for _, ln in table_lines]), recs.goals, t_goals["page"])
        for g in recs.goals:
            add(
                "goal",
                goal_passage_text(g),
                g.table_page,
                [],
                path=[
                    "Manufacturing USA Program strategy",
                    "Goals and objectives",
                    t_goals["title"],
                    f"Goal {g.number}",
                ],
                record=g.id,
            )


def institute_passage_text(r: InstituteRecord) -> str:
    """One clean row of Table 1, in Korean with the English field values."""
    gl = glossary()
    return (
        f"표 1 연구소: {r.acronym} ({r.full_name_en}; MT: {r.name_ko_mt}). "
        f"기술 중점 영역: {r.focus_ko_mt} (Technology focus: {r.focus_en}). "
        f"후원 기관: {r.agency} (Sponsoring agency: {gl.by_key[r.agency].name_en}; MT: {r.agency_ko_mt}). "
        f"본사 위치: {r.hq_ko_mt} (Headquarters: {r.hq_en}). "
        f"설립: {r.established_ko} (Established: {r.established_en})."
    )


def goal_passage_text(g: GoalRecord) -> str:
    objectives = " ".join(
        f"목표 {o.number}: {o.title_ko_mt} (Objective {o.number}: {o.title_en})"
        for o in g.objectives
    )
    outcome = f" 기대 결과: {g.outcome_ko_mt}" if g.outcome_ko_mt else ""
    return f"표 2 목표 {g.number}: {g.title_ko_mt} (Goal {g.number}: {g.title_en}). {objectives}{outcome}"


def _link_orphan_markers(
    passages: list[Passage], footnotes: list[Footnote], hits: set[str], sidebar_page: int
) -> None:
    for fn in footnotes:
        if fn.id in hits or fn.number is None or fn.page is None or fn.scope != "main":
            continue
        for i, p in enumerate(passages):
            if p.kind == "footnote" or p.page_start not in (fn.page - 1, fn.page + 1):
                continue
            text, found = link_markers(p.text, {fn.number})
            if found:
                passages[i] = p.model_copy(
                    update={"text": text, "footnotes": [*p.footnotes, fn.id]}
                )
                hits.add(fn.id)
                break
