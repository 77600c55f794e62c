"""The Discord bot: a thin ``commands.Bot`` relaying questions to the answering service.

Built like discord.py's ``examples/advanced_startup.py``: :class:`NewsBot` receives its
dependencies (service, settings, feedback store, rate limiter) in its constructor and
loads its cogs in :meth:`NewsBot.setup_hook`. Model and store work runs in a thread pool
of ``discord_workers`` threads, never on the event loop; tokens streamed by an LLM from
a worker thread are handed to the loop with ``call_soon_threadsafe``.

Only this module and ``bot.discord.cogs.*`` import discord.py; ``newsbot bot`` imports them when
it runs, so ``newsbot --help`` and the other commands never load it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol, TypeVar, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs.votes import vote_view
from bot.discord.feedback import FeedbackStore
from bot.discord.formatting import (
    render_answer,
    render_apology,
    render_partial,
    render_rate_limited,
    split_message,
    strip_mention,
    texts,
    thread_name,
    turns_from_messages,
)
from bot.discord.ratelimit import RateLimiter
from bot.settings import AppSettings as Settings
from retrieval.errors import NewsbotError
from retrieval.types import Answer, ArticleInfo, ReindexReport, Turn

log = logging.getLogger(__name__)

T = TypeVar("T")


def no_pings() -> discord.AllowedMentions:
    """Mentions in the bot's messages ping nobody (users, roles, @everyone, replied user)."""
    return discord.AllowedMentions.none()


EXTENSIONS = ("bot.discord.cogs.questions", "bot.discord.cogs.admin", "bot.discord.cogs.votes", "bot.discord.cogs.digest")
ArchiveMinutes = Literal[60, 1440, 4320, 10080]  # validated by the settings


class Answering(Protocol):
    """What the bot needs of the answering service (:class:`retrieval.service.AnsweringService`)."""

    def ask(
        self, question: str, history: Sequence[Turn] = (), *, on_token: Callable[[str], None] | None = None
    ) -> Answer: ...

    def reindex(
        self, *, rebuild: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> ReindexReport: ...

    def latest(self, n: int = 5) -> list[ArticleInfo]: ...


# -- where an answer goes ------------------------------------------------------------------
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

    def __init__(self, interaction: discord.Interaction[NewsBot]) -> None:
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


# -- streaming -----------------------------------------------------------------------------
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


async def reply_ephemeral(interaction: discord.Interaction[NewsBot], text: str) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=no_pings())
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_pings())
    except discord.HTTPException:
        log.warning("could not reply to an interaction", exc_info=True)


