from __future__ import annotations

from typing import Any

import pytest

from bot.cli.main import main


def test_without_a_token_one_line_and_non_zero(monkeypatch: Any, tmp_path: Any, capsys: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("NEWSBOT_DISCORD_TOKEN", raising=False)
    status = main(["bot"])
    out = capsys.readouterr()
    assert status != 0 and out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "discord.com/developers" in lines[0]


def test_the_cli_does_not_import_discord_to_build_its_parser() -> None:
    import subprocess
    import sys

    code = "import sys, bot.cli.main; bot.cli.main.build_parser(); print('discord' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("module", ["bot.discord.formatting", "bot.discord.feedback", "bot.discord.ratelimit",
                                    "bot.discord.cogs.questions.scope", "bot.cli.discord_bot"])
def test_plain_modules_import_no_discord(module: str) -> None:
    import subprocess
    import sys

    code = f"import sys, {module}; print('discord' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_unreachable_discord_is_one_clear_line(monkeypatch: Any, tmp_path: Any, capsys: Any) -> None:
    """Issue 17, item 7: without a network, ``newsbot bot`` ended with ``unexpected error (ClientConnector…)``."""
    import discord.http

    from bot.cli.discord_bot import run_bot
    from bot.settings import load_settings
    from retrieval.errors import NewsbotError
    from tests.support.fake_service import FakeService

    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:9/api/v10")  # nothing listens there
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", discord_sync_commands=False)
    with pytest.raises(NewsbotError) as caught:
        run_bot(FakeService(), settings, "MTIz.not-a-real.token")
    message = str(caught.value)
    assert "Discord" in message and "cannot" in message and "\n" not in message
    assert "MTIz" not in message
