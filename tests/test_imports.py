"""Importing newsbot's modules loads no heavy library, model or database.

discord.py is the one exception, and only for the Discord layer itself: ``bot.discord.app``,
``bot.discord.transport``, ``bot.discord.errors`` and ``bot.discord.cogs.*`` import it at the top
(``newsbot bot`` imports them when it runs).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import bot
import retrieval

HEAVY = ("torch", "sentence_transformers", "chromadb", "transformers", "discord", "trafilatura", "langchain_openai")
DISCORD_LAYER = ("bot.discord.app", "bot.discord.transport", "bot.discord.errors", "bot.discord.cogs")


def all_modules() -> list[str]:
    names = []
    for package in (retrieval, bot):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith(".__main__"):  # running it is the command itself
                names.append(info.name)
    return names


def is_discord_layer(name: str) -> bool:
    return any(name == layer or name.startswith(layer + ".") for layer in DISCORD_LAYER)


def loaded_after_importing(names: list[str], heavy: tuple[str, ...]) -> str:
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_every_module_outside_the_discord_layer_is_light() -> None:
    names = [n for n in all_modules() if not is_discord_layer(n)]
    assert "bot.cli.discord_bot" in names and "bot.discord.formatting" in names
    assert loaded_after_importing(names, HEAVY) == "[]"


def test_the_discord_layer_imports_discord_and_nothing_else_heavy() -> None:
    names = [n for n in all_modules() if is_discord_layer(n) and n != "bot.discord.cogs"]
    assert set(names) >= {"bot.discord.app", "bot.discord.cogs.questions", "bot.discord.cogs.admin", "bot.discord.cogs.votes"}
    heavy = tuple(m for m in HEAVY if m != "discord")
    assert loaded_after_importing(names, heavy) == "[]"


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys\nfrom bot.cli.main import build_parser\nbuild_parser()\n"
        f"print([m for m in {HEAVY!r} + ('langchain_core',) if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
