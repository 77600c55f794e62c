"""The questions cog (an extension loaded by :class:`bot.discord.app.NewsBot`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord.app import NewsBot


async def setup(bot: NewsBot) -> None:
    from bot.discord.cogs.questions.cog import Questions

    await bot.add_cog(Questions(bot))
