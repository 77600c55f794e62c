"""The command line, run as a user runs it (a real process, the small packaged model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env


@pytest.fixture
def run(tmp_path: Path, corpus: Path, models_dir: Path):
    env = cli_env(tmp_path / "data", corpus, models_dir)

    def run(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
            env={**env, **extra}, timeout=600,
        )

    return run


def assert_one_line_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert text in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_errors_are_one_line(run) -> None:
    assert_one_line_error(run("ask", "Pourquoi l'Alaska ?"), "no index yet")
    assert_one_line_error(run("ask", "   "), "the question is empty")
    assert_one_line_error(run("ask", "?"), "the question has no words")
    assert_one_line_error(run("ask", "x" * 5000), "too long")
    assert_one_line_error(run("ask", "Pourquoi ?", NEWSBOT_K="zero"), "NEWSBOT_K")
    assert_one_line_error(run("ask", "Pourquoi ?", NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT="9"), "cannot be reached")


@pytest.mark.slow
def test_reindex_ask_and_jsonl(run, corpus: Path) -> None:
    first = run("reindex", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "removed", "unchanged", "skipped", "chunks"}
    assert report["added"] == 3
    assert json.loads(run("reindex", "--json").stdout)["unchanged"] == 3
    # the files a script just wrote: only they are looked at
    (corpus / "fil").mkdir()
    (corpus / "fil" / "depeche.md").write_text("---\ntitle: Dépêche\n---\n\nLe zorglub a été vu à Quimper.\n", "utf-8")
    given = json.loads(run("reindex", "--json", str(corpus / "fil" / "depeche.md")).stdout)
    assert (given["added"], given["unchanged"]) == (1, 0)
    assert_one_line_error(run("reindex", "--rebuild", str(corpus / "fil" / "depeche.md")), "do not go with --rebuild")
    assert_one_line_error(run("reindex", "/etc/passwd.md"), "not a file of the corpus folder")

    text = run("ask", "Quel est le nouveau plafond du prix du pétrole russe ?")
    assert text.returncode == 0, text.stderr
    assert "47,6 dollars" in text.stdout and "Sources:" in text.stdout and "https://example.org/sanctions" in text.stdout

    out = run("ask", "--json", "Quel est le nouveau plafond du prix du pétrole russe ?")
    data = json.loads(out.stdout)
    assert set(data) == {"question", "answer", "refused", "sources"}
    # the documented fields, all there (fields are added, never removed or renamed)
    assert set(data["sources"][0]) >= {"n", "article_id", "chunk_id", "title", "date", "url", "text", "score", "cited"}
    assert any(s["cited"] for s in data["sources"])

    lines = run("ask", "--jsonl", stdin="Quel est le plafond du prix du pétrole ?\n\n" + "x" * 3000 + "\nQuel temps fera-t-il à Lyon ?\n")
    rows = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(rows) == 3
    assert not rows[0]["refused"] and "error" in rows[1] and rows[2]["refused"]


@pytest.mark.slow
def test_chat_builds_the_index_and_follows_up(run) -> None:
    script = "Avec quels pays Poutine cherche-t-il des alliances stratégiques ?\net la Chine ?\n:sources\n:reset\n:help\n:quit\n"
    proc = run("chat", stdin=script)
    assert proc.returncode == 0, proc.stderr
    assert "No index yet" in proc.stderr
    assert proc.stdout.count("Chine") >= 2
    assert "Conversation reset." in proc.stdout and ":sources" in proc.stdout
    assert "Traceback" not in proc.stderr
    # end of input (Ctrl-D) leaves cleanly too
    assert run("chat", stdin="").returncode == 0


@pytest.mark.parametrize(("argv", "code", "quick"), [
    (["ask", "Où ?"], 0, True), (["ask", "--json", "Où ?"], 2, True), (["reindex"], 0, False), (["status"], 1, False),
])
def test_a_one_shot_answer_ends_its_process_at_once(monkeypatch, argv, code, quick) -> None:
    from bot.cli import main as cli

    ended: list[int] = []
    monkeypatch.setattr(cli, "main", lambda args: code)
    monkeypatch.setattr(cli.os, "_exit", ended.append)  # os._exit would end the test run
    monkeypatch.setattr(sys, "argv", ["newsbot", *argv])
    with pytest.raises(SystemExit) as exited:
        cli.run()
    assert exited.value.code == code  # (with os._exit faked, run goes on to sys.exit)
    assert ended == ([code] if quick else [])