# -- the command tree and the bot ----------------------------------------------------------
class NewsBot(commands.Bot):
    """Answers mentions, replies and follow-ups in its threads, and ``/ask``; see the cogs."""

    def __init__(
        self,
        service: Answering,
        settings: Settings,
        *,
        feedback: FeedbackStore | None = None,
        limiter: RateLimiter | None = None,
        executor: ThreadPoolExecutor | None = None,
        extensions: Sequence[str] = EXTENSIONS,
        **kwargs: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: enable it in the developer portal
        kwargs.setdefault("intents", intents)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            allowed_mentions=no_pings(),
            tree_cls=NewsTree,
            **kwargs,
        )
        self.service = service
        self.settings = settings
        self.language = settings.discord.language
        self.feedback = feedback or FeedbackStore(settings.feedback_path)
        self.limiter = limiter or RateLimiter(settings.discord.rate_limit, settings.discord.rate_window)
        self.executor = executor or ThreadPoolExecutor(
            max_workers=settings.discord.workers, thread_name_prefix="newsbot-answer"
        )
        self.io_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-feedback")
        self.initial_extensions = tuple(extensions)
        self._watcher: asyncio.Task[None] | None = None
        self._watch_stop: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.settings.discord.sync_commands:
            synced = await self.tree.sync()
            log.info("slash commands registered: %s", ", ".join(c.name for c in synced))
        if self.settings.watch.corpus:
            from retrieval.ingest.watch import awatch_corpus

            self._watch_stop = asyncio.Event()
            self._watcher = asyncio.create_task(
                awatch_corpus(
                    self.service,
                    self.settings,
                    lambda report: log.warning("corpus reindexed: %s", report.summary()),
                    self.run_blocking,
                    stop_event=self._watch_stop,
                )
            )

    async def on_ready(self) -> None:
        log.warning("connected to Discord as %s (id %s)", self.user, getattr(self.user, "id", "?"))

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the Questions cog handles messages."""

    async def close(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.cancel()
        await super().close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.io_executor.shutdown(wait=False, cancel_futures=True)

    # -- off the event loop ------------------------------------------------------------
    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread (model and store work)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def run_io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in the feedback thread (never queued behind questions)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.io_executor, functools.partial(fn, *args, **kwargs))

    # -- deciding whether to answer -----------------------------------------------------
    def channel_allowed(self, channel: object) -> bool:
        allowed = set(self.settings.discord.channels)
        if not allowed or channel is None:
            return True
        ids = {getattr(channel, "id", None), getattr(channel, "parent_id", None)}
        return bool(ids & allowed)

    async def replied_bot_message(self, message: discord.Message) -> discord.Message | None:
        """The bot's message this one replies to, if any."""
        me = self.user
        ref = message.reference
        if me is None or ref is None or ref.message_id is None:
            return None
        resolved = ref.resolved or ref.cached_message
        if resolved is None and me in message.mentions and ref.channel_id == message.channel.id:
            with contextlib.suppress(discord.HTTPException):
                resolved = await message.channel.fetch_message(ref.message_id)
        if isinstance(resolved, discord.Message) and resolved.author.id == me.id:
            return resolved
        return None

    async def handle_message(self, message: discord.Message) -> None:
        """Answer a message when it is for the bot (mention, reply, follow-up in its thread)."""
        me = self.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        channel = message.channel
        in_dm = message.guild is None
        own_thread = isinstance(channel, discord.Thread) and channel.owner_id == me.id
        mentioned = me.id in message.raw_mentions
        replied = await self.replied_bot_message(message)
        if in_dm:
            if not self.settings.discord.dms:
                await self._say(channel, texts(self.language)["dms_off"])
                return
        elif not (mentioned or own_thread or replied is not None) or not self.channel_allowed(channel):
            return
        question = strip_mention(message.content, me.id)
        if not question:
            await self._say(channel, texts(self.language)["empty_question"], reference=message)
            return
        wait = self.limiter.hit(message.author.id)
        if wait:
            await self._say(channel, render_rate_limited(wait, self.language), reference=message)
            return
        try:
            history = await self.conversation(message, replied)
            sink = await self.open_sink(message, question)
        except discord.HTTPException:
            log.exception("preparing to answer failed")
            await self._say(channel, render_apology(self.language), reference=message)
            return
        await self.answer(sink, question, history, asker_id=message.author.id)

    async def open_sink(self, message: discord.Message, question: str) -> ChannelSink:
        """Where to answer: the thread the question is in, else a thread opened on it."""
        channel = message.channel
        if message.guild is None or isinstance(channel, discord.Thread):
            return ChannelSink(channel)
        try:
            thread = await message.create_thread(
                name=thread_name(question), auto_archive_duration=cast(ArchiveMinutes, self.settings.discord.thread_archive)
            )
        except discord.HTTPException as exc:  # no permission, or a channel without threads
            log.warning("cannot open a thread (%s): answering in the channel", exc)
            return ChannelSink(channel, reference=message)
        return ChannelSink(thread)

    async def conversation(self, message: discord.Message, replied: discord.Message | None) -> list[Turn]:
        """Earlier turns, read back from Discord (so they survive a restart)."""
        me = self.user
        turns = self.settings.history_turns
        if me is None or turns <= 0:
            return []
        channel = message.channel
        pairs: list[tuple[bool, str]] = []
        if isinstance(channel, discord.Thread):
            limit = self.settings.discord.history_messages
            older = [m async for m in channel.history(limit=limit, before=message)]
            older.reverse()
            starter_seen = False
            for m in older:
                if m.type == discord.MessageType.thread_starter_message:
                    starter_seen = True
                    resolved = m.reference.resolved if m.reference else None
                    if isinstance(resolved, discord.Message):
                        pairs.append(self._pair(resolved, me.id))
                elif m.type in (discord.MessageType.default, discord.MessageType.reply):
                    pairs.append(self._pair(m, me.id))
            if not starter_seen and len(older) < limit and channel.owner_id == me.id and channel.parent:
                with contextlib.suppress(discord.HTTPException, AttributeError):
                    starter = await channel.parent.fetch_message(channel.id)  # type: ignore[union-attr]
                    pairs.insert(0, self._pair(starter, me.id))
        elif replied is not None:
            before = replied.reference.resolved if replied.reference else None
            if isinstance(before, discord.Message):
                pairs.append(self._pair(before, me.id))
            pairs.append(self._pair(replied, me.id))
        return turns_from_messages(pairs, turns, self.language)

    @staticmethod
    def _pair(message: discord.Message, my_id: int) -> tuple[bool, str]:
        from_bot = message.author.id == my_id
        return from_bot, message.content if from_bot else strip_mention(message.content, my_id)

    # -- answering ------------------------------------------------------------------------
    async def handle_ask(self, interaction: discord.Interaction[NewsBot], question: str) -> None:
        t = texts(self.language)
        if interaction.guild_id is None and not self.settings.discord.dms:
            await reply_ephemeral(interaction, t["dms_off"])
            return
        if not self.channel_allowed(interaction.channel):
            await reply_ephemeral(interaction, t["channel_off"])
            return
        wait = self.limiter.hit(interaction.user.id)
        if wait:
            await reply_ephemeral(interaction, render_rate_limited(wait, self.language))
            return
        await interaction.response.defer(thinking=True)
        await self.answer(InteractionSink(interaction), question, [], asker_id=interaction.user.id, quote=True)

    async def answer(
        self, sink: Sink, question: str, history: Sequence[Turn], *, asker_id: int, quote: bool = False
    ) -> Answer | None:
        """Ask the service off the loop, stream tokens if any, send the answer and its buttons."""
        relay = Relay(sink, asyncio.get_running_loop(), self.settings.discord.stream_interval)
        try:
            async with self._typing(sink.channel):
                answer: Answer = await self.run_blocking(
                    self.service.ask, question, list(history), on_token=relay.on_token
                )
            answer_id = uuid.uuid4().hex
            await self.run_io(
                self.feedback.record_answer,
                answer_id,
                answer.question,
                answer.answer,
                [s.chunk_id for s in answer.sources],
                channel_id=getattr(sink.channel, "id", None),
                asker_id=asker_id,
            )
            parts = split_message(render_answer(answer, language=self.language, quote_question=quote))
            await relay.finish(parts, vote_view(answer_id, self.language))
            return answer
        except NewsbotError as exc:  # a user-fit one-line reason (question too long, no index…)
            log.info("could not answer %r: %s", question, exc)
            await self._apologise(relay, render_apology(self.language, str(exc)))
        except Exception:
            log.exception("answering %r failed", question)
            await self._apologise(relay, render_apology(self.language))
        return None

    async def _apologise(self, relay: Relay, text: str) -> None:
        try:
            await relay.finish([text], None)
        except Exception:
            log.exception("could not even send the apology")

    @contextlib.asynccontextmanager
    async def _typing(self, channel: discord.abc.Messageable | None) -> AsyncIterator[None]:
        """The typing indicator while answering; failing to show it is not an error."""
        if channel is None:
            yield
            return
        typing = channel.typing()
        try:
            await typing.__aenter__()
        except discord.HTTPException:
            log.debug("no typing indicator", exc_info=True)
            yield
            return
        try:
            yield
        finally:
            await typing.__aexit__(None, None, None)

    async def _say(self, channel: discord.abc.Messageable, text: str, *, reference: discord.Message | None = None) -> None:
        try:
            await ChannelSink(channel, reference).send(text)
        except discord.HTTPException:
            log.warning("could not send a message to %s", getattr(channel, "id", "?"), exc_info=True)


class NewsTree(app_commands.CommandTree[NewsBot]):
    """Slash command errors become one short ephemeral line (never a traceback)."""

    async def on_error(self, interaction: discord.Interaction[NewsBot], error: app_commands.AppCommandError) -> None:
        language = interaction.client.settings.discord.language
        t = texts(language)
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.MissingPermissions):
            log.info("%s may not run /%s", interaction.user, getattr(interaction.command, "name", "?"))
            text = t["reindex_refused"]
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = t["guild_only"]
        elif isinstance(original, NewsbotError):
            log.info("/%s failed: %s", getattr(interaction.command, "name", "?"), original)
            text = render_apology(language, str(original))
        else:
            log.error("slash command failed", exc_info=original)
            text = render_apology(language)
        await reply_ephemeral(interaction, text)


def create_bot(service: Answering, settings: Settings, **kwargs: Any) -> NewsBot:
    """The bot with its default dependencies built from the settings."""
    return NewsBot(service, settings, **kwargs)
