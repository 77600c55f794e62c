"""The bot over a fake service and the fake Discord REST layer (real discord.py objects)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.settings import load_settings
from tests.support.discord_fakes import start_bot
from tests.support.fake_service import FakeService


async def make_harness(tmp_path: Path, monkeypatch: Any, service: Any = None, **overrides: Any) -> SimpleNamespace:
    overrides = {"discord_sync_commands": False, **overrides}
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", **overrides)
    return await start_bot(service or FakeService(), settings, monkeypatch)


@pytest.fixture
async def h(tmp_path: Path, monkeypatch: Any) -> Any:
    harness = await make_harness(tmp_path, monkeypatch)
    yield harness
    await harness.bot.close()
