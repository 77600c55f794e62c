"""The Discord bot's section of the settings (``NEWSBOT_DISCORD_*``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from retrieval.settings import Section

THREAD_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)  # the only durations Discord accepts


class DiscordSettings(Section):
    channels: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Allowed channel ids, comma-separated; empty = all."
    )
    dms: bool = Field(False, description="Answer direct messages.")
    rate_limit: int = Field(5, ge=1, description="Questions per user per window.")
    rate_window: float = Field(60.0, gt=0, le=86400, description="Window of DISCORD_RATE_LIMIT, in seconds.")
    workers: int = Field(2, ge=1, le=32, description="Threads answering questions.")
    stream_interval: float = Field(
        1.0, ge=0.2, le=30, description="Seconds between edits of an answer being streamed by the LLM."
    )
    history_messages: int = Field(
        30, ge=0, le=100, description="Messages of a thread read back to rebuild the conversation."
    )
    thread_archive: int = Field(
        1440, description="Minutes of inactivity before the bot's answer threads are archived: 60, 1440, 4320 or 10080."
    )
    sync_commands: bool = Field(
        True, description="Register the slash commands (/ask, /latest, /reindex) with Discord at start."
    )
    language: Literal["fr", "en"] = Field("fr", description="Language of the bot's own messages.")
    latest: int = Field(10, ge=1, le=25, description="Articles listed by /latest by default.")
    refresh_interval: float = Field(
        30.0, ge=0, le=86400,
        description="Seconds between background refreshes of the bot's view of the index (articles another "
        "process indexed); 0 = never.",
    )

    @field_validator("channels", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("thread_archive")
    @classmethod
    def _archive_minutes(cls, value: int) -> int:
        if value not in THREAD_ARCHIVE_MINUTES:
            raise ValueError(f"must be one of {', '.join(map(str, THREAD_ARCHIVE_MINUTES))} (minutes)")
        return value
