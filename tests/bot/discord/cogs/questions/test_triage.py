"""Which messages the bot answers: mentions, its threads, DMs, allowed channels, rate limit.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.discord.formatting import texts
from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import (
    ADMIN_ID,
    BOT_ID,
    CHANNEL_ID,
    OTHER_BOT_ID,
    OTHER_CHANNEL_ID,
    assert_no_pings,
    mention,
)

T = texts("fr")


async def test_messages_of_bots_and_of_itself_get_nothing(h: Any) -> None:
    h.fake.user_says(mention("Que cherche Poutine ?"), author_id=OTHER_BOT_ID)
    h.fake.user_says(mention("Que cherche Poutine ?"), author_id=BOT_ID)
    h.fake.user_says("Que cherche Poutine ?")  # no mention, not in the bot's thread
    await h.fake.settle()
    assert h.fake.calls == [] and h.service.calls == []


async def test_rate_limit_replies_with_the_wait(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_rate_limit=2, discord_rate_window=60)
    try:
        for i in range(3):
            h.fake.user_says(mention(f"Question numéro {i} ?"))
            await h.fake.settle()
        assert len(h.service.calls) == 2
        refusal = h.fake.named("send_message")[-1]
        assert refusal["channel_id"] == CHANNEL_ID and "message_reference" in refusal
        assert "60 s" in refusal["content"] or "59 s" in refusal["content"]
        assert_no_pings(h.fake)
        h.fake.user_says(mention("Autre personne ?"), author_id=ADMIN_ID)  # per user
        await h.fake.settle()
        assert len(h.service.calls) == 3
    finally:
        await h.bot.close()


async def test_direct_messages_refused_when_off(h: Any) -> None:
    dm = h.fake.open_dm()
    h.fake.user_says("Que cherche Poutine ?", channel_id=dm, guild=False)
    await h.fake.settle()
    assert h.service.calls == []
    [reply] = h.fake.named("send_message")
    assert reply["channel_id"] == dm and reply["content"] == T["dms_off"]


async def test_direct_messages_answered_when_on(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_dms=True)
    try:
        dm = h.fake.open_dm()
        h.fake.user_says("Que cherche Poutine ?", channel_id=dm, guild=False)
        await h.fake.settle()
        assert h.fake.named("start_thread") == []
        [answer] = h.fake.named("send_message")
        assert answer["channel_id"] == dm and "**Sources**" in answer["content"]
    finally:
        await h.bot.close()


async def test_only_allowed_channels(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_channels=[CHANNEL_ID])
    try:
        h.fake.user_says(mention("Ailleurs ?"), channel_id=OTHER_CHANNEL_ID)
        await h.fake.settle()
        assert h.service.calls == []
        first = h.fake.user_says(mention("Ici ?"))
        await h.fake.settle()
        h.fake.user_says("Et ensuite ?", channel_id=int(first["id"]))  # its thread, child of the channel
        await h.fake.settle()
        assert [c.question for c in h.service.calls] == ["Ici ?", "Et ensuite ?"]
    finally:
        await h.bot.close()


async def test_empty_mention_explains_how_to_ask(h: Any) -> None:
    h.fake.user_says(f"<@{BOT_ID}>")
    await h.fake.settle()
    assert h.service.calls == []
    assert h.fake.named("send_message")[0]["content"] == T["empty_question"]
