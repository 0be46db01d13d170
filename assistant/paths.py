"""Every data path, resolved in one place. Tests point ASSISTANT_HOME at a temporary folder."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings


def project_root() -> Path:
    """The folder that holds pyproject.toml, settings.yaml and the committed corpus."""
    return Path(__file__).resolve().parent.parent


def home(settings: Settings) -> Path:
    """Data root: settings.data.home (settings.yaml fills it from ASSISTANT_HOME when the
    settings are loaded, so a service keeps its home), else the project folder."""
    raw = settings.data.home
    return Path(raw).expanduser().resolve() if raw else project_root()


def committed(rel: str) -> Path:
    """A file shipped with the project (plan source, outline, reference registry)."""
    path = Path(rel)
    return path if path.is_absolute() else project_root() / path


def index_dir(settings: Settings) -> Path:
    return home(settings) / "index"


def user_corpus_dir(settings: Settings) -> Path:
    """Documents added or fetched by users (kept apart from the committed plan)."""
    return home(settings) / "corpus"


def logs_db(settings: Settings) -> Path:
    return home(settings) / "logs.db"


def models_dir(settings: Settings) -> Path:
    return Path(settings.models.store_dir).expanduser().resolve()
