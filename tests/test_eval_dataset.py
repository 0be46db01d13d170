"""The bilingual question set is well-formed and agrees with the corpus parser's page map."""

import subprocess
import sys
from collections import Counter

import pytest

from assistant.corpus.plan import parse_plan
from assistant.paths import project_root
from evals.dataset import load_questions
from evals.metrics import evidence_overlap

ROOT = project_root()


@pytest.fixture(scope="module")
def questions():
    return load_questions(ROOT / "evals" / "questions.jsonl")


def test_standalone_checker_passes():
    out = subprocess.run([sys.executable, str(ROOT / "evals" / "check_questions.py")], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def test_composition(questions):
    langs = Counter(q.lang for q in questions)
    assert langs["en"] >= 20 and langs["ko"] >= 20 and len(questions) >= 40
    assert sum(not q.answerable for q in questions) >= 8
    assert sum(bool(q.history) for q in questions) >= 6
    assert {"table", "footnote"} <= {q.type for q in questions}


def test_every_gold_evidence_is_on_its_page_in_our_page_map(questions):
    plan = parse_plan(ROOT / "corpus/plan/nist-ams-600-15.ko.txt", ROOT / "corpus/plan/outline.yaml")
    pages: dict[int, str] = {}
    for p in plan.passages:
        if p.page_start:
            pages[p.page_start] = pages.get(p.page_start, "") + " " + p.text
    wrong = []
    for q in questions:
        if not q.answerable:
            continue
        best = max(pages, key=lambda n: evidence_overlap(q.evidence, pages[n]))
        if evidence_overlap(q.evidence, pages[best]) < 0.6 or best != q.page:
            wrong.append((q.id, q.page, best))
    assert wrong == []
