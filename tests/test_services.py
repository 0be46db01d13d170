"""Wiring (assistant.services): the lazily built parts are built once, even when the UI's
warm-up thread and a first request ask for them at the same moment (two retrievers opening one
Chroma store at once made the first question after a start fail)."""

from __future__ import annotations

import threading

import assistant.services as services_mod
from assistant.services import build_services
from assistant.settings import load_settings


def test_the_retriever_is_built_once_when_two_threads_ask_at_once(tmp_path, monkeypatch):
    settings = load_settings(profiles=["test"])
    settings.data.home = str(tmp_path)
    services = build_services(settings)
    built: list[object] = []
    second_asking = threading.Event()
    constructing = threading.Event()

    class SlowRetriever:
        def __init__(self, settings, embedder) -> None:  # noqa: ANN001
            built.append(self)
            constructing.set()
            # Hold the first construction until the other thread is asking too (bounded wait:
            # with the lock it is blocked on the property and never gets here).
            second_asking.wait(timeout=2)

    monkeypatch.setattr(services_mod, "Retriever", SlowRetriever)
    got: list[object] = []

    def first() -> None:
        got.append(services.retriever)

    def second() -> None:
        second_asking.set()
        got.append(services.retriever)

    t1 = threading.Thread(target=first)
    t1.start()
    assert constructing.wait(timeout=30)  # the first thread is inside the constructor
    t2 = threading.Thread(target=second)
    t2.start()
    t1.join()
    t2.join()
    assert len(built) == 1 and got[0] is got[1]
