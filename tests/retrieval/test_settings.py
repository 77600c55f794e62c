from __future__ import annotations

from pathlib import Path

import pytest

from bot.envfile import render_env_example
from bot.settings import AppSettings, load_settings
from retrieval.errors import ConfigError
from retrieval.settings import Settings, env_names, flat, replace
from tests.conftest import REPO


def test_env_example_lists_every_setting() -> None:
    assert (REPO / ".env.example").read_text(encoding="utf-8") == render_env_example(), (
        "regenerate it: python -m bot.envfile > .env.example"
    )
    text = render_env_example()
    for name in env_names(AppSettings):
        assert f"\n{name}=" in text
    assert "DISCORD_TOKEN=" in text and "NEWSBOT_DISCORD_CHANNELS=" in text and "NEWSBOT_EMBEDDING_MODEL=" in text


def test_env_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_K=7\nDISCORD_TOKEN=abc\nNEWSBOT_INDEX_DIR=\nNEWSBOT_DISCORD_CHANNELS=1, 2\n")
    monkeypatch.setenv("NEWSBOT_CHUNK_SIZE", "500")
    settings = load_settings()
    assert settings.k == 7 and settings.chunk.size == 500
    assert settings.discord_token is not None and settings.discord_token.get_secret_value() == "abc"
    assert "abc" not in repr(settings)
    assert settings.index_path == Path(".newsbot/index")
    assert settings.discord.channels == [1, 2]
    assert load_settings(k=3).k == 3


def test_a_copied_env_example_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text(encoding="utf-8"))
    assert load_settings() == AppSettings()


def test_invalid_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_K", "many")
    with pytest.raises(ConfigError, match="NEWSBOT_K|K"):
        load_settings()
    monkeypatch.delenv("NEWSBOT_K")
    with pytest.raises(ConfigError, match="OVERLAP"):
        load_settings(chunk_size=200, chunk_overlap=300)


def test_sections_keep_the_flat_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_EMBEDDING_MODEL", "packaged:all-minilm-l6-v2")
    monkeypatch.setenv("NEWSBOT_LLM_MAX_TOKENS", "99")
    monkeypatch.setenv("NEWSBOT_DISCORD_DMS", "true")
    monkeypatch.setenv("NEWSBOT_WATCH_CORPUS", "true")
    settings = load_settings(feeds_max_per_run=3)
    assert settings.embedding.model == "packaged:all-minilm-l6-v2"
    assert settings.llm.max_tokens == 99 and settings.discord.dms and settings.watch.corpus
    assert settings.feeds.max_per_run == 3
    values = flat(settings)
    assert values["llm_max_tokens"] == 99 and values["k"] == 5 and values["discord_dms"] is True
    changed = replace(settings, chunk_size=500, k=2)
    assert changed.chunk.size == 500 and changed.chunk.overlap == settings.chunk.overlap and changed.k == 2
    assert settings.chunk.size == 1000


def test_fetch_k_below_k_fetches_k_without_changing_the_setting() -> None:
    settings = load_settings(k=8, fetch_k=3)
    assert settings.fetch_k == 3 and settings.candidates == 8


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(TypeError, match="chunksize"):
        load_settings(chunksize=3)
    assert isinstance(load_settings(), Settings)


def test_an_invalid_section_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DISCORD_THREAD_ARCHIVE", "5")
    with pytest.raises(ConfigError, match="NEWSBOT_DISCORD_THREAD_ARCHIVE"):
        load_settings()


def test_unknown_names_get_the_closest_valid_one() -> None:
    from retrieval.settings import unknown_env_names, valid_env_names

    assert "DISCORD_TOKEN" in valid_env_names(AppSettings) and "NEWSBOT_DISCORD_TOKEN" in valid_env_names(AppSettings)
    found = unknown_env_names(
        AppSettings,
        {"NEWSBOT_CHUNKSIZE": "200", "NEWSBOT_K": "3", "PATH": "/bin", "NEWSBOT_DISCORD_TOKEN": "x"},
        {"NEWSBOT_EMBEDING_MODEL": "foo", "NEWSBOT_ZZZZZZZZZZZZZZZZZZZZ": "1"},
    )
    assert found == [
        ("NEWSBOT_CHUNKSIZE", "environment", "NEWSBOT_CHUNK_SIZE"),
        ("NEWSBOT_EMBEDING_MODEL", ".env", "NEWSBOT_EMBEDDING_MODEL"),
        ("NEWSBOT_ZZZZZZZZZZZZZZZZZZZZ", ".env", None),
    ]


def test_log_level_is_one_of_the_known_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError, match="NEWSBOT_LOG_LEVEL"):
        load_settings()
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"


def test_chroma_host_accepts_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "http://localhost:8001")
    settings = load_settings()
    assert (settings.chroma.host, settings.chroma.port) == ("localhost", 8001)
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "http://chroma.internal/")
    monkeypatch.setenv("NEWSBOT_CHROMA_PORT", "9000")
    settings = load_settings()
    assert (settings.chroma.host, settings.chroma.port) == ("chroma.internal", 9000)
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "localhost")
    assert load_settings().chroma.host == "localhost"
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "ftp://localhost:21")
    with pytest.raises(ConfigError, match="NEWSBOT_CHROMA_HOST"):
        load_settings()
