"""Adding, replacing, removing and loading user documents (real files, real parsers)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from assistant.corpus.documents import (
    add_document,
    documents_by_ref,
    list_documents,
    load_added_documents,
    read_manifest,
    remove_document,
)
from assistant.corpus.extract import extract
from assistant.corpus.references import load_registry
from assistant.errors import CorpusError
from assistant.paths import committed
from assistant.settings import Settings, load_settings
from assistant.types import Reference
from tests.fixtures.pdf import make_pdf

USCODE = Path(__file__).resolve().parents[1].parent / "shared" / "corpus-extra" / "uscode"


PDF = make_pdf(
    [
        ["Workforce report", "Manufacturing USA institutes trained many workers."],
        ["Page two mentions America Makes and LIFT."],
    ]
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def settings() -> Settings:
    return load_settings(profiles=["test"])


@pytest.fixture(scope="module")
def registry() -> list[Reference]:
    return load_registry(committed("corpus/references.json"))


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def _loaded(settings: Settings, registry: list[Reference]) -> dict:
    return {d.doc_id: (d, ps) for d, ps in load_added_documents(settings, registry)}


def test_add_each_format(
    tmp_path: Path, settings: Settings, registry: list[Reference], home: Path
) -> None:
    md = _write(
        tmp_path / "src" / "Notes.md",
        "# Strategy notes\n\n## Workforce\n\nAmerica Makes trains **workers**.\n\n"
        "Second paragraph with a [link](https://example.org).\n\n## Funding\n\nCosts.\n",
    )
    html = _write(
        tmp_path / "src" / "page.htm",
        "<html><head><title>Page title</title><script>x()</script></head><body>"
        "<header>Site banner</header><nav>Menu</nav><h1>Main</h1><p>Intro text.</p>"
        "<h2>Sub</h2><div>Div text about <b>NIIMBL</b>.</div><ul><li>One</li></ul>"
        "<footer>Footer text</footer></body></html>",
    )
    txt = _write(
        tmp_path / "src" / "plain.txt",
        "Plain title\n\nFirst paragraph\ncontinues.\n\nSecond paragraph.\n",
    )
    pdf = _write(tmp_path / "src" / "report.pdf", PDF)

    results = {p.name: add_document(settings, p) for p in (md, html, txt, pdf)}
    assert {r.status for r in results.values()} == {"added"}
    assert results["Notes.md"].doc_id == "added/notes"
    assert results["Notes.md"].title == "Strategy notes"
    assert results["page.htm"].title == "Page title"
    assert results["page.htm"].path == home / "corpus" / "added" / "page.html"
    assert results["plain.txt"].title == "Plain title"
    assert results["report.pdf"].page_count == 2 and results["report.pdf"].lang == "en"
    for r in results.values():
        assert r.path.is_file() and hashlib.sha256(r.path.read_bytes()).hexdigest() == r.sha256

    manifest = json.loads((home / "corpus" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["documents"]["added/report"]
    assert entry["path"] == "added/report.pdf" and entry["sha256"] == results["report.pdf"].sha256
    assert entry["lang"] == "en" and entry["ref_id"] is None and entry["added_at"].endswith("Z")

    loaded = _loaded(settings, registry)
    assert set(loaded) == {"added/notes", "added/page", "added/plain", "added/report"}
    doc, passages = loaded["added/notes"]
    assert doc.kind == "report" and doc.page_count is None and doc.source_path == "added/notes.md"
    assert [p.section_path for p in passages] == [
        ["Strategy notes", "Workforce"],
        ["Strategy notes", "Funding"],
    ]
    assert "America Makes trains workers." in passages[0].text
    assert "Second paragraph with a link." in passages[0].text
    assert passages[0].entities == ["America Makes"]
    assert passages[0].passage_id == "added/notes#0001" and passages[0].kind == "text"
    assert passages[0].page_start is None and passages[0].footnotes == []

    _, html_passages = loaded["added/page"]
    html_text = " ".join(p.text for p in html_passages)
    for dropped in ("Site banner", "Menu", "Footer text", "x()"):
        assert dropped not in html_text
    assert ["Main", "Sub"] in [p.section_path for p in html_passages]
    assert any("NIIMBL" in p.entities for p in html_passages)

    pdf_doc, pdf_passages = loaded["added/report"]
    assert pdf_doc.page_count == 2
    assert [(p.page_start, p.page_end) for p in pdf_passages] == [(1, 1), (2, 2)]
    assert "LIFT" in pdf_passages[1].entities

    _, txt_passages = loaded["added/plain"]
    assert "First paragraph continues." in txt_passages[0].text


def test_readd_replace_remove(
    tmp_path: Path, settings: Settings, home: Path, registry: list[Reference]
) -> None:
    src = _write(tmp_path / "memo.md", "# Memo\n\nVersion one.\n")
    first = add_document(settings, src)
    assert first.status == "added"
    added_at = read_manifest(settings)["documents"]["added/memo"]["added_at"]

    again = add_document(settings, src)
    assert again.status == "unchanged" and again.doc_id == first.doc_id
    assert read_manifest(settings)["documents"]["added/memo"]["added_at"] == added_at

    _write(src, "# Memo\n\nVersion two, longer.\n")
    changed = add_document(settings, src)
    assert changed.status == "replaced" and changed.sha256 != first.sha256
    assert "Version two" in changed.path.read_text(encoding="utf-8")
    assert len(read_manifest(settings)["documents"]) == 1

    # The same content under a title gives another slug: a second document.
    titled = add_document(settings, src, title="Memo, second copy!")
    assert titled.doc_id == "added/memo-second-copy" and titled.duplicate_of == "added/memo"

    removed = remove_document(settings, "added/memo")
    assert removed is not None and not removed.exists()
    assert set(read_manifest(settings)["documents"]) == {"added/memo-second-copy"}
    assert set(_loaded(settings, registry)) == {"added/memo-second-copy"}
    with pytest.raises(CorpusError, match="added/memo"):
        remove_document(settings, "added/memo")
    assert not list((home / "corpus").rglob("*.tmp"))


def test_broken_pdf_refused_and_skipped_at_load(
    tmp_path: Path, settings: Settings, registry: list[Reference], caplog: pytest.LogCaptureFixture
) -> None:
    add_document(settings, _write(tmp_path / "good.txt", "Good document\n\nKept text.\n"))
    broken = _write(tmp_path / "broken.pdf", PDF[: len(PDF) // 2])
    with pytest.raises(CorpusError, match="not a readable PDF"):
        add_document(settings, broken)
    assert set(read_manifest(settings)["documents"]) == {"added/good"}

    # A file that breaks after it was added is skipped with a warning; the rest still load.
    added = add_document(settings, _write(tmp_path / "later.pdf", PDF))
    added.path.write_bytes(PDF[: len(PDF) // 2])
    with caplog.at_level(logging.WARNING, logger="assistant.corpus.documents"):
        loaded = _loaded(settings, registry)
    assert set(loaded) == {"added/good"}
    assert "added/later" in caplog.text


def test_encrypted_scanned_binary_and_unknown_types(tmp_path: Path, settings: Settings) -> None:
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(PDF)).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(CorpusError, match="encrypted PDF"):
        add_document(settings, _write(tmp_path / "locked.pdf", buf.getvalue()))

    with pytest.raises(CorpusError, match="no text layer"):
        add_document(settings, _write(tmp_path / "scan.pdf", make_pdf([[]])))

    with pytest.raises(CorpusError, match="unsupported file type"):
        add_document(settings, _write(tmp_path / "blob.txt", bytes(range(256)) * 8))
    with pytest.raises(CorpusError, match="unsupported file type"):
        add_document(settings, _write(tmp_path / "blob.bin", os.urandom(2048)))
    with pytest.raises(CorpusError, match="unsupported file type .docx"):
        add_document(settings, _write(tmp_path / "memo.docx", b"PK\x03\x04 not really"))
    with pytest.raises(CorpusError, match="does not exist"):
        add_document(settings, tmp_path / "nope.md")
    assert read_manifest(settings)["documents"] == {}


def test_unknown_ref_lists_close_ids(tmp_path: Path, settings: Settings) -> None:
    src = _write(tmp_path / "statute.md", "# Text\n\nBody.\n")
    with pytest.raises(CorpusError, match=r"usc-15-278x.*usc-15-278s"):
        add_document(settings, src, ref_id="usc-15-278x")
    assert read_manifest(settings)["documents"] == {}


def test_korean_detected(tmp_path: Path, settings: Settings, registry: list[Reference]) -> None:
    src = _write(
        tmp_path / "korean.txt",
        "제조업 혁신 연구소 보고서\n\n미국 제조업 혁신 연구소는 인력 양성에 투자한다. "
        "LIFT와 America Makes가 참여한다.\n",
    )
    result = add_document(settings, src)
    assert result.lang == "ko"
    doc, passages = _loaded(settings, registry)["added/korean"]
    assert doc.lang == "ko" and passages[0].lang == "ko"
    assert add_document(settings, _write(tmp_path / "en.txt", "English only text.\n")).lang == "en"
    assert add_document(settings, src, lang="en").lang == "en"  # an explicit language wins


def test_us_code_files(settings: Settings, registry: list[Reference]) -> None:
    if not USCODE.is_dir():
        pytest.skip(f"{USCODE} is absent")
    files = sorted(USCODE.glob("*.md"))
    assert len(files) == 5
    doc_ids = {}
    for f in files:
        ref = "usc-15-278s" if f.name.startswith("15_USC_278s") else None
        doc_ids[f.name] = add_document(settings, f, ref_id=ref).doc_id
    section_doc = doc_ids["15_USC_278s_Manufacturing_USA.md"]
    assert section_doc == "added/15_usc_278s_manufacturing_usa"

    loaded = _loaded(settings, registry)
    assert set(loaded) == set(doc_ids.values())
    doc, passages = loaded[section_doc]
    assert doc.ref_id == "usc-15-278s" and doc.kind == "statute"
    assert doc.title == "15 U.S.C. § 278s — Manufacturing USA"  # the registry's English title
    program = [
        p
        for p in passages
        if "Manufacturing USA Program" in p.text
        and "(b) Establishment of Manufacturing USA Program" in p.section_path
    ]
    assert program
    assert program[0].section_path == [
        "§ 278s. Manufacturing USA",
        "(b) Establishment of Manufacturing USA Program",
    ]
    paths = {tuple(p.section_path) for p in passages}
    assert (
        "§ 278s. Manufacturing USA",
        "(e) Financial assistance to establish and support Manufacturing USA institutes",
    ) in paths
    for _, ps in loaded.values():
        for p in ps:
            assert not any(s.startswith(("Title ", "CHAPTER", "Subtitle")) for s in p.section_path)
            assert len(p.text) <= 1500
            assert not p.text.startswith("#")
    # The chunk boundary inside § 4022(d) repeats its heading: still one subsection.
    _, ota = loaded[doc_ids["10_USC_4022_prototype_OTA.md"]]
    assert sum(1 for p in ota if p.section_path[-1] == "(d) Appropriate Use of Authority.") >= 1
    assert any("(B) Costs that were incurred" in p.text for p in ota)
    untied = loaded[doc_ids["15_USC_4651_CHIPS_definitions.md"]][0]
    assert untied.title == "15 U.S.C. § 4651. Definitions" and untied.kind == "report"

    assert documents_by_ref(settings) == {"usc-15-278s": section_doc}
    assert len(list_documents(settings)) == 5
    assert extract(USCODE / "42_USC_18972_domestic_production_MfgUSA.md").title.startswith(
        "42 U.S.C. § 18972."
    )
