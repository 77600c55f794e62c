"""Where the bot's messages go: sinks (a channel or thread, a slash command's response) and the
streaming relay that shows an LLM's answer while it is written.

Every message leaves with :func:`no_pings`: whatever its text says, nobody is pinged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import discord

from bot.discord.formatting import render_partial

log = logging.getLogger(__name__)


def no_pings() -> discord.AllowedMentions:
    """Mentions in the bot's messages ping nobody (users, roles, @everyone, replied user)."""
    return discord.AllowedMentions.none()


class Sink(Protocol):
    @property
    def channel(self) -> discord.abc.Messageable | None: ...

    async def send(self, content: str, view: discord.ui.View | None = None) -> discord.Message: ...

    async def edit(self, message: discord.Message, content: str, view: discord.ui.View | None = None) -> None: ...


def _view_kw(view: discord.ui.View | None) -> dict[str, Any]:
    return {"view": view} if view is not None else {}


class ChannelSink:
    """Messages in a channel or thread; the first one may reply to the question."""

    def __init__(self, channel: discord.abc.Messageable, reference: discord.Message | None = None) -> None:
        self._channel = channel
        self.reference = reference

    @property
    def channel(self) -> discord.abc.Messageable:
        return self._channel

    async def send(self, content: str, view: discord.ui.View | None = None) -> discord.Message:
        kwargs: dict[str, Any] = {"allowed_mentions": no_pings(), **_view_kw(view)}
        if self.reference is not None:
            kwargs["reference"] = self.reference.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
            self.reference = None
        return await self._channel.send(content, **kwargs)

    async def edit(self, message: discord.Message, content: str, view: discord.ui.View | None = None) -> None:
        await message.edit(content=content, allowed_mentions=no_pings(), **_view_kw(view))


class InteractionSink:
    """The deferred response of a slash command, then follow-up messages."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self._first = True

    @property
    def channel(self) -> None:
        return None  # no typing indicator: Discord shows "thinking…" itself

    async def send(self, content: str, view: discord.ui.View | None = None) -> discord.Message:
        if self._first:
            self._first = False
            return await self.interaction.edit_original_response(
                content=content, allowed_mentions=no_pings(), **_view_kw(view)
            )
        return await self.interaction.followup.send(content, allowed_mentions=no_pings(), wait=True, **_view_kw(view))

    async def edit(self, message: discord.Message, content: str, view: discord.ui.View | None = None) -> None:
        await message.edit(content=content, allowed_mentions=no_pings(), **_view_kw(view))


class Relay:
    """Shows an answer while it is generated, editing one message at most once per interval.

    :meth:`on_token` is called from the worker thread; everything else runs on the loop.
    """

    def __init__(self, sink: Sink, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.sink = sink
        self.loop = loop
        self.interval = interval
        self.tokens: list[str] = []
        self.message: discord.Message | None = None
        self.edits = 0
        self._dirty = False
        self._closed = False
        self._sending = False
        self._last = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def on_token(self, token: str) -> None:  # worker thread
        self.loop.call_soon_threadsafe(self._push, token)

    def _push(self, token: str) -> None:
        if self._closed:
            return
        self.tokens.append(token)
        self._dirty = True
        if self._task is None or self._task.done():
            delay = max(0.0, self._last + self.interval - self.loop.time())
            self._task = self.loop.create_task(self._run(delay))

    async def _run(self, delay: float) -> None:
        await asyncio.sleep(delay)
        while self._dirty and not self._closed:
            self._dirty = False
            content = render_partial("".join(self.tokens))
            self._sending = True
            try:
                if self.message is None:
                    self.message = await self.sink.send(content)
                else:
                    await self.sink.edit(self.message, content)
                self.edits += 1
            except discord.HTTPException as exc:
                log.warning("streaming an answer: %s", exc)
            finally:
                self._sending = False
                self._last = self.loop.time()
            if self._dirty and not self._closed:
                await asyncio.sleep(self.interval)

    async def finish(self, parts: Sequence[str], view: discord.ui.View | None) -> list[discord.Message]:
        """Replace the streamed text by the final parts; the view goes under the last one."""
        self._closed = True
        if self._task is not None and not self._task.done():
            if self._sending:
                await self._task
            else:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        sent: list[discord.Message] = []
        for i, part in enumerate(parts):
            part_view = view if i == len(parts) - 1 else None
            if i == 0 and self.message is not None:
                await self.sink.edit(self.message, part, part_view)
                sent.append(self.message)
            else:
                sent.append(await self.sink.send(part, part_view))
        return sent


async def reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """A short line only the user sees (the interaction's response, or a follow-up after it)."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=no_pings())
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_pings())
    except discord.HTTPException:
        log.warning("could not reply to an interaction", exc_info=True)


async def say(channel: discord.abc.Messageable, text: str, *, reference: discord.Message | None = None) -> None:
    """One short message (a refusal, an apology); failing to send it is logged, never raised."""
    try:
        await ChannelSink(channel, reference).send(text)
    except discord.HTTPException:
        log.warning("could not send a message to %s", getattr(channel, "id", "?"), exc_info=True)


@contextlib.asynccontextmanager
async def typing(channel: discord.abc.Messageable | None) -> AsyncIterator[None]:
    """The typing indicator while answering; failing to show it is not an error."""
    if channel is None:
        yield
        return
    indicator = channel.typing()
    try:
        await indicator.__aenter__()
    except discord.HTTPException:
        log.debug("no typing indicator", exc_info=True)
        yield
        return
    try:
        yield
    finally:
        await indicator.__aexit__(None, None, None)
