"""The settings of the whole application: the engine's sections plus the Discord bot's.

The ``newsbot`` command builds one :class:`AppSettings` and passes it down; the engine sees it
as its :class:`retrieval.settings.Settings`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr

from bot.discord.settings import DiscordSettings
from retrieval.settings import Settings
from retrieval.settings import load_settings as _load


class AppSettings(Settings):
    discord_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("DISCORD_TOKEN", "NEWSBOT_DISCORD_TOKEN"),
        description="The Discord bot's token (DISCORD_TOKEN or NEWSBOT_DISCORD_TOKEN).",
    )
    discord: DiscordSettings = Field(default_factory=DiscordSettings)  # type: ignore[arg-type]
    feedback_db: Path | None = Field(None, description="Votes database (default: DATA_DIR/feedback.sqlite3).")

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.data_dir / "feedback.sqlite3"


def load_settings(**overrides: object) -> AppSettings:
    """The application's settings from env, ``.env`` and overrides named as in ``.env``."""
    return _load(AppSettings, **overrides)
