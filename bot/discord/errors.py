"""Error translation at the Discord edge: any failure becomes one short line for the user
(never a traceback); the details go to the log.

:func:`user_text` is the rule for every feature; :class:`NewsTree` applies it to slash
commands whose cog did not handle the error itself.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.discord.formatting import render_apology, texts
from bot.discord.transport import reply_ephemeral
from retrieval.errors import NewsbotError

log = logging.getLogger(__name__)


def user_text(error: BaseException, language: str, *, doing: str) -> str:
    """The line shown for ``error``; logs it (a NewsbotError's own one-line reason is shown)."""
    if isinstance(error, NewsbotError):  # a user-fit reason: question too long, no index…
        log.info("%s: %s", doing, error)
        return render_apology(language, str(error))
    log.error("%s failed", doing, exc_info=error)
    return render_apology(language)


class NewsTree(app_commands.CommandTree[Any]):
    """Slash command errors become one short ephemeral line (never a traceback)."""

    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        language = getattr(interaction.client, "language", "fr")
        t = texts(language)
        command = getattr(interaction.command, "name", "?")
        if isinstance(error, app_commands.MissingPermissions):
            log.info("%s may not run /%s", interaction.user, command)
            text = t["reindex_refused"]
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = t["guild_only"]
        else:
            text = user_text(getattr(error, "original", error), language, doing=f"/{command}")
        await reply_ephemeral(interaction, text)
