"""Embedding backends: EmbeddingGemma through sentence-transformers, or a fake for unit tests.

Vectors are L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from typing import Protocol

import numpy as np

from assistant.errors import ModelNotProvisionedError
from assistant.modelstore import ModelStore
from assistant.settings import Settings

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_documents(
        self, texts: list[str], titles: list[str] | None = None, progress: bool = False
    ) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_inputs(self, inputs: list[str], progress: bool = False) -> np.ndarray: ...


def document_input(text: str, title: str | None) -> str:
    """EmbeddingGemma's document format: 'title: <title> | text: <text>'."""
    return f"title: {title or 'none'} | text: {text}"


class SentenceTransformerEmbedder:
    def __init__(self, settings: Settings) -> None:
        cfg = settings.embedding
        resolved = ModelStore(settings).resolve(cfg.model)
        self.model_id = cfg.model if not resolved.from_hub else resolved.path
        self.query_prompt = cfg.query_prompt
        self.batch_size = cfg.batch_size
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - install problem
            raise ModelNotProvisionedError(
                "sentence-transformers is not installed", hint="Run the README's set-up command."
            ) from exc
        torch.set_num_threads(cfg.threads)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        logger.info("loading embedding model path=%s", resolved.path)
        try:
            self._model = SentenceTransformer(resolved.path, device="cpu")
        except OSError as exc:
            raise ModelNotProvisionedError(
                f"embedding model at {resolved.path} cannot be loaded: {exc}",
                hint="Run `assistant models provision` to (re)fetch it.",
            ) from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim() or cfg.dim)
        self._lock = threading.Lock()  # torch inference from several UI threads at once thrashes

    def embed_documents(
        self, texts: list[str], titles: list[str] | None = None, progress: bool = False
    ) -> np.ndarray:
        titles = titles or [None] * len(texts)
        return self.embed_inputs(
            [document_input(t, h) for t, h in zip(texts, titles, strict=True)], progress
        )

    def embed_inputs(self, inputs: list[str], progress: bool = False) -> np.ndarray:
        """Embed strings already in the model's document format ("title: … | text: …")."""
        if not inputs:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(
                inputs,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=progress,
                convert_to_numpy=True,
            )
        return np.asarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vecs = self._model.encode(
                [self.query_prompt + t for t in texts],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        return np.asarray(vecs, dtype=np.float32)


class FakeEmbedder:
    """Deterministic and content-sensitive: hashed bag of character trigrams and words.

    Texts sharing words get similar vectors (a constant vector would only prove the
    plumbing runs). For unit tests of logic only.
    """

    def __init__(self, settings: Settings) -> None:
        self.dim = settings.embedding.dim
        self.model_id = f"fake-{self.dim}"

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        low = text.lower()
        feats = re.findall(r"\w+", low) + [low[i : i + 3] for i in range(max(0, len(low) - 2))]
        for f in feats:
            h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(
        self, texts: list[str], titles: list[str] | None = None, progress: bool = False
    ) -> np.ndarray:
        return (
            np.stack([self._vec(t) for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_inputs(self, inputs: list[str], progress: bool = False) -> np.ndarray:
        # The document format's frame ("title: … | text: …") carries no content.
        return self.embed_documents(
            [re.sub(r"^title: .*? \| text: ", "", x, flags=re.S) for x in inputs]
        )


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedding.mode == "fake":
        return FakeEmbedder(settings)
    return SentenceTransformerEmbedder(settings)
