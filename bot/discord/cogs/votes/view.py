"""👍/👎 buttons under each answer: persistent (the custom_id carries the answer's id).

The questions cog puts :func:`vote_view` under its answers; this package's ``setup`` registers
:class:`VoteButton` so that a click is handled after a restart too.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.discord.feedback import VoteResult
from bot.discord.formatting import texts

if TYPE_CHECKING:
    from bot.discord.app import NewsBot

log = logging.getLogger(__name__)

_TEMPLATE = r"newsbot:vote:(?P<vote>up|down):(?P<answer_id>[0-9a-f]{8,64})"


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):
    """One of the two buttons; rebuilt from its custom_id after a restart."""

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
    ) -> VoteButton:
        return cls(match["answer_id"], match["vote"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("NewsBot", interaction.client)
        result = await bot.run_io(bot.feedback.vote, self.answer_id, interaction.user.id, 1 if self.vote == "up" else -1)
        t = texts(bot.settings.discord.language)
        key = {VoteResult.FAILED: "vote_failed", VoteResult.CHANGED: "vote_changed"}.get(result, "vote_recorded")
        await interaction.response.send_message(t[key], ephemeral=True, allowed_mentions=discord.AllowedMentions.none())


def vote_view(answer_id: str, language: str) -> discord.ui.View:
    t = texts(language)
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(answer_id, "up", t["vote_up_label"]))
    view.add_item(VoteButton(answer_id, "down", t["vote_down_label"]))
    return view
