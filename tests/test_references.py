"""The committed (reviewed) registry stays in step with the parsed footnotes."""

import json

from assistant.corpus.build import NOTES_WITHOUT_DOCUMENT, load_corpus
from assistant.corpus.references import draft_registry
from assistant.paths import project_root


def test_registry_matches_footnotes(test_settings):
    bundle = load_corpus(test_settings, include_added=False)
    by_id = {r.id: r for r in bundle.references}
    for fn in bundle.footnotes:
        if fn.id in NOTES_WITHOUT_DOCUMENT:
            continue
        assert fn.reference_ids, fn.id
        for url in fn.urls:  # every footnote that printed a URL has its repaired URL registered
            assert any(
                by_id[r].url and by_id[r].url.split("://")[1].lower() == url.split("://")[1].lower()
                for r in fn.reference_ids
            ), (fn.id, url)


def test_draft_and_committed_ids_agree(test_settings):
    bundle = load_corpus(test_settings, include_added=False)
    draft = {r.id for r in draft_registry(bundle.footnotes)}
    committed = {r.id for r in bundle.references}
    assert committed == draft - {"fn5"}


def test_statutes_and_two_documents_of_footnote_10():
    data = json.loads((project_root() / "corpus/references.json").read_text(encoding="utf-8"))
    refs = {r["id"]: r for r in data["references"]}
    assert (
        refs["usc-15-278s"]["kind"] == "statute" and len(refs["usc-15-278s"]["footnote_ids"]) >= 10
    )
    assert refs["usc-42-18972"]["url_derived"] is True
    assert {"fn10a", "fn10b"} <= set(refs) and refs["fn10a"]["footnote_ids"] == ["fn-10"]
    assert all(r["url"] is None or r["url"].startswith("http") for r in refs.values())
    assert all(
        " " not in (r["url"] or "")
        and not any("\uac00" <= ch <= "\ud7a3" for ch in (r["url"] or ""))
        for r in refs.values()
    )
