"""``/reindex`` (Manage Server only) and ``/latest``.

discord.py is imported when the extension is loaded (``setup``), not when this module is;
no ``from __future__ import annotations`` here: discord.py reads the commands' annotations.
"""

from typing import Any

from bot.formatting import render_latest, render_reindex, split_message


def cog_class() -> Any:
    import discord
    from discord import app_commands
    from discord.ext import commands

    no_pings = discord.AllowedMentions.none()

    class Admin(commands.Cog):
        def __init__(self, bot: Any) -> None:
            self.bot = bot

        @app_commands.command(name="reindex", description="Index new, changed and removed articles (Manage Server)")
        @app_commands.guild_only()
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.checks.has_permissions(manage_guild=True)
        async def reindex(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True, ephemeral=True)
            report = await self.bot.run_blocking(self.bot.service.reindex)
            text = render_reindex(report, self.bot.settings.discord_language)
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=no_pings)

        @app_commands.command(name="latest", description="The newest articles in the index")
        @app_commands.describe(n="how many articles")
        async def latest(
            self, interaction: discord.Interaction, n: app_commands.Range[int, 1, 25] | None = None
        ) -> None:
            settings = self.bot.settings
            await interaction.response.defer(thinking=True)
            infos = await self.bot.run_blocking(self.bot.service.latest, n or settings.discord_latest)
            for part in split_message(render_latest(infos, settings.discord_language)):
                await interaction.followup.send(part, allowed_mentions=no_pings)

    return Admin


async def setup(bot: Any) -> None:
    await bot.add_cog(cog_class()(bot))
