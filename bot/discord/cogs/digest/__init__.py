"""The digest cog: story digests posted to subscribed channels, the feeds run by the bot, ``/latest [topic]``.

Loaded as the extension ``bot.discord.cogs.digest``.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord.app import NewsBot


async def setup(bot: "NewsBot") -> None:
    from bot.discord.cogs.digest.cog import Digests

    await bot.add_cog(Digests(bot))
