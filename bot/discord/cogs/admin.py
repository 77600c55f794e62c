"""``/reindex`` (Manage Server only). ``/latest`` lives with the digests (``cogs/digest``).

No ``from __future__ import annotations`` here: discord.py reads the commands' annotations.
"""

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.formatting import render_reindex

if TYPE_CHECKING:
    from bot.discord.app import NewsBot


class Admin(commands.Cog):
    def __init__(self, bot: "NewsBot") -> None:
        self.bot = bot

    @app_commands.command(name="reindex", description="Index new, changed and removed articles (Manage Server)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction["NewsBot"]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        report = await self.bot.run_blocking(self.bot.service.reindex)
        text = render_reindex(report, self.bot.settings.discord.language)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


async def setup(bot: "NewsBot") -> None:
    await bot.add_cog(Admin(bot))
