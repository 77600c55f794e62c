"""The digest cog through real discord.py objects (tests/support/discord_fakes) over the real service
(small model, embedded Chroma) and feeds served by the loopback news site over several days."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.discord.cogs.digest.render import texts as digest_texts
from bot.discord.formatting import DISCORD_LIMIT, texts
from bot.settings import load_settings
from retrieval.service import open_service
from tests.conftest import SMALL_MODEL, write_article
from tests.retrieval.digest.stories import write_stories
from tests.support.discord_fakes import (
    ADMIN_ID,
    CHANNEL_ID,
    MANAGE_GUILD,
    OTHER_CHANNEL_ID,
    FakeDiscord,
    assert_no_pings,
)
from tests.support.newsite import BUDGET, CANICULE, GREVE, LUMIERE, NewsSite

pytestmark = pytest.mark.slow
T = texts("fr")
D = digest_texts("fr")


def slash_sub(fake: FakeDiscord, group: str, name: str, options: dict[str, Any] | None = None,
              **kwargs: Any) -> dict[str, Any]:
    """An INTERACTION_CREATE for ``/group name option:value…``."""
    opts = [{"type": 4 if isinstance(v, int) else 3, "name": k, "value": v} for k, v in (options or {}).items()]
    data = {"id": str(fake.snowflake()), "name": group, "type": 1,
            "options": [{"type": 1, "name": name, "options": opts}]}
    payload = fake.interaction_payload(kind=2, data=data, **kwargs)
    fake.state.parse_interaction_create(payload)
    return payload


async def start_bot(settings: Any, service: Any, monkeypatch: Any) -> tuple[Any, FakeDiscord]:
    from bot.discord.app import NewsBot

    bot = NewsBot(service, settings)
    fake = FakeDiscord(bot, monkeypatch)
    fake.setup_world()
    await bot._async_setup_hook()
    await bot.setup_hook()
    return bot, fake


def cog_of(bot: Any) -> Any:
    return bot.get_cog("Digests")


async def quiet(bot: Any, fake: FakeDiscord, timeout: float = 120.0) -> None:
    """Wait for every task the events started, stopping the cog's loops (they never end) as they start."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        cog_of(bot).tick.cancel()
        cog_of(bot).feeds_loop.cancel()
        if bot.refresher is not None:  # the bot's background refresh loop
            bot.refresher.cancel()
        await asyncio.sleep(0.01)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if not pending:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"tasks still running: {pending}")


@pytest.fixture
def settings(tmp_path: Path, models_dir: Path) -> Any:
    corpus = tmp_path / "news"
    write_stories(corpus)
    return load_settings(embedding_model=SMALL_MODEL, embedding_quantize=False, model_dir=models_dir,
                         data_dir=tmp_path / "data", corpus_dir=corpus, discord_sync_commands=False,
                         feeds_file=tmp_path / "feeds.txt", http_timeout=2.0,
                         http_allow_hosts="127.0.0.1")  # the loopback news site


@pytest.fixture
def service(settings: Any, small_embeddings: Any) -> Any:
    svc = open_service(settings, create=True, embeddings=small_embeddings)
    svc.reindex()
    return svc


async def test_digest_now_is_posted_in_a_thread(settings: Any, service: Any, monkeypatch: Any) -> None:
    bot, fake = await start_bot(settings, service, monkeypatch)
    try:
        slash_sub(fake, "digest", "now", {"since": "all"})
        await quiet(bot, fake)
        header = next(m for m in fake.named("send_message") if m["channel_id"] == CHANNEL_ID)
        assert "**Digest**" in header["content"] and "7 articles" in header["content"]
        [thread] = fake.named("start_thread")
        assert thread["channel_id"] == CHANNEL_ID and thread["name"].startswith("Digest du")
        parts = [m["content"] for m in fake.named("send_message") if m["channel_id"] == thread["message_id"]]
        assert parts and all(len(p) <= DISCORD_LIMIT for p in parts)
        body = "\n".join(parts)
        assert body.index("Storm Aurora") < body.index("Tarsberg") < body.index(D["others"])  # sizes, singles last
        assert "<https://wireone.example/wire/flood>" in body and "https://wireone" not in body.replace("<https", "")
        assert "[1]" in body and "Wire One" in body
        followup = fake.named("followup")[-1]
        assert followup["flags"] == 64 and "<#" in followup["content"]  # ephemeral pointer to the thread
        assert_no_pings(fake)
    finally:
        await bot.close()


