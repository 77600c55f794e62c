"""The Discord bot's lifecycle: :class:`NewsBot` receives its dependencies and loads its cogs.

Built like discord.py's ``examples/advanced_startup.py``: the service, settings, feedback
store and rate limiter come in through the constructor; :meth:`NewsBot.setup_hook` loads the
cogs (by name: the core imports no cog) and registers the slash commands. Model and store work
runs in a thread pool of ``discord_workers`` threads, never on the event loop.

The features live in ``bot.discord.cogs``: ``questions`` (mentions, replies, ``/ask``),
``admin`` (``/reindex``, ``/latest``), ``votes`` (the buttons under answers). Only this layer
imports discord.py; ``newsbot bot`` imports it when it runs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.errors import NewsTree
from bot.discord.feedback import FeedbackStore
from bot.discord.ratelimit import RateLimiter
from bot.discord.transport import no_pings
from bot.settings import AppSettings as Settings
from retrieval.types import Answer, ArticleInfo, QueryScope, ReindexReport, Turn

log = logging.getLogger(__name__)

T = TypeVar("T")

EXTENSIONS = (
    "bot.discord.cogs.questions", "bot.discord.cogs.admin", "bot.discord.cogs.votes", "bot.discord.cogs.digest",
)


class Answering(Protocol):
    """What the bot needs of the answering service (:class:`retrieval.service.AnsweringService`)."""

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        on_token: Callable[[str], None] | None = None,
        scope: QueryScope | None = None,
    ) -> Answer: ...

    def reindex(
        self, *, full_check: bool = False, progress: Callable[[int, int], None] | None = None
    ) -> ReindexReport: ...

    def latest(self, n: int = 5) -> list[ArticleInfo]: ...


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
        self.refresher: tasks.Loop[Any] | None = None
        self._refresh_executor: ThreadPoolExecutor | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def setup_hook(self) -> None:
        for extension in self.initial_extensions:
            await self.load_extension(extension)
        if self.settings.discord.sync_commands:
            await self.sync_commands()
        self.start_refresh()
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

    async def sync_commands(self) -> None:
        """Register the slash commands; a refusal is logged and the bot goes on without them
        (mentions and replies need no slash command)."""
        try:
            synced = await self.tree.sync()
        except (app_commands.CommandSyncFailure, discord.HTTPException) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.error("could not register the slash commands (%s): going on with mentions and replies only", first)
            return
        log.info("slash commands registered: %s", ", ".join(c.name for c in synced))

    def start_refresh(self) -> None:
        """Every ``discord_refresh_interval`` seconds, ``service.refresh()`` in its own thread: the
        service picks up index changes (another process's reindex) between questions, so they
        never land inside one. Only when the service has such a method."""
        refresh = getattr(self.service, "refresh", None)
        interval = self.settings.discord.refresh_interval
        if not callable(refresh) or interval <= 0 or self.refresher is not None:
            return
        self._refresh_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-refresh")
        executor = self._refresh_executor

        async def refresh_once() -> None:
            try:
                await asyncio.get_running_loop().run_in_executor(executor, refresh)
            except Exception:  # a failed refresh keeps the current view; the next one may succeed
                log.warning("refreshing the index view failed", exc_info=True)

        self.refresher = tasks.loop(seconds=interval)(refresh_once)
        self.refresher.start()

    async def on_ready(self) -> None:
        log.warning("connected to Discord as %s (id %s)", self.user, getattr(self.user, "id", "?"))

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the questions cog handles messages."""

    async def close(self) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.cancel()
        await super().close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.io_executor.shutdown(wait=False, cancel_futures=True)
        if self._refresh_executor is not None:
            self._refresh_executor.shutdown(wait=False, cancel_futures=True)

    # -- off the event loop ------------------------------------------------------------
    async def run_blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread (model and store work)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    async def run_io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in the feedback thread (never queued behind questions)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.io_executor, functools.partial(fn, *args, **kwargs))


# -- connection logging --------------------------------------------------------------------
class ReconnectLog(logging.Filter):
    """discord.py logs each reconnect attempt as an error with a traceback; a lost connection
    that the bot recovers from is routine: one INFO line saying why and when it retries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Attempting a reconnect"):
            reason = ""
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
            delay = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg = "Discord connection lost (%s): reconnecting in %.1f s"
            record.args = (reason or "no reason given", delay)
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
        return True


def quiet_reconnects() -> Callable[[], None]:
    """Install :class:`ReconnectLog` on discord.py's client logger; returns its removal."""
    logger = logging.getLogger("discord.client")
    flt = ReconnectLog()
    logger.addFilter(flt)
    return lambda: logger.removeFilter(flt)
