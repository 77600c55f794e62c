"""👍/👎 buttons under each answer: persistent (the custom_id carries the answer's id)."""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING, Any

from bot.feedback import VoteResult
from bot.formatting import texts

if TYPE_CHECKING:
    import discord

log = logging.getLogger(__name__)

_TEMPLATE = r"newsbot:vote:(?P<vote>up|down):(?P<answer_id>[0-9a-f]{8,64})"


@functools.cache
def vote_button_class() -> Any:
    """The persistent button class (a ``DynamicItem``), defined on first use."""
    import discord

    class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):
        def __init__(self, answer_id: str, vote: str, label: str | None = None) -> None:
            self.answer_id = answer_id
            self.vote = vote
            super().__init__(
                discord.ui.Button(
                    label=label,
                    emoji="\N{THUMBS UP SIGN}" if vote == "up" else "\N{THUMBS DOWN SIGN}",
                    style=discord.ButtonStyle.secondary,
                    custom_id=f"newsbot:vote:{vote}:{answer_id}",
                )
            )

        @classmethod
        async def from_custom_id(
            cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
        ) -> Any:
            return cls(match["answer_id"], match["vote"])

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            bot = interaction.client
            result = await bot.run_io(bot.feedback.vote, self.answer_id, interaction.user.id, 1 if self.vote == "up" else -1)
            t = texts(bot.settings.discord_language)
            key = {VoteResult.FAILED: "vote_failed", VoteResult.CHANGED: "vote_changed"}.get(result, "vote_recorded")
            await interaction.response.send_message(
                t[key], ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

    return VoteButton


def vote_view(answer_id: str, language: str) -> discord.ui.View:
    import discord

    VoteButton = vote_button_class()
    t = texts(language)
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up", t["vote_up_label"]))
    view.add_item(VoteButton(answer_id, "down", t["vote_down_label"]))
    return view


async def setup(bot: Any) -> None:
    bot.add_dynamic_items(vote_button_class())
