"""Chroma clients: a persistent local store, or a `chroma run` server shared by workers.

We always pass embeddings: Chroma's default embedding function would try to download a
model. Telemetry is off.
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.errors import IndexNotBuiltError
from assistant.settings import Settings

logger = logging.getLogger(__name__)


def _chroma_settings():  # noqa: ANN202
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def persistent_client(path: Path):  # noqa: ANN201
    import chromadb

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def http_client(settings: Settings):  # noqa: ANN201
    import chromadb

    cfg = settings.vector_store
    try:
        client = chromadb.HttpClient(host=cfg.host, port=cfg.port, settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - any connection failure means the same to users
        raise IndexNotBuiltError(
            f"the Chroma server at {cfg.host}:{cfg.port} cannot be reached: {exc}",
            hint="Start it with `chroma run --path index/chroma-server --host 127.0.0.1 --port "
            f"{cfg.port}` or set vector_store.mode to 'chroma'.",
        ) from exc
    return client
