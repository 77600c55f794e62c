"""``/digest subscribe|unsubscribe|now``, ``/feeds add|list|remove``, ``/latest [topic]``, and the loops
that run the feeds (every ``NEWSBOT_FEEDS_INTERVAL`` minutes) and post the subscribed digests.

Thin: the work is in :mod:`.work` (blocking, run in a thread), :mod:`.subscriptions` (SQLite),
:mod:`.feedlist` and :mod:`.render`. No ``from __future__ import annotations`` here: discord.py
reads the commands' annotations.
"""

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.cogs.digest import feedlist, work
from bot.discord.cogs.digest.render import render_digest, render_header, texts, thread_title, window_text
from bot.discord.cogs.digest.subscriptions import SubscriptionStore, due, parse_time
from bot.discord.formatting import (
    no_preview_link,
    render_apology,
    render_latest,
    render_rate_limited,
    split_message,
)
from retrieval.digest.build import now_utc
from retrieval.digest.types import Digest
from retrieval.errors import NewsbotError

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

log = logging.getLogger(__name__)
T = TypeVar("T")
NONE = discord.AllowedMentions.none()
MANAGE = discord.Permissions(manage_guild=True)


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn`` in a worker thread (store, model and network work never runs on the event loop)."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


async def say(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=NONE)
    else:
        await interaction.response.send_message(text, ephemeral=ephemeral, allowed_mentions=NONE)


def may_manage(interaction: discord.Interaction) -> bool:
    permissions = getattr(interaction, "permissions", None)
    return bool(permissions and permissions.manage_guild)


