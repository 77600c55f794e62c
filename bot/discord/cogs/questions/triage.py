"""Whether a message is for the bot: a mention, a reply to one of its answers, or any message
in a thread it opened (its follow-ups); DMs only when allowed; channels only when allowed."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Collection

import discord


class Verdict(enum.Enum):
    IGNORE = "ignore"  # not for the bot: say nothing
    DMS_OFF = "dms_off"  # a direct message while DMs are off: say so
    ANSWER = "answer"


ANSWERABLE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def channel_allowed(channel: object, allowed: Collection[int]) -> bool:
    """``channel`` (or the channel its thread belongs to) is one of ``allowed``; empty = all."""
    if not allowed or channel is None:
        return True
    ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
    return bool(ids & set(allowed))


async def replied_bot_message(message: discord.Message, me: discord.abc.User) -> discord.Message | None:
    """The bot's message this one replies to, if any (fetched when the gateway did not send it)."""
    ref = message.reference
    if ref is None or ref.message_id is None:
        return None
    resolved = ref.resolved or ref.cached_message
    if resolved is None and me in message.mentions and ref.channel_id == message.channel.id:
        with contextlib.suppress(discord.HTTPException):
            resolved = await message.channel.fetch_message(ref.message_id)
    if isinstance(resolved, discord.Message) and resolved.author.id == me.id:
        return resolved
    return None


def verdict(
    message: discord.Message,
    me: discord.abc.User,
    replied: discord.Message | None,
    *,
    dms: bool,
    channels: Collection[int],
) -> Verdict:
    """What to do with ``message`` (``replied``: the bot's message it replies to, if any)."""
    if message.author.bot or message.author.id == me.id or message.type not in ANSWERABLE_TYPES:
        return Verdict.IGNORE
    channel = message.channel
    if message.guild is None:
        return Verdict.ANSWER if dms else Verdict.DMS_OFF
    own_thread = isinstance(channel, discord.Thread) and channel.owner_id == me.id
    mentioned = me.id in message.raw_mentions
    if not (mentioned or own_thread or replied is not None) or not channel_allowed(channel, channels):
        return Verdict.IGNORE
    return Verdict.ANSWER


def may_reply(message: discord.Message, me: discord.abc.User) -> bool:
    """Cheap first test, before any network call: a human's ordinary message."""
    return not (message.author.bot or message.author.id == me.id) and message.type in ANSWERABLE_TYPES


def perhaps_for_me(message: discord.Message, me: discord.abc.User) -> bool:
    """After a failure, whether the message may have been for the bot (then it apologises)."""
    channel = message.channel
    return (
        message.guild is None
        or me.id in message.raw_mentions
        or message.reference is not None
        or (isinstance(channel, discord.Thread) and channel.owner_id == me.id)
    )
