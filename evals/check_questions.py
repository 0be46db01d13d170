#!/usr/bin/env python3
"""Standalone checker for the evaluation question set (evals/questions.jsonl).

Usage:  python evals/check_questions.py [questions.jsonl] [--plan PATH] [-v]

Stdlib only.  It parses the Korean machine translation of the Manufacturing USA
Strategic Plan (NIST AMS 600-15) into printed pages using the running footers,
and validates every question line:

* schema (required keys, types, allowed values, id uniqueness, lang vs id prefix);
* ``evidence`` is a substring of the whitespace-normalised plan text, lies on a
  single page, and that page is the stated ``page``;
* every inner list of ``answer_keys`` has an alternative in the evidence
  (or, with a warning only, elsewhere on the evidence's page);
* unanswerable lines have empty evidence / keys and ``page: null``;
* follow-up lines have a non-empty ``history``;
* ``split`` is ``dev`` or ``test`` (the ``test`` part is frozen: never tuned on).

Page rules (footer lines close page N; the text after the footer is page N+1):
  ``미국 제조 프로그램 N을/를 위한 전략적 계획``
  ``미국 제조 프로그램을 위한 전략적 계획 N``
  ``미국 제조 프로그램을 위한 전략적 계획`` followed by a line holding only N
  the page-27 sidebar block ``27 / 미국 제조 프로그램을 위한 전략적 계획 /
  제조 미국 전략 계획 / 27``
  ``MANUFACTURING USA 프로그램을 위한 전략적 계획 i`` closes the front matter
  (page None); text after the page-44 footer is the back cover (not a page).

Exit status: 0 when there are no errors, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_QUESTIONS = HERE / "questions.jsonl"
DEFAULT_PLAN = HERE.parent / "corpus" / "plan" / "nist-ams-600-15.ko.txt"

LAST_PAGE = 44
FRONT = "front"
BACK = "back"

RE_FRONT_END = re.compile(r"^\s*MANUFACTURING USA 프로그램을 위한 전략적 계획\s+i\s*$")
RE_FOOTER_MID = re.compile(r"^\s*미국 제조 프로그램\s*(\d{1,2})\s*(?:을|를)\s*위한 전략적 계획\s*$")
RE_FOOTER_END = re.compile(r"^\s*미국 제조 프로그램을 위한 전략적 계획\s+(\d{1,2})\s*$")
RE_FOOTER_BARE = re.compile(r"^\s*미국 제조 프로그램을 위한 전략적 계획\s*$")
RE_NUMBER_LINE = re.compile(r"^\s*(\d{1,2})\s*$")
RE_SIDEBAR_2ND = re.compile(r"^\s*제조 미국 전략 계획\s*$")

REQUIRED = {
    "id": str,
    "lang": str,
    "question": str,
    "answerable": bool,
    "answer_keys": list,
    "evidence": str,
    "type": str,
}
ALLOWED_KEYS = set(REQUIRED) | {"page", "history", "also_evidence", "split"}
TYPES = {
    "fact",
    "number",
    "table",
    "footnote",
    "list",
    "definition",
    "followup",
    "unanswerable",
    "structured",
    "multihop",
}
SPLITS = {"dev", "test"}
# An optional set prefix: t- (the frozen general test set), st- (the structured set).
ID_RE = re.compile(r"^(?:(?:t|st)-)?(en|ko|fu-en|fu-ko|un-en|un-ko)-(\d{3})$")

# MT artifacts in the plan text and the real names they stand for.  Used only
# when checking whether an answer key is supported by the evidence: the keys
# hold the real names (an answer should say "DOE", not "암사슴").
MT_ARTIFACTS = {
    "암사슴": ["DOE", "Department of Energy", "에너지부"],
    "의사": ["DOC", "Department of Commerce", "상무부"],
    "상학과": ["DOC", "Department of Commerce", "상무부"],
    "국방부": ["DoD", "Department of Defense"],
    "준": ["June", "6월"],
    "승강기": ["LIFT"],
    "빠른": ["RAPID"],
    "리메이크": ["REMADE"],
    "사이맨 2": ["CyManII"],
    "무기|BioFabUSA": ["ARMI", "ARMI|BioFabUSA", "BioFabUSA"],
    "AFFA": ["AFFOA"],
    "미국이 만든다": ["America Makes"],
    "미국 제작": ["America Makes"],
    "조작": ["manufacturing", "제조"],
    "연수회": ["institute", "연구소"],
    "학회": ["institute", "연구소"],
    "미국 제조": ["Manufacturing USA"],
    "제조 미국": ["Manufacturing USA"],
    "교육학과": ["ED", "Department of Education", "교육부"],
    "에너지학과": ["DOE", "Department of Energy", "에너지부"],
}

# Facts the page rules must reproduce: (evidence, page, label)
PAGE_FACTS = [
    ("Manufacturing USA 프로그램의 비전은 혁신적인 기술을", 7, "Vision (비전)"),
    ("이 비전을 지원하기 위해 Manufacturing USA 프로그램의 사명은", 7, "Mission (사명)"),
    ("표 2. 미국 제조업의 전략적 목표 및 목적", 9, "Table 2 (표 2)"),
    ("부록 A. 미국 제조에 참여하는 연방 기관", 36, "Appendix A (부록 A)"),
    ("부록 B. 약어", 42, "Appendix B (부록 B)"),
]


def norm(text: str) -> str:
    """Collapse every run of whitespace (incl. newlines) to one space; strip."""
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- plan
class Plan:
    """The plan split into printed pages by the footer rules."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.line_page: list[object] = []  # page label per line (None for footer lines)
        self.footers: list[tuple[int, int]] = []  # (line index, page closed)
        self._parse()
        self.page_lines: dict[object, list[str]] = defaultdict(list)
        for line, page in zip(self.lines, self.line_page, strict=False):
            if page is not None:
                self.page_lines[page].append(line)
        self.page_text = {p: norm("\n".join(ls)) for p, ls in self.page_lines.items()}
        self.full_text = norm("\n".join(self.lines))

    def _parse(self) -> None:
        # the MT uses NO-BREAK SPACEs throughout: match the footer rules on
        # whitespace-normalised lines
        lines = [norm(line) for line in self.lines]
        n = len(lines)
        current: object = FRONT
        labels: list[object] = [None] * n
        i = 0
        while i < n:
            line = lines[i]
            closed = None  # page number closed by a footer starting at line i
            span = 0  # number of lines forming the footer
            if current == FRONT and RE_FRONT_END.match(line):
                labels[i] = None
                current = 1
                i += 1
                continue
            m_num = RE_NUMBER_LINE.match(line)
            if (
                m_num
                and i + 3 < n
                and RE_FOOTER_BARE.match(lines[i + 1])
                and RE_SIDEBAR_2ND.match(lines[i + 2])
                and RE_NUMBER_LINE.match(lines[i + 3])
                and RE_NUMBER_LINE.match(lines[i + 3]).group(1) == m_num.group(1)
            ):
                closed, span = int(m_num.group(1)), 4
            elif (m := RE_FOOTER_MID.match(line)) or (m := RE_FOOTER_END.match(line)):
                closed, span = int(m.group(1)), 1
            elif RE_FOOTER_BARE.match(line) and i + 1 < n and RE_NUMBER_LINE.match(lines[i + 1]):
                closed, span = int(RE_NUMBER_LINE.match(lines[i + 1]).group(1)), 2
            if closed is not None and current not in (FRONT, BACK):
                if closed != current:
                    raise ValueError(
                        f"{self.path}:{i + 1}: footer closes page {closed} "
                        f"but the running page is {current}"
                    )
                self.footers.append((i, closed))
                for k in range(i, i + span):
                    labels[k] = None
                current = BACK if closed == LAST_PAGE else closed + 1
                i += span
                continue
            labels[i] = current
            i += 1
        if current != BACK:
            raise ValueError(
                f"{self.path}: page parsing ended on page {current}, expected the back cover"
            )
        self.line_page = labels

    def pages_of(self, evidence: str) -> list[object]:
        ev = norm(evidence)
        return [p for p, t in self.page_text.items() if ev in t]

    def page_of(self, evidence: str) -> object:
        """Printed page of evidence: int, None (front matter), 'back', or raises."""
        pages = self.pages_of(evidence)
        if not pages:
            raise KeyError(f"evidence not found on any single page: {evidence!r}")
        if len(pages) > 1:
            raise KeyError(f"evidence found on several pages {pages}: {evidence!r}")
        p = pages[0]
        return None if p == FRONT else p


