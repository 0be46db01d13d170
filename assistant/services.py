"""Wiring: build components and services once, from settings. Entry points call this."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from assistant import paths
from assistant.answer.service import AnswerService
from assistant.components.embedding import Embedder, make_embedder
from assistant.corpus.build import load_corpus
from assistant.index import BuildReport, IndexLayout, IndexService
from assistant.renderings import Renderer
from assistant.retrieve import Retriever
from assistant.settings import Settings


@dataclass
class Services:
    """Lazily built services sharing one embedder (2 GB: load it once per process)."""

    settings: Settings
    _embedder: Embedder | None = None
    _retriever: Retriever | None = None
    _answers: AnswerService | None = None
    _renderer: Renderer | None = None
    # Re-entrant: the retriever is built with the embedder. Every lazy part is built under it,
    # so the warm-up thread and a first request never open the Chroma store twice at once.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings)
            return self._embedder

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.settings, self.embedder)
            return self._retriever

    @property
    def answers(self) -> AnswerService:
        with self._lock:
            if self._answers is None:
                self._answers = AnswerService(
                    self.settings, self.retriever, self.embedder, paths.logs_db(self.settings)
                )
            return self._answers

    @property
    def renderer(self) -> Renderer:
        """Renderings of cited sentences in the reader's language, cached with the build."""
        with self._lock:
            if self._renderer is None:
                self._renderer = self._make_renderer()
            return self._renderer

    def _make_renderer(self) -> Renderer:
        layout = IndexLayout(self.settings)

        def store_path():  # noqa: ANN202
            try:
                build_id = self.retriever.snapshot.manifest.build_id
            except Exception:  # no index yet
                return None
            return layout.renderings_path(build_id)

        def similarity(source: str, text: str) -> float:
            a, b = self.embedder.embed_inputs([source, text])
            return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

        return Renderer(self.settings, self.answers.generator, store_path, similarity)

    def index_service(self) -> IndexService:
        return IndexService(self.settings, self.embedder)

    def build_index(self, force: bool = False, progress: bool = False) -> BuildReport:
        bundle = load_corpus(self.settings)
        return self.index_service().build(bundle, force=force, progress=progress)

    def index_ready(self) -> bool:
        return IndexLayout(self.settings).current() is not None


def build_services(settings: Settings) -> Services:
    return Services(settings)
