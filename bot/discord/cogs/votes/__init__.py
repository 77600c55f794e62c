"""The votes cog: 👍/👎 under each answer, persistent across restarts (see :mod:`.view`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord.app import NewsBot


async def setup(bot: NewsBot) -> None:
    from bot.discord.cogs.votes.view import VoteButton

    bot.add_dynamic_items(VoteButton)
