"""Questions: mentions, replies and follow-ups in the bot's threads, and ``/ask``.

discord.py is imported when the extension is loaded (``setup``), not when this module is;
no ``from __future__ import annotations`` here: discord.py reads the command's annotations.
"""

from typing import Any


def cog_class() -> Any:
    import discord
    from discord import app_commands
    from discord.ext import commands

    class Questions(commands.Cog):
        def __init__(self, bot: Any) -> None:
            self.bot = bot

        @commands.Cog.listener()
        async def on_message(self, message: discord.Message) -> None:
            await self.bot.handle_message(message)

        @app_commands.command(name="ask", description="Ask a question about the news coverage")
        @app_commands.describe(question="your question")
        async def ask(
            self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 2000]
        ) -> None:
            await self.bot.handle_ask(interaction, question)

    return Questions


async def setup(bot: Any) -> None:
    await bot.add_cog(cog_class()(bot))
