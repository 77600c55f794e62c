"""Conversations read back from Discord: follow-ups in a thread, replies to an answer.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.discord.cogs.questions.history import recent, turns_from_messages
from retrieval.types import Turn
from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import (
    CHANNEL_ID,
    mention,
)


async def test_follow_up_in_its_thread_uses_the_thread_history(h: Any) -> None:
    first = h.fake.user_says(mention("Que cherche Poutine en Alaska ?"))
    await h.fake.settle()
    thread_id = int(first["id"])
    h.fake.user_says("Et la Chine ?", channel_id=thread_id)  # no mention needed in its thread
    await h.fake.settle()

    assert [c.question for c in h.service.calls] == ["Que cherche Poutine en Alaska ?", "Et la Chine ?"]
    [turn] = h.service.calls[1].history
    assert turn.question == "Que cherche Poutine en Alaska ?"
    assert turn.answer == "Poutine cherche à éviter de nouvelles sanctions [1]."  # sources block removed
    assert len(h.fake.named("start_thread")) == 1  # the follow-up stays in the thread
    assert h.fake.named("send_message")[-1]["channel_id"] == thread_id
    assert h.fake.named("logs_from"), "history must come from Discord"


async def test_thread_history_is_bounded(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, history_turns=2, discord_rate_limit=50)
    try:
        first = h.fake.user_says(mention("Question zéro sur l'Alaska ?"))
        await h.fake.settle()
        for i in range(1, 5):
            h.fake.user_says(f"Question {i} ?", channel_id=int(first["id"]))
            await h.fake.settle()
        history = h.service.calls[-1].history
        assert [t.question for t in history] == ["Question 2 ?", "Question 3 ?"]
    finally:
        await h.bot.close()


async def test_reply_to_an_answer_is_answered_with_it_as_history(h: Any) -> None:
    # an earlier answer of the bot in the channel (as /ask leaves them), then a plain reply to it
    bot_answer = h.fake._bot_message(CHANNEL_ID, {"content": "> Que cherche Poutine ?\nDes sanctions [1]."})
    h.fake.user_says("Et pourquoi ?", reference=bot_answer)
    await h.fake.settle()
    last = h.service.calls[-1]
    assert last.question == "Et pourquoi ?"
    assert [(t.question, t.answer) for t in last.history] == [("Que cherche Poutine ?", "Des sanctions [1].")]


def test_turns_from_a_thread() -> None:
    messages = [
        (False, "Q1 ?"),
        (True, "R1 [1].\n\n**Sources**\n[1] **T** — <https://x>"),
        (True, "suite de R1."),
        (False, "Q2 ?"),
        (True, "R2."),
        (False, "Q3 ?"),
    ]
    assert turns_from_messages(messages, 6) == [
        Turn("Q1 ?", "R1 [1].\nsuite de R1."), Turn("Q2 ?", "R2."), Turn("Q3 ?", "")]
    assert turns_from_messages(messages, 1) == [Turn("Q3 ?", "")]
    assert turns_from_messages(messages, 0) == []


def test_recent_keeps_the_last_turns() -> None:
    turns = [Turn(f"Q{i} ?", f"R{i}.") for i in range(5)]
    assert recent(turns, 2) == turns[-2:]
    assert recent(turns, 0) == [] and recent(turns, 9) == turns
