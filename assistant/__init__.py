"""Bilingual (English/Korean) cited-answer assistant over NIST AMS 600-15.

Public API: `load_settings`, `build_services` (services.answers.stream/answer,
services.retriever.search, services.build_index) and the typed objects in `assistant.types`.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "build_services", "load_settings"]


def __getattr__(name: str):  # noqa: ANN202 - lazy: importing the package must stay cheap
    if name == "load_settings":
        from assistant.settings import load_settings

        return load_settings
    if name == "build_services":
        from assistant.services import build_services

        return build_services
    raise AttributeError(name)
