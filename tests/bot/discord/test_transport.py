"""Sending answers: split over several messages, streamed tokens edited into one message.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import (
    assert_no_pings,
    mention,
    pings_nobody,
)
from tests.support.fake_service import FakeService


async def test_long_answer_arrives_in_several_messages(tmp_path: Path, monkeypatch: Any) -> None:
    sentence = "Le sommet d'Anchorage porte sur l'Ukraine et les sanctions [1]. "
    service = FakeService(text=sentence * 80)  # ~5,000 characters
    h = await make_harness(tmp_path, monkeypatch, service)
    try:
        h.fake.user_says(mention("Résumez le sommet"))
        await h.fake.settle()
        parts = h.fake.named("send_message")
        assert len(parts) >= 3
        assert all(len(p["content"]) <= 2000 for p in parts)
        assert all(p["content"].rstrip().endswith(("[1].", "↳ [1]")) for p in parts)  # cut after a sentence
        assert [bool(p.get("components")) for p in parts] == [False] * (len(parts) - 1) + [True]
        joined = " ".join(p["content"] for p in parts)
        assert joined.count("[1]") == 81  # 80 markers + the source line, none cut
        assert_no_pings(h.fake)
    finally:
        await h.bot.close()


async def test_streamed_tokens_edit_one_message_then_the_final_answer(tmp_path: Path, monkeypatch: Any) -> None:
    tokens = [f"mot{i} " for i in range(12)]
    service = FakeService(tokens=tokens, token_delay=0.05)  # 0.6 s of streaming
    h = await make_harness(tmp_path, monkeypatch, service, discord_stream_interval=0.2)
    try:
        h.fake.user_says(mention("Que cherche Poutine ?"))
        await h.fake.settle()
        sends, edits = h.fake.named("send_message"), h.fake.named("edit_message")
        assert len(sends) == 1 and sends[0]["content"].endswith("…")  # first partial
        assert 1 <= len(edits) <= 5  # at most about one edit per interval, plus the final one
        final = edits[-1]
        assert "**Sources**" in final["content"] and final["components"]
        assert all(pings_nobody(e["allowed_mentions"]) for e in edits)
    finally:
        await h.bot.close()
