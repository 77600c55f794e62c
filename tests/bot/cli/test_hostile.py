"""Hostile input through the real ``newsbot`` process (issue 16, defects 2, 7 and 8): invalid bytes in
questions, control sequences in articles, a full disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env, write_article

ESC = "\x1b"
EVIL_BODY = (
    f"Le port de Zanzibar a rouvert ses quais {ESC}[31men rouge{ESC}[0m après la tempête. "
    f"Lire {ESC}]8;;https://evil.example/login{ESC}\\\\ici{ESC}]8;;{ESC}\\\\ pour la suite. "
    "Les dockers de Zanzibar ont repris le travail lundi."
)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> dict[str, str]:
    """A corpus with a hostile article, indexed once for the module."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "alaska-summit.md").write_text(
        (REPO / "corpus" / "alaska-summit.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = write_article(corpus, "zanzibar", "x", EVIL_BODY, date="2025-08-01")
    # YAML escapes: \e is ESC, \a is BEL (raw control characters are not allowed in YAML)
    text = path.read_text(encoding="utf-8").replace('title: "x"', 'title: "Titre \\e[2J\\e]0;pwned\\a piégé"')
    path.write_text(text, encoding="utf-8")
    env = cli_env(root / "data", corpus, models_dir)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "reindex"], capture_output=True, text=True,
                          env=env, timeout=600, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return {**env, "PWD": str(root)}


def newsbot(env: dict[str, str], *args: str | bytes, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
                          env=env, timeout=600, cwd=env["PWD"])


@pytest.mark.slow
def test_a_question_with_an_invalid_byte_is_answered(indexed: dict[str, str]) -> None:
    proc = newsbot(indexed, "ask", os.fsdecode(b"Que cherche Poutine \xff en Alaska ?"))
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert "replaced" in err  # says what happened to the byte
    assert "Alaska" in proc.stdout.decode()


@pytest.mark.slow
def test_a_latin1_question_file_loses_no_question(indexed: dict[str, str]) -> None:
    questions = (
        "Où se tient la rencontre entre Poutine et Trump ?\n"
        "Que cherche Poutine \xe0 Anchorage ?\n"
        '{"question": "Quand les dockers de Zanzibar ont-ils repris le travail ?"}\n'
    ).encode("latin-1")
    proc = newsbot(indexed, "ask", "--jsonl", stdin=questions)
    assert "Traceback" not in proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(rows) == 3, proc.stderr
    assert all("answer" in row for row in rows), rows
    assert "line 1 is not UTF-8" in proc.stderr.decode() and "line 2 is not UTF-8" in proc.stderr.decode()
    assert "\ufffd" in rows[1]["question"]


@pytest.mark.slow
def test_the_repl_goes_on_after_an_invalid_byte(indexed: dict[str, str]) -> None:
    script = b"Que cherche Poutine \xff en Alaska ?\nQuand les dockers de Zanzibar ont-ils repris le travail ?\n:quit\n"
    proc = newsbot(indexed, "chat", stdin=script)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    assert out.count("Sources:") == 2


@pytest.mark.slow
def test_control_sequences_never_reach_the_terminal(indexed: dict[str, str]) -> None:
    question = "Quand les dockers de Zanzibar ont-ils repris le travail ?"
    outputs = [
        newsbot(indexed, "ask", question).stdout,
        newsbot(indexed, "chat", stdin=f"{question}\n:sources\n:quit\n".encode()).stdout,
        newsbot(indexed, "status").stdout,
    ]
    for out in outputs:
        assert b"Zanzibar" in out or b"index" in out
        assert ESC.encode() not in out and b"\x07" not in out
    # --json is the machine contract: the text as indexed (escaped by JSON itself)
    data = json.loads(newsbot(indexed, "ask", "--json", question).stdout)
    texts = [s["text"] for s in data["sources"] if s["article_id"] == "zanzibar"]
    assert texts
    if any(ESC in text for text in texts):  # kept by the corpus reader: made visible, not dropped
        assert b"^[[31m" in outputs[0] + outputs[1]


def test_a_full_disk_is_reported_and_answering_goes_on(
    settings_factory, small_embeddings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.api.models.Collection import Collection

    from retrieval.errors import DiskFull
    from retrieval.service import open_service

    settings = settings_factory()
    service = open_service(settings, create=True, embeddings=small_embeddings)
    service.reindex()
    write_article(corpus, "nouveau", "Un article de trop", "Le mot zanzibarien n'apparaît qu'ici.")

    def no_space(self: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Collection, "upsert", no_space)
    with pytest.raises(DiskFull) as caught:
        service.reindex()
    message = str(caught.value)
    assert message.startswith("disk full (") and " MB free at " in message
    assert str(settings.index_path) in message and "rebuild" not in message
    monkeypatch.undo()
    answer = service.ask("Quel est le nouveau plafond du prix du pétrole russe ?")
    assert not answer.refused and "47,6" in answer.answer
    assert all(source.article_id != "nouveau" for source in answer.sources)


def test_a_full_disk_through_the_command(
    tmp_path: Path, corpus: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chromadb.api.models.Collection import Collection

    from bot.cli.main import main

    for name, value in cli_env(tmp_path / "data", corpus, models_dir).items():
        if name.startswith("NEWSBOT_"):
            monkeypatch.setenv(name, value)

    def no_space(self: object, *args: object, **kwargs: object) -> None:
        raise RuntimeError("error returned from database: (code: 13) database or disk is full")

    monkeypatch.setattr(Collection, "upsert", no_space)
    assert main(["reindex"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsbot: disk full (") and "rebuild" not in err and len(err.strip().splitlines()) == 1
