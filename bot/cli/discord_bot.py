"""``newsbot bot``: run the Discord bot."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from retrieval.errors import ConfigError, IndexMissing, NewsbotError

if TYPE_CHECKING:
    from bot.settings import AppSettings

log = logging.getLogger(__name__)

NO_TOKEN = (
    "no Discord token: create an application and its bot at https://discord.com/developers/applications "
    "(Bot → Reset Token), then put DISCORD_TOKEN=… in .env or the environment (see the README's Discord section)"
)


def register(sub: Any) -> None:
    p = sub.add_parser("bot", help="run the Discord bot (needs DISCORD_TOKEN)")
    p.set_defaults(handler=cmd_bot)


def cmd_bot(args: argparse.Namespace, settings: AppSettings) -> int:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(NO_TOKEN)
    from retrieval.service import open_service

    try:
        service = open_service(settings)
    except IndexMissing:
        log.warning("no index yet: indexing the corpus first…")
        service = open_service(settings, create=True)
        log.warning("%s", service.reindex().summary())
    service.warm_up()  # before connecting: the first question is answered at full speed
    return run_bot(service, settings, token)


def run_bot(service: Any, settings: AppSettings, token: str) -> int:
    import aiohttp
    import discord

    from bot.discord.app import NewsBot, quiet_reconnects

    bot = NewsBot(service, settings)
    quiet_reconnects()  # reconnect attempts: one INFO line each, not a traceback
    try:
        bot.run(token, log_handler=None)  # newsbot's own logging is already configured
    except aiohttp.ClientConnectorDNSError as exc:
        raise NewsbotError(
            f"cannot reach Discord: the name {exc.host} could not be resolved (DNS); "
            "check the network connection, DNS or proxy, then start the bot again"
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise NewsbotError(
            f"cannot reach Discord at {exc.host}:{exc.port} ({exc.os_error.strerror or exc.os_error}); "
            "check the network connection, firewall or proxy, then start the bot again"
        ) from None
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_TOKEN: copy a fresh one from the developer portal") from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(
            "enable the Message Content intent: developer portal → your application → Bot → "
            "Privileged Gateway Intents"
        ) from None
    return 0
