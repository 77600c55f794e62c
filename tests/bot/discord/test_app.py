"""The Discord bot driven through real discord.py objects built from gateway payloads.

Only the REST layer is fake (see ``discord_fakes``): each test dispatches gateway events
(MESSAGE_CREATE, INTERACTION_CREATE) and asserts on the JSON the bot would have sent.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.discord.formatting import texts
from bot.settings import load_settings
from tests.support.discord_fakes import (
    ADMIN_ID,
    BOT_ID,
    CHANNEL_ID,
    MANAGE_GUILD,
    OTHER_BOT_ID,
    OTHER_CHANNEL_ID,
    USER_ID,
    FakeDiscord,
    assert_no_pings,
    pings_nobody,
)
from tests.support.fake_service import FakeService, source

NO_PINGS: dict[str, Any] = {"parse": []}
T = texts("fr")


async def make_harness(tmp_path: Path, monkeypatch: Any, service: Any = None, **overrides: Any) -> SimpleNamespace:
    from bot.discord.app import NewsBot

    overrides = {"discord_sync_commands": False, **overrides}
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", **overrides)
    service = service or FakeService()
    bot = NewsBot(service, settings)
    fake = FakeDiscord(bot, monkeypatch)
    fake.setup_world()
    await bot._async_setup_hook()  # what Client.login does before setup_hook
    await bot.setup_hook()
    return SimpleNamespace(bot=bot, fake=fake, service=service, settings=settings)


@pytest.fixture
async def h(tmp_path: Path, monkeypatch: Any) -> Any:
    harness = await make_harness(tmp_path, monkeypatch)
    yield harness
    await harness.bot.close()


def mention(text: str) -> str:
    return f"<@{BOT_ID}> {text}"


# -- answering -------------------------------------------------------------------------------
async def test_mention_gets_a_threaded_answer_with_sources(h: Any) -> None:
    question = h.fake.user_says(mention("Que cherche Poutine en Alaska ?"))
    await h.fake.settle()

    [thread] = h.fake.named("start_thread")
    assert thread["message_id"] == int(question["id"]) and thread["channel_id"] == CHANNEL_ID
    assert thread["name"] == "Que cherche Poutine en Alaska ?"
    assert h.fake.named("send_typing"), "no sign of work"
    [answer] = h.fake.named("send_message")
    assert answer["channel_id"] == int(question["id"])  # in the thread
    assert "[1]" in answer["content"] and "**Sources**" in answer["content"]
    assert "<https://example.org/alaska>" in answer["content"]  # no preview
    ids = [c["custom_id"] for row in answer["components"] for c in row["components"]]
    assert ids[0].startswith("newsbot:vote:up:") and ids[1].startswith("newsbot:vote:down:")
    [call] = h.service.calls
    assert call.question == "Que cherche Poutine en Alaska ?" and call.history == []
    assert call.thread.startswith("newsbot-answer")  # off the event loop
    assert_no_pings(h.fake)


async def test_source_without_link_shows_the_article_id(tmp_path: Path, monkeypatch: Any) -> None:
    service = FakeService(sources=[source(1, url=None)])
    h = await make_harness(tmp_path, monkeypatch, service)
    try:
        h.fake.user_says(mention("Alaska ?"))
        await h.fake.settle()
        assert "`article-1`" in h.fake.named("send_message")[0]["content"]
    finally:
        await h.bot.close()


async def test_messages_of_bots_and_of_itself_get_nothing(h: Any) -> None:
    h.fake.user_says(mention("Que cherche Poutine ?"), author_id=OTHER_BOT_ID)
    h.fake.user_says(mention("Que cherche Poutine ?"), author_id=BOT_ID)
    h.fake.user_says("Que cherche Poutine ?")  # no mention, not in the bot's thread
    await h.fake.settle()
    assert h.fake.calls == [] and h.service.calls == []


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
        assert all(p["content"].rstrip().endswith(("[1].", ">")) for p in parts)  # cut after a sentence
        assert [bool(p.get("components")) for p in parts] == [False] * (len(parts) - 1) + [True]
        joined = " ".join(p["content"] for p in parts)
        assert joined.count("[1]") == 81  # 80 markers + the source line, none cut
        assert_no_pings(h.fake)
    finally:
        await h.bot.close()


async def test_article_with_everyone_pings_nobody(tmp_path: Path, monkeypatch: Any) -> None:
    nasty = source(1, title="@everyone <@&123456789012345678> regardez", text="@everyone @here")
    service = FakeService(text="Selon l'article, @everyone et @here [1] <@500000000000000001>.", sources=[nasty])
    h = await make_harness(tmp_path, monkeypatch, service)
    try:
        h.fake.user_says(mention("@everyone quoi de neuf ?"))
        await h.fake.settle()
        assert_no_pings(h.fake)
        content = h.fake.named("send_message")[0]["content"]
        assert "@everyone" not in content and "@here" not in content  # shown defanged, too
        assert h.bot.allowed_mentions.to_dict() == NO_PINGS
    finally:
        await h.bot.close()


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


async def test_no_thread_permission_answers_in_the_channel(h: Any) -> None:
    h.fake.fail.add("start_thread")
    question = h.fake.user_says(mention("Que cherche Poutine ?"))
    await h.fake.settle()
    [answer] = h.fake.named("send_message")
    assert answer["channel_id"] == CHANNEL_ID
    assert answer["message_reference"]["message_id"] == int(question["id"])


async def test_failure_becomes_a_short_apology(tmp_path: Path, monkeypatch: Any, caplog: Any) -> None:
    service = FakeService(error=RuntimeError("secret internals at /srv/model"))
    h = await make_harness(tmp_path, monkeypatch, service)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.discord.app"):
            h.fake.user_says(mention("Que cherche Poutine ?"))
            await h.fake.settle()
        [reply] = h.fake.named("send_message")
        assert reply["content"] == T["apology"] and "components" not in reply or not reply.get("components")
        assert "Traceback" not in reply["content"] and "secret" not in reply["content"]
        assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
    finally:
        await h.bot.close()


async def test_empty_mention_explains_how_to_ask(h: Any) -> None:
    h.fake.user_says(f"<@{BOT_ID}>")
    await h.fake.settle()
    assert h.service.calls == []
    assert h.fake.named("send_message")[0]["content"] == T["empty_question"]


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


async def test_setup_hook_registers_the_slash_commands(tmp_path: Path, monkeypatch: Any) -> None:
    h = await make_harness(tmp_path, monkeypatch, discord_sync_commands=True)
    try:
        [sync] = h.fake.named("sync_commands")
        commands = {c["name"]: c for c in sync["commands"]}
        assert set(commands) == {"ask", "latest", "reindex", "digest", "feeds"}
        assert int(commands["reindex"]["default_member_permissions"]) == 1 << 5  # Manage Server  # hidden from others
    finally:
        await h.bot.close()


# -- slash commands --------------------------------------------------------------------------
async def test_reindex_refused_without_manage_server(h: Any) -> None:
    h.fake.slash("reindex")
    await h.fake.settle()
    assert h.service.reindexed == 0
    [response] = h.fake.named("interaction_response")
    assert response["type"] == 4 and response["data"]["flags"] == 64  # ephemeral
    assert response["data"]["content"] == T["reindex_refused"]


async def test_reindex_runs_with_manage_server(h: Any) -> None:
    h.fake.slash("reindex", user_id=ADMIN_ID, permissions=MANAGE_GUILD)
    await h.fake.settle()
    assert h.service.reindexed == 1
    [followup] = h.fake.named("followup")
    assert "2 added" in followup["content"] and "12 chunks" in followup["content"]
    assert followup["allowed_mentions"] == NO_PINGS


async def test_latest_lists_articles(h: Any) -> None:
    h.fake.slash("latest", options={"n": 3})
    await h.fake.settle()
    [listing] = h.fake.named("followup")
    assert listing["content"].count("•") == 3 and "<https://example.org/1>" in listing["content"]


async def test_slash_ask_answers_with_the_question_quoted(h: Any) -> None:
    h.fake.slash("ask", options={"question": "Que cherche Poutine ?"})
    await h.fake.settle()
    [deferred] = h.fake.named("interaction_response")
    assert deferred["type"] == 5  # "thinking…"
    [answer] = h.fake.named("edit_original")
    assert answer["content"].startswith("> Que cherche Poutine ?") and answer["components"]
    assert_no_pings(h.fake)


# -- votes -----------------------------------------------------------------------------------
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


# -- load: the event loop stays free -------------------------------------------------------
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
