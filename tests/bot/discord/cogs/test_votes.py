"""The vote buttons under answers.

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
    USER_ID,
    mention,
)

T = texts("fr")


async def test_votes_are_stored_once_per_user(h: Any) -> None:
    h.fake.user_says(mention("Que cherche Poutine ?"))
    await h.fake.settle()
    [thread_id] = [t["message_id"] for t in h.fake.named("start_thread")]
    message = h.fake.messages[thread_id][-1]
    up, down = (c["custom_id"] for c in message["components"][0]["components"])
    h.fake.click(message, up)
    h.fake.click(message, up)
    await h.fake.settle()
    h.fake.click(message, down)
    h.fake.click(message, down, user_id=ADMIN_ID)
    await h.fake.settle()

    votes = h.bot.feedback.votes()
    assert sorted((v.user_id, v.vote) for v in votes) == [(USER_ID, -1), (ADMIN_ID, -1)]
    vote = votes[0]
    assert vote.question == "Que cherche Poutine ?" and vote.source_ids == ["article-1#0"]
    assert "sanctions [1]" in (vote.answer or "")
    replies = [r["data"]["content"] for r in h.fake.named("interaction_response")]
    assert replies[0] == T["vote_recorded"] and T["vote_changed"] in replies


async def test_vote_storage_failure_keeps_the_bot_answering(tmp_path: Path, monkeypatch: Any) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    h = await make_harness(tmp_path, monkeypatch, feedback_db=blocker / "feedback.sqlite3")
    try:
        h.fake.user_says(mention("Que cherche Poutine ?"))
        await h.fake.settle()
        thread_id = h.fake.named("start_thread")[0]["message_id"]
        message = h.fake.messages[thread_id][-1]
        assert "**Sources**" in message["content"]  # answered although the answer was not recorded
        h.fake.click(message, message["components"][0]["components"][0]["custom_id"])
        await h.fake.settle()
        assert h.fake.named("interaction_response")[-1]["data"]["content"] == T["vote_failed"]
    finally:
        await h.bot.close()
