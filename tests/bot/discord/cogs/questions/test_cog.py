"""The questions cog end to end: a mention answered in a thread, ``/ask``, failures.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.discord.formatting import texts
from tests.bot.discord.conftest import make_harness
from tests.support.discord_fakes import (
    CHANNEL_ID,
    assert_all_safe,
    assert_no_pings,
    mention,
)
from tests.support.fake_service import FakeService, source

NO_PINGS: dict[str, Any] = {"parse": []}
T = texts("fr")


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
        with caplog.at_level(logging.ERROR, logger="bot.discord.errors"):
            h.fake.user_says(mention("Que cherche Poutine ?"))
            await h.fake.settle()
        [reply] = h.fake.named("send_message")
        assert reply["content"] == T["apology"] and "components" not in reply or not reply.get("components")
        assert "Traceback" not in reply["content"] and "secret" not in reply["content"]
        assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
    finally:
        await h.bot.close()


async def test_slash_ask_answers_with_the_question_quoted(h: Any) -> None:
    h.fake.slash("ask", options={"question": "Que cherche Poutine ?"})
    await h.fake.settle()
    [deferred] = h.fake.named("interaction_response")
    assert deferred["type"] == 5  # "thinking…"
    [answer] = h.fake.named("edit_original")
    assert answer["content"].startswith("> Que cherche Poutine ?") and answer["components"]
    assert_no_pings(h.fake)


async def test_any_error_preparing_an_answer_ends_in_the_apology(h: Any, monkeypatch: Any) -> None:
    """Issue 16, defect 10: a TypeError (a malformed thread payload) left the user with silence."""
    from bot.discord.cogs.questions import history

    async def malformed(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("'NoneType' object is not subscriptable")

    real = history.conversation
    first = h.fake.user_says(mention("Que cherche Poutine en Alaska ?"))
    await h.fake.settle()
    monkeypatch.setattr(history, "conversation", malformed)
    h.fake.user_says("Et la Chine ?", channel_id=int(first["id"]))
    await h.fake.settle()
    apology = h.fake.named("send_message")[-1]
    assert apology["content"] == T["apology"] and not apology.get("components")
    monkeypatch.setattr(history, "conversation", real)
    h.fake.user_says("Et l'Inde ?", channel_id=int(first["id"]))  # the bot is still up
    await h.fake.settle()
    assert "**Sources**" in h.fake.named("send_message")[-1]["content"]
    assert [c.question for c in h.service.calls] == ["Que cherche Poutine en Alaska ?", "Et l'Inde ?"]


async def test_an_llm_masked_link_never_reaches_discord(tmp_path: Path, monkeypatch: Any) -> None:
    """Issue 16, defect 3: a model following an injected article writes a phishing link."""
    phish = "[Connectez-vous ici](https://evil.example/login)"
    service = FakeService(tokens=["Le sommet ", "a duré ", f"trois heures {phish} ", "[1](https://evil.example)"],
                          token_delay=0.05, text=f"Le sommet a duré trois heures {phish} [1](https://evil.example).")
    h = await make_harness(tmp_path, monkeypatch, service, discord_stream_interval=0.2)
    try:
        h.fake.user_says(mention("Combien de temps a duré le sommet ?"))
        await h.fake.settle()
        assert h.fake.named("edit_message"), "the answer was streamed"
        assert_all_safe(h.fake)
        assert "evil.example/login" in h.fake.named("edit_message")[-1]["content"]  # shown as text
    finally:
        await h.bot.close()


async def test_ask_options_restrict_the_question(h: Any) -> None:
    from retrieval.types import QueryScope

    h.fake.slash("ask", options={"question": "Que dit la BBC ?", "source": "BBC, Le Monde", "since": "2025-08-01",
                                 "until": "2025-08"})
    await h.fake.settle()
    [call] = h.service.calls
    assert call.scope == QueryScope(since="2025-08-01", until="2025-08-31", sources=("BBC", "Le Monde"))
    h.fake.slash("ask", options={"question": "Sans filtre ?"})
    await h.fake.settle()
    assert h.service.calls[-1].scope is None
    assert h.fake.named("edit_original")[-1]["content"].startswith("> Sans filtre ?")


async def test_a_bad_date_option_is_one_ephemeral_line(h: Any) -> None:
    h.fake.slash("ask", options={"question": "Quoi de neuf ?", "since": "2025-02-30"})
    await h.fake.settle()
    assert h.service.calls == []
    [response] = h.fake.named("interaction_response")
    assert response["type"] == 4 and response["data"]["flags"] == 64
    assert response["data"]["content"] == T["scope_bad_date"].format(value="2025-02-30")