class Digests(commands.Cog):
    digest = app_commands.Group(name="digest", description="Story digests of what arrived", guild_only=True)
    feeds = app_commands.Group(name="feeds", description="The RSS/Atom feeds the bot reads (Manage Server)",
                               guild_only=True, default_permissions=MANAGE)

    def __init__(self, bot: "NewsBot") -> None:
        self.bot = bot
        self.settings = bot.settings
        self.language = bot.settings.discord.language
        self.t = texts(self.language)
        self.subscriptions = SubscriptionStore(bot.settings.data_dir / "digest.sqlite3")
        self._posting = asyncio.Lock()
        self.feeds_runs = 0

    # -- lifecycle -----------------------------------------------------------------------
    async def cog_load(self) -> None:
        interval = self.settings.feeds.interval
        if interval > 0:
            self.feeds_loop.change_interval(minutes=interval)
            self.feeds_loop.start()
        if await off_loop(self.subscriptions.all):
            self.tick.start()

    async def cog_unload(self) -> None:
        self.feeds_loop.cancel()
        self.tick.cancel()

    def bot_texts(self, key: str) -> str:
        from bot.discord.formatting import texts as bot_texts

        return bot_texts(self.language)[key]

    # -- the loops -------------------------------------------------------------------------
    @tasks.loop(minutes=60)
    async def feeds_loop(self) -> None:
        await self.run_feeds()

    async def run_feeds(self) -> int:
        """Read the feeds and reindex (in a thread), then post the digests that became due."""
        try:
            added, summary = await off_loop(work.run_feeds, self.bot.service)
        except Exception:
            log.exception("the feeds run failed")
            return 0
        self.feeds_runs += 1
        log.warning("feeds run: %s", summary)
        if added:
            await self.check_subscriptions()
        return added

    @tasks.loop(seconds=60)
    async def tick(self) -> None:
        await self.check_subscriptions()

    async def check_subscriptions(self, now: dt.datetime | None = None) -> int:
        """Post every digest that is due; the number posted."""
        now = now or now_utc()
        posted = 0
        async with self._posting:
            for sub in await off_loop(self.subscriptions.all):
                try:
                    count = await off_loop(work.arrivals_since, self.bot.service, sub.last()) if sub.every else 0
                    if not due(sub, now, count):
                        continue
                    channel = self.bot.get_channel(sub.channel_id)
                    if channel is None:
                        log.warning("digest: channel %s is gone", sub.channel_id)
                        continue
                    digest = await off_loop(work.make_digest, self.bot.service, sub.last(), sub.source, self.language)
                    if digest.stories:
                        await self.post(channel, digest)  # type: ignore[arg-type]
                        posted += 1
                    await off_loop(self.subscriptions.mark_sent, sub.channel_id, now)
                except Exception:
                    log.exception("digest for channel %s failed", sub.channel_id)
        return posted

    async def post(self, channel: discord.abc.Messageable, digest: Digest) -> discord.abc.Messageable:
        """The header in the channel, the stories in a thread opened on it."""
        if isinstance(channel, discord.Thread):
            target: discord.abc.Messageable = channel
            await channel.send(render_header(digest, self.language), allowed_mentions=NONE)
        else:
            header = await channel.send(render_header(digest, self.language), allowed_mentions=NONE)
            target = await header.create_thread(
                name=thread_title(digest, self.language, today=now_utc().date().isoformat()),
                auto_archive_duration=self.settings.discord.thread_archive,  # type: ignore[arg-type]
            )
        for part in render_digest(digest, self.language):
            await target.send(part, allowed_mentions=NONE)
        return target

    def _sync_tick(self, any_left: bool) -> None:
        if any_left and not self.tick.is_running():
            self.tick.start()
        elif not any_left and self.tick.is_running():
            self.tick.cancel()

    # -- /digest ---------------------------------------------------------------------------
    @digest.command(name="subscribe", description="Post a digest here every day at a time (UTC) or every N new articles")
    @app_commands.describe(time="time of day, UTC (08:00)", every="a digest every N new articles",
                           source="only this outlet", channel="the channel (default: this one)")
    async def subscribe(
        self, interaction: discord.Interaction, time: str | None = None,
        every: app_commands.Range[int, 1, 1000] | None = None, source: str | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        if not may_manage(interaction):
            await say(interaction, self.bot_texts("reindex_refused"))
            return
        if (time is None) == (every is None):
            await say(interaction, self.t["subscribe_needs"])
            return
        target = channel or interaction.channel
        try:
            at_time = parse_time(time) if time is not None else None
            await off_loop(self.subscriptions.subscribe, getattr(target, "id", 0), interaction.guild_id,
                           at_time=at_time, every=every, source=source, user_id=interaction.user.id, now=now_utc())
        except NewsbotError as exc:
            await say(interaction, render_apology(self.language, str(exc)))
            return
        self._sync_tick(True)
        text = self.t["subscribed_time"].format(time=at_time) if at_time else self.t["subscribed_every"].format(every=every)
        await say(interaction, text, ephemeral=False)

    @digest.command(name="unsubscribe", description="No more digests in this channel")
    async def unsubscribe(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        if not may_manage(interaction):
            await say(interaction, self.bot_texts("reindex_refused"))
            return
        target = channel or interaction.channel
        removed = await off_loop(self.subscriptions.unsubscribe, getattr(target, "id", 0))
        self._sync_tick(bool(await off_loop(self.subscriptions.all)))
        await say(interaction, self.t["unsubscribed" if removed else "not_subscribed"], ephemeral=not removed)

    @digest.command(name="now", description="Post a digest of what arrived (default: the last 24 hours)")
    @app_commands.describe(since="24h, 7d, a date (2025-08-15) or all", source="only this outlet")
    async def now(self, interaction: discord.Interaction, since: str | None = None,
                  source: str | None = None) -> None:
        wait = self.bot.limiter.hit(interaction.user.id)
        if wait:
            await say(interaction, render_rate_limited(wait, self.language))
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            start = await off_loop(work.since_words, self.bot.service, since)
            digest = await off_loop(work.make_digest, self.bot.service, start, source, self.language)
        except NewsbotError as exc:
            await say(interaction, render_apology(self.language, str(exc)))
            return
        if not digest.stories or interaction.channel is None:
            await say(interaction, self.t["nothing_new"].format(window=window_text(digest, self.language)))
            return
        target = await self.post(interaction.channel, digest)  # type: ignore[arg-type]
        await say(interaction, self.t["posted"].format(thread=getattr(target, "mention", "")))

    # -- /feeds ----------------------------------------------------------------------------
    @feeds.command(name="add", description="Follow an RSS/Atom feed (Manage Server)")
    async def feeds_add(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 500]) -> None:
        if not may_manage(interaction):
            await say(interaction, self.bot_texts("reindex_refused"))
            return
        try:
            added = await off_loop(feedlist.add_feed, self.settings.feeds.file, url)
        except NewsbotError as exc:
            await say(interaction, render_apology(self.language, str(exc)))
            return
        await say(interaction, self.t["feed_added" if added else "feed_known"].format(url=no_preview_link(url)))

    @feeds.command(name="list", description="The feeds the bot reads")
    async def feeds_list(self, interaction: discord.Interaction) -> None:
        if not may_manage(interaction):
            await say(interaction, self.bot_texts("reindex_refused"))
            return
        try:
            urls = await off_loop(feedlist.feeds, self.settings.feeds.file)
        except NewsbotError as exc:
            await say(interaction, render_apology(self.language, str(exc)))
            return
        if not urls:
            await say(interaction, self.t["feeds_none"])
            return
        text = "\n".join([self.t["feeds_header"].format(count=len(urls)), *(f"• {no_preview_link(u)}" for u in urls)])
        for part in split_message(text):
            await say(interaction, part)

    @feeds.command(name="remove", description="Stop following a feed (Manage Server)")
    async def feeds_remove(self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 500]) -> None:
        if not may_manage(interaction):
            await say(interaction, self.bot_texts("reindex_refused"))
            return
        removed = await off_loop(feedlist.remove_feed, self.settings.feeds.file, url)
        await say(interaction, self.t["feed_removed" if removed else "feed_unknown"].format(url=no_preview_link(url)))

    # -- /latest ---------------------------------------------------------------------------
    @app_commands.command(name="latest", description="The newest articles, on a topic if given")
    @app_commands.describe(topic="only articles about this", n="how many articles")
    async def latest(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 200] | None = None,
                     n: app_commands.Range[int, 1, 25] | None = None) -> None:
        await interaction.response.defer(thinking=True)
        try:
            infos = await off_loop(work.latest_on, self.bot.service, topic, n or self.settings.discord.latest)
        except NewsbotError as exc:
            await interaction.followup.send(render_apology(self.language, str(exc)), allowed_mentions=NONE)
            return
        if topic and not infos:
            text = self.t["topic_none"].format(topic=topic.replace("@", "@\u200b"))
            await interaction.followup.send(text, allowed_mentions=NONE)
            return
        for part in split_message(render_latest(infos, self.language)):
            await interaction.followup.send(part, allowed_mentions=NONE)
