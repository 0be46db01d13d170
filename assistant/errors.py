"""Domain errors. Entry points turn them into user-facing messages; nothing else catches them."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose.

    ``hint`` tells the user what to do next (the CLI and the UI show it).
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def user_message(self) -> str:
        return f"{self}\n{self.hint}" if self.hint else str(self)


class ConfigError(AssistantError):
    """Settings cannot be loaded or are invalid."""


class CorpusError(AssistantError):
    """A corpus file is missing, broken, encrypted or of an unsupported type."""


class ModelNotProvisionedError(AssistantError):
    """A model file is missing or fails its checksum."""


class IndexNotBuiltError(AssistantError):
    """No usable index exists yet (never built, or corrupt)."""


class EmbeddingModelMismatch(AssistantError):
    """The index was built with another embedding model than the one configured."""


class LLMUnavailableError(AssistantError):
    """The configured generator cannot be reached or loaded."""


class FetchError(AssistantError):
    """A registry entry could not be downloaded."""
