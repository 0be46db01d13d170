"""Where the reviewed data files live, and how they are read (one place for both)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import CorpusError


def corpus_dir() -> Path:
    """The committed ``corpus/`` folder (plan source, glossary, lexicon, records); for an installed
    package, its copy in the package data."""
    from assistant.paths import resource_root

    return resource_root() / "corpus"


@lru_cache(maxsize=32)
def load_yaml(rel: str) -> Any:
    """A reviewed YAML file under ``corpus/`` (cached: the files do not change at run time)."""
    path = corpus_dir() / rel
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CorpusError(
            f"cannot read the data file {path}: {exc}",
            hint="Restore it with `git checkout corpus/`.",
        ) from exc
