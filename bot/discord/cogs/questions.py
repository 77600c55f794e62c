"""Questions: mentions, replies and follow-ups in the bot's threads, and ``/ask``.

A thin cog: the work is :meth:`bot.discord.app.NewsBot.handle_message` and ``handle_ask``.
No ``from __future__ import annotations`` here: discord.py reads the command's annotations.
"""

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.discord.app import NewsBot


class Questions(commands.Cog):
    def __init__(self, bot: "NewsBot") -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self.bot.handle_message(message)

    @app_commands.command(name="ask", description="Ask a question about the news coverage")
    @app_commands.describe(question="your question")
    async def ask(self, interaction: discord.Interaction["NewsBot"], question: app_commands.Range[str, 1, 2000]) -> None:
        await self.bot.handle_ask(interaction, question)


async def setup(bot: "NewsBot") -> None:
    await bot.add_cog(Questions(bot))
