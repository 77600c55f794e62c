"""``/reindex`` (Manage Server only) and ``/latest``.

Real discord.py objects built from gateway payloads; only the REST layer is fake (see
``tests/support/discord_fakes.py``). Each test dispatches gateway events and asserts on the JSON
the bot would have sent.
"""

from __future__ import annotations

from typing import Any

from bot.discord.formatting import texts
from tests.support.discord_fakes import (
    ADMIN_ID,
    MANAGE_GUILD,
)

NO_PINGS: dict[str, Any] = {"parse": []}
T = texts("fr")


async def test_reindex_refused_without_manage_server(h: Any) -> None:
    h.fake.slash("reindex")
    await h.fake.settle()
    assert h.service.reindexed == 0
    [response] = h.fake.named("interaction_response")
    assert response["type"] == 4 and response["data"]["flags"] == 64  # ephemeral
    assert response["data"]["content"] == T["reindex_refused"]


async def test_reindex_runs_with_manage_server(h: Any) -> None:
    h.fake.slash("reindex", user_id=ADMIN_ID, permissions=MANAGE_GUILD)
    await h.fake.settle()
    assert h.service.reindexed == 1
    [followup] = h.fake.named("followup")
    assert "2 added" in followup["content"] and "12 chunks" in followup["content"]
    assert followup["allowed_mentions"] == NO_PINGS


async def test_latest_lists_articles(h: Any) -> None:
    h.fake.slash("latest", options={"n": 3})
    await h.fake.settle()
    [listing] = h.fake.named("followup")
    assert listing["content"].count("•") == 3 and "<https://example.org/1>" in listing["content"]
