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


class DiskFull(NewsbotError):
    """A write failed for lack of disk space; what was committed before stays readable."""

    @classmethod
    def at(cls, path: object) -> DiskFull:
        """The error for a write under ``path``, saying how much space is left there."""
        import shutil
        from pathlib import Path

        where = Path(str(path)).absolute()
        probe = where
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            free = shutil.disk_usage(probe).free // (1024 * 1024)
        except OSError:
            return cls(f"disk full (at {where})")
        return cls(f"disk full ({free} MB free at {where})")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it came from) is a lack of disk space."""
    import errno

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(current).lower()
        if "database or disk is full" in text or "no space left on device" in text:
            return True
        current = current.__cause__ or current.__context__
    return False
