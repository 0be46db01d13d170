"""Every data path, resolved in one place. Tests point ASSISTANT_HOME at a temporary folder."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings

APP_NAME = "mfg-usa-assistant"


def project_root() -> Path:
    """The folder that holds pyproject.toml, settings.yaml and the committed corpus (a checkout)."""
    return Path(__file__).resolve().parent.parent


def is_checkout() -> bool:
    root = project_root()
    return (root / "settings.yaml").exists() and (root / "corpus").is_dir()


def resource_root() -> Path:
    """Where the shipped files are: the checkout, or the installed package's data."""
    return project_root() if is_checkout() else Path(__file__).resolve().parent / "_data"


def home(settings: Settings) -> Path:
    """Data root: settings.data.home (settings.yaml fills it from ASSISTANT_HOME when the settings
    are loaded, so a service keeps its home); else the checkout, or a per-user data folder for an
    installed package (~/.local/share/mfg-usa-assistant)."""
    raw = settings.data.home
    if raw:
        return Path(raw).expanduser().resolve()
    if is_checkout():
        return project_root()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def committed(rel: str) -> Path:
    """A file shipped with the project (plan source, outline, reference registry)."""
    path = Path(rel)
    return path if path.is_absolute() else resource_root() / path


def index_dir(settings: Settings) -> Path:
    return home(settings) / "index"


def user_corpus_dir(settings: Settings) -> Path:
    """Documents added or fetched by users (kept apart from the committed plan)."""
    return home(settings) / "corpus"


def logs_db(settings: Settings) -> Path:
    return home(settings) / "logs.db"


def models_dir(settings: Settings) -> Path:
    return Path(settings.models.store_dir).expanduser().resolve()
