"""Importing newsbot's modules loads no heavy library, model or database."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import bot
import retrieval

HEAVY = ("torch", "sentence_transformers", "chromadb", "transformers", "discord", "trafilatura", "langchain_openai")


def all_modules() -> list[str]:
    names = []
    for package in (retrieval, bot):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return names


def test_importing_every_module_is_light() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {all_modules()!r}: importlib.import_module(name)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys\nfrom bot.cli import build_parser\nbuild_parser()\n"
        f"print([m for m in {HEAVY!r} + ('langchain_core',) if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
