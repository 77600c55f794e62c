"""``newsbot status`` and ``newsbot chat`` indexing what waits (issue 17 item 4), real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env, write_article
from tests.support.llm_server import FakeLLMServer


def newsbot(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=600)


def test_status_before_any_index(tmp_path: Path, corpus: Path, models_dir: Path) -> None:
    env = cli_env(tmp_path / "data", corpus, models_dir)
    proc = newsbot(env, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["index"]["exists"] is False and data["index"]["location"] == str(tmp_path / "data" / "index")
    assert data["corpus"]["waiting"] == {"added": 3, "updated": 0, "removed": 0}
    assert data["llm"] == {"configured": False, "model": None, "base_url": None, "reachable": None}
    assert data["discord"] == {"token_present": False}
    assert not (tmp_path / "data" / "index").exists()  # status creates nothing
    text = newsbot(env, "status").stdout
    assert "not built yet" in text and "token missing" in text


@pytest.mark.slow
def test_status_and_chat_see_waiting_articles(tmp_path: Path, corpus: Path, models_dir: Path) -> None:
    env = cli_env(tmp_path / "data", corpus, models_dir)
    assert newsbot(env, "reindex").returncode == 0
    write_article(corpus, "2025/08/zanzibar", "Le port de Zanzibar rouvre",
                  "Les dockers de Zanzibar ont repris le travail lundi après trois semaines de grève.",
                  date="2025-08-11")
    with FakeLLMServer() as server:
        proc = newsbot({**env, "DISCORD_TOKEN": "abc", "NEWSBOT_LLM_BASE_URL": server.url,
                        "NEWSBOT_LLM_MODEL": "fake"}, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["index"]["exists"] and data["index"]["articles"] == 3 and data["index"]["chunks"] >= 3
    assert data["index"]["embedding_model"] == "packaged:all-minilm-l6-v2" and data["index"]["last_reindex"]
    assert data["corpus"]["waiting"] == {"added": 1, "updated": 0, "removed": 0}
    assert data["llm"]["reachable"] is True and data["discord"]["token_present"] is True
    assert "abc" not in proc.stdout
    down = newsbot({**env, "NEWSBOT_LLM_BASE_URL": "http://127.0.0.1:9/v1", "NEWSBOT_LLM_MODEL": "fake"}, "status")
    assert "NOT reachable" in down.stdout and "1 waiting to be indexed" in down.stdout

    chat = newsbot(env, "chat", stdin="Quand les dockers de Zanzibar ont-ils repris le travail ?\n:quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "1 article (1 new, 0 changed, 0 removed) waiting: indexing them" in chat.stderr
    assert "Le port de Zanzibar rouvre" in chat.stdout
    after = json.loads(newsbot(env, "status", "--json").stdout)
    assert after["index"]["articles"] == 4 and after["corpus"]["waiting"]["added"] == 0