def assert_page_facts(plan: Plan) -> list[str]:
    errors = []
    closed = [p for _, p in plan.footers]
    if closed != list(range(1, LAST_PAGE + 1)):
        errors.append(f"footers do not run 1..{LAST_PAGE}: {closed}")
    for ev, page, label in PAGE_FACTS:
        try:
            got = plan.page_of(ev)
        except KeyError as exc:
            errors.append(f"page fact {label}: {exc}")
            continue
        if got != page:
            errors.append(f"page fact {label}: expected page {page}, computed {got}")
    return errors


# ----------------------------------------------------------------------- checks
def expand_artifacts(text: str) -> str:
    extra = [
        alias
        for art, aliases in MT_ARTIFACTS.items()
        if re.search(r"(?<![가-힣A-Za-z])" + re.escape(art) + r"(?![가-힣A-Za-z])", text)
        for alias in aliases
    ]
    return text + (" || " + " | ".join(extra) if extra else "")


def key_present(alts: list[str], text: str) -> bool:
    low = text.lower()
    return any(norm(a).lower() in low for a in alts)


def check_line(obj: dict, plan: Plan, errors: list[str], warnings: list[str], where: str) -> None:
    def err(msg: str) -> None:
        errors.append(f"{where}: {msg}")

    def warn(msg: str) -> None:
        warnings.append(f"{where}: {msg}")

    for key, typ in REQUIRED.items():
        if key not in obj:
            err(f"missing key {key!r}")
        elif not isinstance(obj[key], typ):
            err(f"key {key!r} must be {typ.__name__}, got {type(obj[key]).__name__}")
    if "page" not in obj:
        err("missing key 'page'")
    extra = set(obj) - ALLOWED_KEYS
    if extra:
        err(f"unexpected keys {sorted(extra)}")
    if errors and errors[-1].startswith(where) and any(k not in obj for k in REQUIRED):
        return

    qid, lang, qtype = obj["id"], obj["lang"], obj["type"]
    m = ID_RE.match(qid)
    if not m:
        err(
            f"bad id {qid!r} (expected [t-|st-]en-NNN, ko-NNN, fu-en-NNN, fu-ko-NNN, un-en-NNN, un-ko-NNN)"
        )
        prefix = ""
    else:
        prefix = m.group(1)
    if obj.get("split") not in SPLITS:
        err(f"split must be one of {sorted(SPLITS)}, got {obj.get('split')!r}")
    if lang not in ("en", "ko"):
        err(f"lang must be 'en' or 'ko', got {lang!r}")
    elif prefix and not prefix.endswith(lang):
        err(f"lang {lang!r} does not match id prefix {prefix!r}")
    if qtype not in TYPES:
        err(f"type {qtype!r} not in {sorted(TYPES)}")
    if not obj["question"].strip():
        err("empty question")
    if lang == "ko" and not re.search(r"[가-힣]", obj["question"]):
        err("Korean question without Hangul")
    if lang == "en" and re.search(r"[가-힣]", obj["question"]):
        err("English question contains Hangul")

    history = obj.get("history")
    if prefix.startswith("fu"):
        if qtype != "followup":
            err("follow-up id must have type 'followup'")
        if not isinstance(history, list) or not history:
            err("follow-up needs a non-empty history")
    elif history is not None:
        if not isinstance(history, list):
            err("history must be a list")
        elif history:
            warn("history on a non-follow-up line")
    if qtype == "followup" and not prefix.startswith("fu"):
        err("type 'followup' needs an fu- id")
    if isinstance(history, list):
        for j, turn in enumerate(history):
            if not (
                isinstance(turn, dict)
                and set(turn) == {"role", "content"}
                and turn.get("role") in ("user", "assistant")
                and isinstance(turn.get("content"), str)
                and turn["content"].strip()
            ):
                err(f"history[{j}] must be {{'role': 'user'|'assistant', 'content': str}}")
        if history and history[0].get("role") != "user":
            err("history must start with a user turn")

    keys = obj["answer_keys"]
    for j, inner in enumerate(keys):
        if not (
            isinstance(inner, list)
            and inner
            and all(isinstance(a, str) and a.strip() for a in inner)
        ):
            err(f"answer_keys[{j}] must be a non-empty list of non-empty strings")
    if len(keys) > 3 and qtype not in ("list", "structured", "multihop"):
        warn(f"{len(keys)} answer-key groups (keep to the essential fact)")

    evidence, page, answerable = obj["evidence"], obj["page"], obj["answerable"]
    if prefix.startswith("un") or qtype == "unanswerable":
        if not (prefix.startswith("un") and qtype == "unanswerable"):
            err("unanswerable lines need an un- id and type 'unanswerable'")
        if answerable:
            err("unanswerable line must have answerable: false")
        if evidence != "" or keys != [] or page is not None:
            err("unanswerable line must have evidence '', answer_keys [] and page null")
        return

    if not answerable:
        err("answerable must be true (only un- lines are unanswerable)")
    if not keys:
        err("answerable line needs answer_keys")
    if not isinstance(page, int) or isinstance(page, bool):
        err(f"page must be an integer, got {page!r}")
    ev = norm(evidence)
    if ev != evidence:
        warn("evidence is not whitespace-normalised")
    if not 15 <= len(ev) <= 120:
        err(f"evidence length {len(ev)} outside 15..120")
    if ev not in plan.full_text:
        err(f"evidence not a substring of the plan text: {ev!r}")
        return
    pages = plan.pages_of(ev)
    if not pages:
        err(f"evidence spans a footer / page break: {ev!r}")
        return
    if len(pages) > 1:
        warn(f"evidence occurs on several pages {pages}")
    if page not in pages:
        shown = [None if p == FRONT else p for p in pages]
        err(f"evidence is on page {shown}, line says page {page}")
        return
    for j, alt in enumerate(obj.get("also_evidence", [])):
        # Another passage stating the same fact: same rules as the main evidence.
        if not (
            isinstance(alt, dict)
            and set(alt) == {"evidence", "page"}
            and isinstance(alt["evidence"], str)
            and isinstance(alt["page"], int)
        ):
            err(f"also_evidence[{j}] must be {{'evidence': str, 'page': int}}")
            continue
        alt_ev = norm(alt["evidence"])
        alt_pages = plan.pages_of(alt_ev) if alt_ev in plan.full_text else []
        if not 15 <= len(alt_ev) <= 120 or alt["page"] not in alt_pages:
            err(
                f"also_evidence[{j}] not found on page {alt['page']} (pages {alt_pages}): {alt_ev!r}"
            )
    ev_text = expand_artifacts(
        ev
        + " "
        + " ".join(norm(a["evidence"]) for a in obj.get("also_evidence", []) if isinstance(a, dict))
    )
    also_pages = {
        a["page"]
        for a in obj.get("also_evidence", [])
        if isinstance(a, dict) and a.get("page") in plan.page_text
    }
    page_text = expand_artifacts(" ".join(plan.page_text[p] for p in [page, *sorted(also_pages)]))
    for j, inner in enumerate(keys):
        if not isinstance(inner, list):
            continue
        if key_present(inner, ev_text):
            continue
        if key_present(inner, page_text):
            warn(f"answer_keys[{j}] {inner} found on page {page} but not in the evidence")
        else:
            err(f"answer_keys[{j}] {inner} not found in the evidence or on page {page}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT_QUESTIONS))
    ap.add_argument("--plan", default=str(DEFAULT_PLAN))
    ap.add_argument("-v", "--verbose", action="store_true", help="print warnings too")
    args = ap.parse_args(argv)

    errors: list[str] = []
    warnings: list[str] = []
    plan = Plan(Path(args.plan))
    errors += assert_page_facts(plan)

    raw = Path(args.path).read_text(encoding="utf-8")
    seen: set[str] = set()
    counts = Counter()
    by_lang_type: dict[str, Counter] = defaultdict(Counter)
    n = 0
    for lineno, line in enumerate(raw.split("\n"), 1):
        if not line.strip():
            if lineno != len(raw.split("\n")):  # a trailing newline is fine
                errors.append(f"line {lineno}: blank line")
            continue
        where = f"line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        n += 1
        qid = obj.get("id")
        where = f"line {lineno} ({qid})"
        if qid in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(qid)
        check_line(obj, plan, errors, warnings, where)
        lang, qtype = obj.get("lang"), obj.get("type")
        counts[(lang, "answerable" if obj.get("answerable") else "unanswerable")] += 1
        by_lang_type[str(lang)][str(qtype)] += 1

    print(
        f"plan: {args.plan}: {len(plan.footers)} footers, pages 1..{LAST_PAGE}; "
        f"page facts checked: " + ", ".join(f"{lbl}=p{pg}" for _, pg, lbl in PAGE_FACTS)
    )
    print(f"questions: {args.path}: {n} lines")
    for lang in sorted(by_lang_type):
        total = sum(by_lang_type[lang].values())
        detail = ", ".join(f"{t}={c}" for t, c in sorted(by_lang_type[lang].items()))
        print(
            f"  {lang}: {total} ({counts[(lang, 'answerable')]} answerable, "
            f"{counts[(lang, 'unanswerable')]} unanswerable) - {detail}"
        )
    if args.verbose or len(warnings) <= 20:
        for w in warnings:
            print(f"WARN  {w}")
    for e in errors:
        print(f"ERROR {e}")
    print(f"{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
