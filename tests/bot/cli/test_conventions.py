"""CLI conventions (issue 17 item 3): version, -v/-q anywhere, help texts, completion, exit codes,
unknown settings, absolute paths in errors, no leftovers without a corpus. Real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import build_parser, texts
from tests.conftest import cli_env


def newsbot(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


@pytest.fixture
def env(tmp_path: Path, corpus: Path, models_dir: Path) -> dict[str, str]:
    return cli_env(tmp_path / "data", corpus, models_dir, PYTHONPATH=str(Path(__file__).resolve().parents[3]))


def test_version(tmp_path: Path, env: dict[str, str]) -> None:
    proc = newsbot("--version", cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("newsbot ")


def test_verbosity_before_or_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["-v", "ask", "q"]).verbose == 1
    assert parser.parse_args(["ask", "q", "-v"]).verbose == 1
    assert parser.parse_args(["ask", "-vv", "q"]).verbose == 2
    assert parser.parse_args(["reindex", "-q"]).quiet is True
    assert parser.parse_args(["-q", "status"]).quiet is True
    assert parser.parse_args(["status"]).verbose == 0


def test_every_command_has_a_description_and_an_example() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) >= {"reindex", "ask", "chat", "bot", "add", "feeds", "eval", "status"}
    for name, command in commands.items():
        assert command.description, name
        assert "examples:" in (command.epilog or "") and f"newsbot {name}" in command.epilog, name
        assert name in texts()["commands"]
    assert ":sources" in commands["chat"].description and ":reset" in commands["chat"].description
    assert "DISCORD_TOKEN" in commands["bot"].description
    assert "0 ok" in parser.epilog and "2 usage" in parser.epilog


def test_shell_completion(tmp_path: Path, env: dict[str, str]) -> None:
    proc = newsbot("--print-completion", "bash", cwd=tmp_path, env=env)
    assert proc.returncode == 0
    assert "complete" in proc.stdout and "reindex" in proc.stdout and "status" in proc.stdout


def test_exit_codes(tmp_path: Path, env: dict[str, str]) -> None:
    usage = [
        ("ask",),  # no question
        ("ask", "   "),  # an empty one
        ("ask", "x" * 5000),  # a too long one
        ("add", "pas-une-url"),
        ("ask", "--since", "hier", "q"),
        ("ask", "--since", "2025-09-01", "--until", "2025-08-01", "q"),
        ("nosuchcommand",),
    ]
    for args in usage:
        proc = newsbot(*args, cwd=tmp_path, env=env, stdin="")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    failure = newsbot("ask", "Pourquoi ?", cwd=tmp_path, env=env)  # no index: a failure, not a usage error
    assert failure.returncode == 1
    assert newsbot("ask", "q", cwd=tmp_path, env={**env, "NEWSBOT_K": "zero"}).returncode == 2


def test_no_index_says_where_it_looked(tmp_path: Path, env: dict[str, str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = newsbot("ask", "Pourquoi ?", cwd=elsewhere, env={**env, "NEWSBOT_DATA_DIR": "rel-data"})
    assert proc.returncode == 1
    assert str(elsewhere / "rel-data" / "index") in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_reindex_without_a_corpus_leaves_nothing_behind(tmp_path: Path, env: dict[str, str]) -> None:
    elsewhere = tmp_path / "empty"
    elsewhere.mkdir()
    run_env = {k: v for k, v in env.items() if k not in ("NEWSBOT_DATA_DIR", "NEWSBOT_CORPUS_DIR")}
    proc = newsbot("reindex", cwd=elsewhere, env=run_env)
    assert proc.returncode == 2
    assert str(elsewhere / "corpus") in proc.stderr and "NEWSBOT_CORPUS_DIR" in proc.stderr
    assert list(elsewhere.iterdir()) == []  # no .newsbot/index, no lock file


def test_unknown_settings_are_warned_with_the_closest_name(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_EMBEDING_MODEL=foo\n")
    proc = newsbot("status", cwd=tmp_path, env={**env, "NEWSBOT_CHUNKSIZE": "200"})
    assert "unknown setting NEWSBOT_CHUNKSIZE in the environment" in proc.stderr
    assert "did you mean NEWSBOT_CHUNK_SIZE?" in proc.stderr
    assert f"unknown setting NEWSBOT_EMBEDING_MODEL in {tmp_path / '.env'}" in proc.stderr
    assert "did you mean NEWSBOT_EMBEDDING_MODEL?" in proc.stderr
    quiet = newsbot("status", cwd=tmp_path, env=env)
    assert "NEWSBOT_EMBEDING_MODEL" in quiet.stderr and "NEWSBOT_CHUNKSIZE" not in quiet.stderr


def test_a_loud_log_level_is_refused(tmp_path: Path, env: dict[str, str]) -> None:
    proc = newsbot("status", cwd=tmp_path, env={**env, "NEWSBOT_LOG_LEVEL": "LOUD"})
    assert proc.returncode == 2 and "NEWSBOT_LOG_LEVEL" in proc.stderr
    assert newsbot("status", cwd=tmp_path, env={**env, "NEWSBOT_LOG_LEVEL": "info"}).returncode == 0


def test_chroma_host_as_a_url_is_read_as_host_and_port(tmp_path: Path, env: dict[str, str]) -> None:
    proc = newsbot("ask", "Pourquoi ?", cwd=tmp_path, env={**env, "NEWSBOT_CHROMA_HOST": "http://127.0.0.1:9"})
    assert proc.returncode == 1
    assert "127.0.0.1:9 cannot be reached" in proc.stderr and "http://127.0.0.1:9:" not in proc.stderr
