"""The bot over the real answering service: real small model, real embedded Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.settings import load_settings
from tests.conftest import REPO
from tests.support.discord_fakes import ADMIN_ID, BOT_ID, MANAGE_GUILD, FakeDiscord

CORPUS = REPO / "corpus"

NASTY = """---
title: "Une alerte @everyone sur le sommet"
url: https://example.org/alerte
date: 2025-08-15
---

@everyone @here Le sommet d'Anchorage entre Poutine et Trump a duré trois heures sans accord sur l'Ukraine.
"""


@pytest.mark.slow
async def test_real_service_answers_a_mention_in_a_thread(tmp_path: Path, monkeypatch: Any) -> None:
    from bot.discord.app import NewsBot
    from retrieval.service import open_service

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "alerte.md").write_text(NASTY, encoding="utf-8")
    settings = load_settings(
        embedding_model="packaged:all-minilm-l6-v2", embedding_quantize=False, data_dir=tmp_path / "data",
        corpus_dir=corpus, discord_sync_commands=False,
    )
    service = open_service(settings, create=True)
    service.reindex()
    bot = NewsBot(service, settings)
    fake = FakeDiscord(bot, monkeypatch)
    fake.setup_world()
    await bot._async_setup_hook()
    await bot.setup_hook()
    try:
        question = fake.user_says(f"<@{BOT_ID}> Combien de temps a duré le sommet d'Anchorage entre Poutine et Trump ?")
        await fake.settle(timeout=120)
        [answer] = fake.named("send_message")
        assert answer["channel_id"] == int(question["id"])  # in the thread opened on the question
        assert "**Sources**" in answer["content"] and "[1]" in answer["content"]
        assert "<https://example.org/alerte>" in answer["content"]
        assert "@everyone" not in answer["content"]
        assert answer["allowed_mentions"]["parse"] == []

        fake.user_says("Et l'Alaska, pourquoi ?", channel_id=int(question["id"]))  # follow-up, real history
        await fake.settle(timeout=120)
        assert len(fake.named("send_message")) == 2

        fake.slash("reindex", user_id=ADMIN_ID, permissions=MANAGE_GUILD)
        await fake.settle(timeout=120)
        assert "2 unchanged" in fake.named("followup")[-1]["content"]

        fake.slash("latest")
        await fake.settle(timeout=60)
        assert "<https://example.org/alerte>" in fake.named("followup")[-1]["content"]
    finally:
        await bot.close()
