"""Documents added to the corpus by users (`assistant corpus add` / `corpus fetch`)."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.settings import Settings
from assistant.types import Passage, Reference, SourceDocument


def load_added_documents(
    settings: Settings, registry: list[Reference]
) -> Iterator[tuple[SourceDocument, list[Passage]]]:
    """Yield each added document with its passages (none until documents are added)."""
    return iter(())
