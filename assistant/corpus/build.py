"""Assemble the corpus: the plan (parsed), its reference registry, and added documents."""

from __future__ import annotations

import hashlib
import logging

from assistant import paths
from assistant.corpus.documents import load_added_documents
from assistant.corpus.plan import Outline, parse_plan
from assistant.corpus.references import attach_references, load_registry
from assistant.errors import CorpusError
from assistant.settings import Settings
from assistant.types import CorpusBundle, SourceDocument

logger = logging.getLogger(__name__)

# Footnotes that cite no document (explanatory notes): no registry entry expected.
NOTES_WITHOUT_DOCUMENT = frozenset({"fn-5"})


def sha256_file(path) -> str:  # noqa: ANN001
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_corpus(settings: Settings, include_added: bool = True) -> CorpusBundle:
    """Parse the plan and gather every indexed document."""
    source = paths.committed(settings.data.plan_source)
    outline_path = paths.committed(settings.data.plan_outline)
    if not source.exists():
        raise CorpusError(
            f"the plan source {source} is missing", hint="Restore it with `git checkout corpus/`."
        )
    parsed = parse_plan(source, outline_path)
    outline = Outline.load(outline_path)
    registry = load_registry(paths.committed(settings.data.references))
    footnotes = attach_references(parsed.footnotes, registry)
    _check_registry(footnotes, registry)
    meta = outline["document"]
    plan_doc = SourceDocument(
        doc_id=meta["doc_id"],
        title=meta["title"],
        lang=meta["lang"],
        kind="plan",
        source_path=settings.data.plan_source,
        sha256=sha256_file(source),
        page_count=meta["pages"],
    )
    documents = [plan_doc]
    passages = list(parsed.passages)
    if include_added:
        for doc, doc_passages in load_added_documents(settings, registry):
            documents.append(doc)
            passages.extend(doc_passages)
    sections = sorted({" > ".join(p.section_path) for p in passages if p.doc_id == plan_doc.doc_id})
    return CorpusBundle(
        documents=documents,
        passages=passages,
        footnotes=footnotes,
        references=registry,
        records=parsed.records,
        plan_pages=len(parsed.pages) - 1,
        sections=sections,
    )


def _check_registry(footnotes, registry) -> None:  # noqa: ANN001
    """Every footnote URL must be in the registry under that footnote (reviewed file in step)."""
    by_id = {r.id: r for r in registry}
    for fn in footnotes:
        if fn.id in NOTES_WITHOUT_DOCUMENT:
            continue
        if not fn.reference_ids:
            raise CorpusError(
                f"footnote {fn.id} has no entry in the reference registry",
                hint="Re-draft it: `assistant corpus references --draft`.",
            )
        urls = {_norm_url(by_id[r].url) for r in fn.reference_ids}
        for url in fn.urls:
            if _norm_url(url) not in urls:
                raise CorpusError(
                    f"footnote {fn.id} cites {url}, which the registry lacks",
                    hint="Re-draft it: `assistant corpus references --draft`.",
                )


def _norm_url(url: str | None) -> str:
    return (url or "").split("://", 1)[-1].lower().rstrip("/")


def corpus_stats(bundle: CorpusBundle, chunks: int | None) -> dict:
    return {
        "pages": bundle.plan_pages,
        "sections": len(bundle.sections),
        "footnotes": len(bundle.footnotes),
        "references": len(bundle.references),
        "chunks": chunks,
        "passages": len(bundle.passages),
        "documents": len(bundle.documents),
        "institutes": len(bundle.records.institutes) if bundle.records else 0,
        "goals": len(bundle.records.goals) if bundle.records else 0,
        "objectives": sum(len(g.objectives) for g in bundle.records.goals) if bundle.records else 0,
        "references_with_url": sum(1 for r in bundle.references if r.url),
        "footnotes_with_url": sum(1 for f in bundle.footnotes if f.urls),
        "repaired_urls": sum(
            1
            for f in bundle.footnotes
            for raw, u in zip(f.urls_raw, f.urls, strict=True)
            if raw != u
        ),
    }
