"""The bot's lifecycle: setup hook, slash command registration, the event loop kept free.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import mention
from tests.support.fake_service import FakeService


async def test_setup_hook_registers_the_slash_commands(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_sync_commands=True)
    try:
        [sync] = h.fake.named("sync_commands")
        commands = {c["name"]: c for c in sync["commands"]}
        assert set(commands) == {"ask", "latest", "reindex"}
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
