"""The questions feature: mentions, replies and follow-ups in the bot's threads, and ``/ask``.

A thin cog owning its feature and its errors: deciding whether to answer is
:mod:`.triage`, the conversation is :mod:`.history`, answering is :mod:`.answering`.
No ``from __future__ import annotations`` here: discord.py reads the command's annotations.
"""

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.app import NewsBot
from bot.discord.cogs.questions import answering, history, scope, triage
from bot.discord.formatting import render_apology, render_rate_limited, show, strip_mention, texts
from bot.discord.transport import InteractionSink, reply_ephemeral, say

log = logging.getLogger(__name__)


class Questions(commands.Cog):
    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message when it is for the bot (mention, reply, follow-up in its thread).

        Whatever fails on the way (Discord, a malformed payload, the service), a message that
        may have been for the bot gets the short apology, and the bot goes on.
        """
        me = self.bot.user
        if me is None or not triage.may_reply(message, me):
            return
        try:
            await self._handle(message, me)
        except Exception as exc:
            log.error("answering message %s failed", message.id, exc_info=exc)
            if triage.perhaps_for_me(message, me):
                await say(message.channel, render_apology(self.bot.language), reference=message)

    async def _handle(self, message: discord.Message, me: discord.ClientUser) -> None:
        bot = self.bot
        settings = bot.settings.discord
        replied = await triage.replied_bot_message(message, me)
        verdict = triage.verdict(message, me, replied, dms=settings.dms, channels=settings.channels)
        if verdict is triage.Verdict.IGNORE:
            return
        channel = message.channel
        if verdict is triage.Verdict.DMS_OFF:
            await say(channel, texts(bot.language)["dms_off"])
            return
        question = strip_mention(message.content, me.id)
        if not question:
            await say(channel, texts(bot.language)["empty_question"], reference=message)
            return
        wait = bot.limiter.hit(message.author.id)
        if wait:
            await say(channel, render_rate_limited(wait, bot.language), reference=message)
            return
        turns = await history.conversation(
            message, replied, me, max_turns=bot.settings.history_turns,
            max_messages=settings.history_messages, language=bot.language,
        )
        sink = await answering.open_sink(message, question, settings.thread_archive)
        await answering.answer(bot, sink, question, turns, asker_id=message.author.id)

    @app_commands.command(name="ask", description="Ask a question about the news coverage")
    @app_commands.describe(
        question="your question",
        source="only these outlets (comma-separated), e.g. Le Monde, BBC",
        since="only articles from this day on (YYYY-MM-DD)",
        until="only articles up to this day (YYYY-MM-DD)",
    )
    async def ask(
        self,
        interaction: discord.Interaction[NewsBot],
        question: app_commands.Range[str, 1, 2000],
        source: app_commands.Range[str, 1, 200] | None = None,
        since: app_commands.Range[str, 1, 40] | None = None,
        until: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        bot = self.bot
        t = texts(bot.language)
        if interaction.guild_id is None and not bot.settings.discord.dms:
            await reply_ephemeral(interaction, t["dms_off"])
            return
        if not triage.channel_allowed(interaction.channel, bot.settings.discord.channels):
            await reply_ephemeral(interaction, t["channel_off"])
            return
        try:
            query_scope = scope.make_scope(source, since, until)
        except scope.ScopeError as exc:  # bad input: one line, nothing else lost
            await reply_ephemeral(interaction, t[exc.key].format(**{k: show(v) for k, v in exc.values.items()}))
            return
        wait = bot.limiter.hit(interaction.user.id)
        if wait:
            await reply_ephemeral(interaction, render_rate_limited(wait, bot.language))
            return
        await interaction.response.defer(thinking=True)
        await answering.answer(
            bot, InteractionSink(interaction), question, [], asker_id=interaction.user.id, quote=True, scope=query_scope
        )