async def test_subscriptions_need_manage_server_and_survive_a_restart(
    settings: Any, service: Any, monkeypatch: Any
) -> None:
    bot, fake = await start_bot(settings, service, monkeypatch)
    try:
        slash_sub(fake, "digest", "subscribe", {"time": "08:00"})  # a member without Manage Server
        await quiet(bot, fake)
        assert fake.named("interaction_response")[-1]["data"]["content"] == T["reindex_refused"]
        assert cog_of(bot).subscriptions.all() == []
        slash_sub(fake, "digest", "subscribe", {"time": "8h"}, user_id=ADMIN_ID, permissions=MANAGE_GUILD)
        await quiet(bot, fake)
        slash_sub(fake, "digest", "subscribe", {"every": 1}, user_id=ADMIN_ID, permissions=MANAGE_GUILD,
                  channel_id=OTHER_CHANNEL_ID)
        await quiet(bot, fake)
        answers = [r["data"]["content"] for r in fake.named("interaction_response")[-2:]]
        assert answers == [D["subscribed_time"].format(time="08:00"), D["subscribed_every"].format(every=1)]
    finally:
        await bot.close()

    # a new article arrives while the bot is down; then the bot restarts
    write_article(settings.corpus_dir, "wire/flood-2", "Valmont counts the cost of Storm Aurora",
                  "Insurers estimate the damage of Storm Aurora in Valmont at 40 million euros, Mayor Ines Carbo "
                  "said, as Brenner county teams finished pumping water out of the harbour.",
                  source="Wire One", date="2025-03-16", url="https://wireone.example/wire/flood-2")
    service.reindex()
    bot, fake = await start_bot(settings, service, monkeypatch)
    try:
        cog = cog_of(bot)
        assert cog.tick.is_running()  # the subscriptions were read back
        assert {s.channel_id for s in cog.subscriptions.all()} == {CHANNEL_ID, OTHER_CHANNEL_ID}
        await quiet(bot, fake)
        posted = await cog.check_subscriptions(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1))
        assert posted == 2  # the daily one (its time has come) and the every-article one
        headers = [m for m in fake.named("send_message") if m["channel_id"] in (CHANNEL_ID, OTHER_CHANNEL_ID)]
        assert {m["channel_id"] for m in headers} == {CHANNEL_ID, OTHER_CHANNEL_ID}
        assert all("1 articles" in m["content"] or "1 article" in m["content"] for m in headers)
        assert len(fake.named("start_thread")) == 2
        again = await cog.check_subscriptions(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=2))
        assert again == 0  # nothing new since
        assert_no_pings(fake)
        slash_sub(fake, "digest", "unsubscribe", user_id=ADMIN_ID, permissions=MANAGE_GUILD)
        await quiet(bot, fake)
        assert [s.channel_id for s in cog.subscriptions.all()] == [OTHER_CHANNEL_ID]
    finally:
        await bot.close()


async def test_feeds_commands_and_runs_over_several_days(settings: Any, service: Any, monkeypatch: Any) -> None:
    with NewsSite() as site:
        site.rss_stories = [GREVE]
        site.atom_stories = [CANICULE]
        site.publish_feeds()
        bot, fake = await start_bot(settings, service, monkeypatch)
        try:
            cog = cog_of(bot)
            slash_sub(fake, "feeds", "add", {"url": site.url("/rss.xml")})  # not allowed
            await quiet(bot, fake)
            assert not settings.feeds.file.exists()
            for url in (site.url("/rss.xml"), site.url("/atom.xml"), site.url("/rss.xml"), "ftp://example.org/x"):
                slash_sub(fake, "feeds", "add", {"url": url}, user_id=ADMIN_ID, permissions=MANAGE_GUILD)
                await quiet(bot, fake)  # one at a time: the replies in order
            slash_sub(fake, "feeds", "list", user_id=ADMIN_ID, permissions=MANAGE_GUILD)
            await quiet(bot, fake)
            replies = [r["data"]["content"] for r in fake.named("interaction_response")[-5:]]
            assert "ajouté" in replies[0] and "ajouté" in replies[1] and "déjà suivi" in replies[2]
            assert "http\\(s\\)" in replies[3]  # as sent: brackets escaped (Discord shows http(s))
            assert replies[4].count("• <http://127.0.0.1") == 2
            assert settings.feeds.file.read_text().count("\n") == 2
            slash_sub(fake, "digest", "subscribe", {"every": 1}, user_id=ADMIN_ID, permissions=MANAGE_GUILD)
            await quiet(bot, fake)

            # day 1: the feeds bring two articles, reindexed in the background, and a digest of them
            assert await cog.run_feeds() == 2
            await quiet(bot, fake)
            [first] = [m for m in fake.named("send_message") if m["channel_id"] == CHANNEL_ID]
            assert "2 articles" in first["content"]
            # day 2: two more; the digest covers only them
            site.rss_stories = [GREVE, LUMIERE]
            site.atom_stories = [CANICULE, BUDGET]
            site.publish_feeds()
            assert await cog.run_feeds() == 2
            await quiet(bot, fake)
            headers = [m for m in fake.named("send_message") if m["channel_id"] == CHANNEL_ID]
            assert len(headers) == 2 and "2 articles" in headers[1]["content"]
            thread_id = fake.named("start_thread")[-1]["message_id"]
            body = "\n".join(m["content"] for m in fake.named("send_message") if m["channel_id"] == thread_id)
            assert "Budget 2026" in body and "Lumière" in body and "Grève" not in body
            # no new entry: nothing posted
            assert await cog.run_feeds() == 0
            assert len([m for m in fake.named("send_message") if m["channel_id"] == CHANNEL_ID]) == 2

            slash_sub(fake, "feeds", "remove", {"url": site.url("/atom.xml")}, user_id=ADMIN_ID,
                      permissions=MANAGE_GUILD)
            await quiet(bot, fake)
            assert "atom" not in settings.feeds.file.read_text()
            assert_no_pings(fake)
        finally:
            await bot.close()


async def test_latest_on_a_topic(settings: Any, service: Any, monkeypatch: Any) -> None:
    bot, fake = await start_bot(settings, service, monkeypatch)
    try:
        fake.slash("latest", options={"topic": "rail strike Tarsberg", "n": 2})
        await quiet(bot, fake)
        content = fake.named("followup")[-1]["content"]
        assert "Tarsberg" in content and content.count("• ") == 2
        fake.slash("latest")
        await quiet(bot, fake)
        assert fake.named("followup")[-1]["content"].count("• ") == 7
        assert json.dumps(fake.named("followup")).count('"parse": []') >= 2
    finally:
        await bot.close()
