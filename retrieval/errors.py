"""newsbot's small error hierarchy.

Every error a user can cause or meet is a :class:`NewsbotError` with a one-line message;
front ends (CLI, REPL, Discord) print that line and never a traceback.
"""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class: ``str(error)`` is a short message fit for a user."""

    exit_code = 1


class ConfigError(NewsbotError):
    """A setting is missing or invalid."""

    exit_code = 2


class InvalidQuestion(NewsbotError):
    """The question is empty or too long."""

    exit_code = 2


class IndexMissing(NewsbotError):
    """There is no index yet."""


class IndexMismatch(NewsbotError):
    """The index was built with another embedding model or is unreadable."""


class StoreUnavailable(NewsbotError):
    """The Chroma server (or the index folder) cannot be reached."""


class ModelUnavailable(NewsbotError):
    """The embedding model cannot be loaded."""


class ArticleError(NewsbotError):
    """An article file cannot be read; the file is skipped."""


class FetchError(NewsbotError):
    """A page or feed could not be fetched or is not an article."""


class LLMError(NewsbotError):
    """The LLM server failed; callers fall back to the extractive answer."""
