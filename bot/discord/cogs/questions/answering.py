"""Answering one question: where the answer goes (a thread opened on the question), the service
asked off the event loop with the tokens streamed, the answer recorded for votes, sent in
parts with the vote buttons under the last. Every failure ends in the short apology.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Literal, cast

import discord

from bot.discord.app import NewsBot
from bot.discord.cogs.votes.view import vote_view
from bot.discord.errors import user_text
from bot.discord.formatting import message_parts, render_answer, thread_name
from bot.discord.transport import ChannelSink, Relay, Sink, typing
from retrieval.types import Answer, QueryScope, Turn

log = logging.getLogger(__name__)

ArchiveMinutes = Literal[60, 1440, 4320, 10080]  # validated by the settings


async def open_sink(message: discord.Message, question: str, archive_minutes: int) -> ChannelSink:
    """Where to answer: the thread the question is in, else a thread opened on it."""
    channel = message.channel
    if message.guild is None or isinstance(channel, discord.Thread):
        return ChannelSink(channel)
    try:
        thread = await message.create_thread(
            name=thread_name(question), auto_archive_duration=cast(ArchiveMinutes, archive_minutes)
        )
    except discord.HTTPException as exc:  # no permission, or a channel without threads
        log.warning("cannot open a thread (%s): answering in the channel", exc)
        return ChannelSink(channel, reference=message)
    return ChannelSink(thread)


async def answer(
    bot: NewsBot,
    sink: Sink,
    question: str,
    history: Sequence[Turn],
    *,
    asker_id: int,
    quote: bool = False,
    scope: QueryScope | None = None,
) -> Answer | None:
    """Ask the service off the loop, stream tokens if any, send the answer and its buttons."""
    relay = Relay(sink, asyncio.get_running_loop(), bot.settings.discord.stream_interval)
    try:
        async with typing(sink.channel):
            result: Answer = await bot.run_blocking(
                bot.service.ask, question, list(history), on_token=relay.on_token, scope=scope
            )
        answer_id = uuid.uuid4().hex
        await bot.run_io(
            bot.feedback.record_answer,
            answer_id,
            result.question,
            result.answer,
            [s.chunk_id for s in result.sources],
            channel_id=getattr(sink.channel, "id", None),
            asker_id=asker_id,
        )
        parts = message_parts(render_answer(result, language=bot.language, quote_question=quote))
        await relay.finish(parts, vote_view(answer_id, bot.language))
        return result
    except Exception as exc:
        text = user_text(exc, bot.language, doing=f"answering {question!r}")
    try:
        await relay.finish([text], None)
    except Exception:
        log.exception("could not even send the apology")
    return None
