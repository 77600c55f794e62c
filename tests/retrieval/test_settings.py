from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.envfile import render_env_example
from retrieval.errors import ConfigError
from retrieval.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting() -> None:
    assert (REPO / ".env.example").read_text(encoding="utf-8") == render_env_example(), (
        "regenerate it: python -m retrieval.envfile > .env.example"
    )
    text = render_env_example()
    for name in Settings.model_fields:
        assert f"NEWSBOT_{name.upper()}=" in text or name == "discord_token"
    assert "DISCORD_TOKEN=" in text


def test_env_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_K=7\nDISCORD_TOKEN=abc\nNEWSBOT_INDEX_DIR=\nNEWSBOT_DISCORD_CHANNELS=1, 2\n")
    monkeypatch.setenv("NEWSBOT_CHUNK_SIZE", "500")
    settings = load_settings()
    assert settings.k == 7 and settings.chunk_size == 500
    assert settings.discord_token is not None and settings.discord_token.get_secret_value() == "abc"
    assert "abc" not in repr(settings)
    assert settings.index_path == Path(".newsbot/index")
    assert settings.discord_channels == [1, 2]
    assert load_settings(k=3).k == 3


def test_a_copied_env_example_gives_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((REPO / ".env.example").read_text(encoding="utf-8"))
    assert load_settings() == Settings()


def test_invalid_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_K", "many")
    with pytest.raises(ConfigError, match="NEWSBOT_K|K"):
        load_settings()
    monkeypatch.delenv("NEWSBOT_K")
    with pytest.raises(ConfigError, match="OVERLAP"):
        load_settings(chunk_size=200, chunk_overlap=300)
