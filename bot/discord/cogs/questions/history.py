"""The conversation behind a question, read back from Discord (so it survives a restart):
the earlier messages of the bot's thread, or the answer a message replies to.

History is trimmed to the last ``history_turns`` turns here, once (:func:`recent`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import discord

from bot.discord.formatting import answer_body, one_line, strip_mention
from retrieval.types import Turn

CONVERSATION_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def recent(turns: Sequence[Turn], max_turns: int) -> list[Turn]:
    """The last ``max_turns`` turns (none when ``max_turns`` is 0)."""
    return list(turns[-max_turns:]) if max_turns > 0 else []


def turns_from_messages(
    messages: Sequence[tuple[bool, str]], max_turns: int, language: str = "fr"
) -> list[Turn]:
    """A conversation from chronological ``(from_the_bot, content)`` pairs.

    A user's message opens a turn; the bot's following messages (an answer may be split
    over several) are its answer. Only the last ``max_turns`` turns are kept.
    """
    turns: list[Turn] = []
    question: str | None = None
    answer: list[str] = []

    def close() -> None:
        if question is not None:
            turns.append(Turn(question=question, answer="\n".join(answer).strip()))

    for from_bot, content in messages:
        if not content.strip():
            continue
        if from_bot:
            quoted, body = answer_body(content, language)
            if quoted:  # an answer to /ask carries its question
                close()
                question, answer = quoted, []
            if question is not None and body:
                answer.append(body)
        else:
            close()
            question, answer = one_line(content), []
    close()
    return recent(turns, max_turns)


def _pair(message: discord.Message, my_id: int) -> tuple[bool, str]:
    from_bot = message.author.id == my_id
    return from_bot, message.content if from_bot else strip_mention(message.content, my_id)


async def conversation(
    message: discord.Message,
    replied: discord.Message | None,
    me: discord.abc.User,
    *,
    max_turns: int,
    max_messages: int,
    language: str,
) -> list[Turn]:
    """Earlier turns of ``message``'s conversation: its thread's, or the answer it replies to."""
    if max_turns <= 0:
        return []
    channel = message.channel
    pairs: list[tuple[bool, str]] = []
    if isinstance(channel, discord.Thread):
        older = [m async for m in channel.history(limit=max_messages, before=message)]
        older.reverse()
        starter_seen = False
        for m in older:
            if m.type == discord.MessageType.thread_starter_message:
                starter_seen = True
                resolved = m.reference.resolved if m.reference else None
                if isinstance(resolved, discord.Message):
                    pairs.append(_pair(resolved, me.id))
            elif m.type in CONVERSATION_TYPES:
                pairs.append(_pair(m, me.id))
        if not starter_seen and len(older) < max_messages and channel.owner_id == me.id and channel.parent:
            with contextlib.suppress(discord.HTTPException, AttributeError):
                starter = await channel.parent.fetch_message(channel.id)  # type: ignore[union-attr]
                pairs.insert(0, _pair(starter, me.id))
    elif replied is not None:
        before = replied.reference.resolved if replied.reference else None
        if isinstance(before, discord.Message):
            pairs.append(_pair(before, me.id))
        pairs.append(_pair(replied, me.id))
    return turns_from_messages(pairs, max_turns, language)
