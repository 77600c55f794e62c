"""Small text helpers shared across the engine: accent folding and packaged YAML/text data.

Written once here so that the slug of a fetched article, the lexical analyzer and the
evaluation's answer normalisation fold accents the same way.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def fold_accents(text: str, form: str = "NFKD") -> str:
    """``text`` without combining marks: ``"Grève"`` → ``"Greve"``. ``form`` is the Unicode
    decomposition used first (``NFKD`` also folds compatibility characters such as ``ﬁ``;
    ``NFD`` keeps them)."""
    return "".join(c for c in unicodedata.normalize(form, text) if not unicodedata.combining(c))  # type: ignore[arg-type]


def read_package_text(package: str, name: str) -> str:
    """The UTF-8 text of the data file ``name`` of ``package`` (prompts, messages)."""
    from importlib import resources

    return resources.files(package).joinpath(name).read_text("utf-8")


def load_package_yaml(package: str, name: str) -> Any:
    """The parsed YAML data file ``name`` of ``package``."""
    import yaml

    return yaml.safe_load(read_package_text(package, name))


__all__ = ["fold_accents", "load_package_yaml", "read_package_text"]
