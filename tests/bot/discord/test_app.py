"""The bot's lifecycle: setup hook, slash command registration, the event loop kept free.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import mention
from tests.support.fake_service import FakeService


async def test_setup_hook_registers_the_slash_commands(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_sync_commands=True)
    try:
        [sync] = h.fake.named("sync_commands")
        commands = {c["name"]: c for c in sync["commands"]}
        assert set(commands) == {"ask", "latest", "reindex", "digest", "feeds"}
        assert int(commands["reindex"]["default_member_permissions"]) == 1 << 5  # Manage Server  # hidden from others
    finally:
        await h.bot.close()


async def run_burst(
    tmp_path: Path, monkeypatch: Any, *, n: int = 20, delay: float = 0.2, **overrides: Any
) -> dict[str, float]:
    """``n`` questions at once, each blocking a worker ``delay`` s; returns the loop's worst lag."""
    service = FakeService(delay=delay)
    h = await make_harness(tmp_path, monkeypatch, service, **{"discord_rate_limit": 1000, **overrides})
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            start = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - start - 0.01)

    loop = asyncio.get_running_loop()
    tick = asyncio.create_task(ticker())
    try:
        await asyncio.sleep(0.05)
        started = loop.time()
        for i in range(n):
            h.fake.user_says(mention(f"Question simultanée numéro {i} ?"))
        answers: list[dict[str, Any]] = []
        while len(answers) < n and loop.time() - started < 60:
            await asyncio.sleep(0.02)
            answers = [p for p in h.fake.named("send_message") if "**Sources**" in p["content"]]
        elapsed = loop.time() - started
        stop.set()
        await tick
        await h.fake.settle()
        return {"answered": len(answers), "questions": n, "seconds": elapsed, "worst_lag_ms": max(lags) * 1000,
                "ticks": len(lags), "workers": h.settings.discord.workers}
    finally:
        stop.set()
        await h.bot.close()


async def test_twenty_questions_at_once_keep_the_loop_free(tmp_path: Path, monkeypatch: Any) -> None:
    result = await run_burst(tmp_path, monkeypatch)
    assert result["answered"] == 20
    assert result["worst_lag_ms"] < 100, result
    # two workers, 0.2 s each: about 2 s in all, never 20 × 0.2 s on the loop
    assert result["seconds"] >= 1.9


async def test_a_failed_command_sync_is_logged_and_the_bot_goes_on(
    tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    """Issue 16, defect 9: Discord answering 400 to the command sync ended the bot before it connected."""
    from tests.support.discord_fakes import FakeDiscord

    real_install = FakeDiscord._install

    def failing_sync(self: FakeDiscord, patch: Any) -> None:
        real_install(self, patch)

        async def bulk_upsert_global_commands(application_id: int, payload: Any) -> Any:
            self.calls.append(("sync_commands", {"commands": payload}))
            response: Any = SimpleNamespace(status=400, reason="Bad Request")
            raise discord.HTTPException(response, {"code": 50035, "message": "Invalid Form Body",
                                                   "errors": {"0": {"name": {"_errors": [
                                                       {"code": "X", "message": "bad name"}]}}}})

        patch.setattr(self.bot.http, "bulk_upsert_global_commands", bulk_upsert_global_commands)

    monkeypatch.setattr(FakeDiscord, "_install", failing_sync)
    with caplog.at_level(logging.ERROR, logger="bot.discord.app"):
        h = await make_harness(tmp_path, monkeypatch, discord_sync_commands=True)
    try:
        assert h.fake.named("sync_commands"), "the sync was tried"
        assert any("slash commands" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        h.fake.user_says(mention("Que cherche Poutine ?"))  # mentions still work
        await h.fake.settle()
        assert "**Sources**" in h.fake.named("send_message")[0]["content"]
    finally:
        await h.bot.close()


async def test_reconnect_attempts_are_logged_at_info_in_one_line(
    tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    """Issue 17, item 7: discord.py logs each reconnect attempt as an error with a traceback."""
    from discord import client as discord_client

    from bot.discord.app import quiet_reconnects

    h = await make_harness(tmp_path, monkeypatch)
    attempts = 0

    async def unreachable(*args: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts > 2:
            raise discord.LoginFailure("stop the test here")
        raise OSError(111, "Connect call failed ('162.159.135.232', 443)")

    class NoWait:
        def delay(self) -> float:
            return 0.0

    monkeypatch.setattr(discord_client.DiscordWebSocket, "from_client", unreachable)
    monkeypatch.setattr(discord_client, "ExponentialBackoff", NoWait)
    h.bot.ws = SimpleNamespace(sequence=41, gateway="wss://gateway.example", session_id="s")  # was connected
    remove = quiet_reconnects()
    try:
        with caplog.at_level(logging.DEBUG, logger="discord"), pytest.raises(discord.LoginFailure):
            await h.bot.connect(reconnect=True)
    finally:
        remove()
        h.bot.ws = None  # the stand-in connection above has nothing to close
        await h.bot.close()
    records = [r for r in caplog.records if "reconnect" in r.getMessage().lower()]
    assert len(records) == 2
    for record in records:
        assert record.levelno == logging.INFO and record.exc_info is None
        assert "\n" not in record.getMessage() and "Connect call failed" in record.getMessage()


class RefreshingService(FakeService):
    """A service that can pick up index changes (``refresh``), recording where it ran."""

    def __init__(self, fail_first: bool = False) -> None:
        super().__init__()
        self.refreshes: list[str] = []
        self.fail_first = fail_first

    def refresh(self) -> None:
        import threading

        self.refreshes.append(threading.current_thread().name)
        if self.fail_first and len(self.refreshes) == 1:
            raise RuntimeError("index view unavailable")


async def test_the_index_view_is_refreshed_in_the_background(
    tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    service = RefreshingService(fail_first=True)
    with caplog.at_level(logging.WARNING, logger="bot.discord.app"):
        h = await make_harness(tmp_path, monkeypatch, service, discord_refresh_interval=0.05)
        try:
            h.fake.user_says(mention("Que cherche Poutine ?"))
            await asyncio.sleep(0.4)
            assert len(service.refreshes) >= 3  # went on after a failed refresh
            assert set(service.refreshes) == {"newsbot-refresh_0"}  # its own thread: off the loop, not a worker
            assert [c.question for c in service.calls] == ["Que cherche Poutine ?"]
        finally:
            await h.bot.close()
    assert any("refreshing the index view failed" in r.getMessage() for r in caplog.records)
    count = len(service.refreshes)
    await asyncio.sleep(0.2)
    assert len(service.refreshes) == count  # stopped with the bot


async def test_no_refresh_loop_without_a_refresh_method_or_when_off(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_refresh_interval=0.05)
    off = await make_harness(tmp_path / "off", monkeypatch, RefreshingService(), discord_refresh_interval=0)
    try:
        assert h.bot.refresher is None and off.bot.refresher is None
    finally:
        await h.bot.close()
        await off.bot.close()
