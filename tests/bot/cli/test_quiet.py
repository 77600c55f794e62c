"""Quiet by default (issue 17 item 2): what a cron job's log gets from ``newsbot reindex 2>log``."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import configure_logging
from tests.conftest import cli_env, write_article


@pytest.mark.slow
def test_a_redirected_reindex_writes_one_line_per_skipped_file(tmp_path: Path, corpus: Path, models_dir: Path) -> None:
    write_article(corpus, "2025/08/doublon", "Un doublon", "Le même identifiant qu'un autre fichier.")
    (corpus / "2025" / "08" / "doublon.txt").write_text("Un doublon\n\nLe même identifiant.", encoding="utf-8")
    (corpus / "rapport.docx").write_bytes(b"PK\x03\x04 not an article")
    env = cli_env(tmp_path / "data", corpus, models_dir)
    log = tmp_path / "reindex.log"
    with log.open("w") as err:
        proc = subprocess.run([sys.executable, "-m", "bot.cli", "reindex"], stdout=subprocess.PIPE, stderr=err,
                              text=True, env=env, timeout=600)
    assert proc.returncode == 0
    text = log.read_text()
    assert "\r" not in text and "%|" not in text  # no progress bar fragments
    assert "Loading weights" not in text and "WARNING" not in text and "Traceback" not in text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text  # the skipped file, once, relative to the corpus
    assert lines[0].startswith("newsbot: skipped 2025/08/doublon.txt: ") and str(corpus) not in lines[0]
    assert "docx" not in text  # unsupported files only with -v
    assert "4 added" in proc.stdout and "1 skipped" in proc.stdout

    verbose = subprocess.run([sys.executable, "-m", "bot.cli", "reindex", "-v"], capture_output=True, text=True,
                             env=env, timeout=600)
    assert verbose.returncode == 0
    assert verbose.stderr.count("rapport.docx") == 1
    assert verbose.stderr.count("doublon.txt") == 1


def emitted(capsys: pytest.CaptureFixture[str], logger: str, message: str, verbose: int) -> bool:
    configure_logging(logging.WARNING, verbose)
    try:
        logging.getLogger(logger).warning(message)
        return message in capsys.readouterr().err
    finally:
        for handler in list(logging.getLogger().handlers):
            if handler.get_name() == "newsbot-cli":
                logging.getLogger().removeHandler(handler)
        logging.getLogger("discord.client").filters.clear()
        for name in ("watchfiles", "py.warnings", "sentence_transformers"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("logger", "message"),
    [
        ("discord.client", "PyNaCl is not installed, voice will NOT be supported"),
        ("discord.client", "davey is not installed, voice will NOT be supported"),
        ("watchfiles.main", "KeyboardInterrupt caught, stopping watch"),
        ("py.warnings", "UserWarning: a library's warnings.warn"),
        ("sentence_transformers.SentenceTransformer", "No sentence-transformers model found"),
    ],
)
def test_library_noise_only_with_verbose(capsys: pytest.CaptureFixture[str], logger: str, message: str) -> None:
    assert not emitted(capsys, logger, message, verbose=0)
    assert emitted(capsys, logger, message, verbose=1)


def test_a_library_logging_on_the_root_logger_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    spec = importlib.util.find_spec("onnxruntime.quantization.quantize")  # logs advice with logging.warning()
    assert spec is not None and spec.origin is not None

    def advice(verbose: int) -> bool:
        configure_logging(logging.WARNING, verbose)
        try:
            record = logging.LogRecord("root", logging.WARNING, spec.origin, 1, "Please consider to run "
                                       "pre-processing before quantization", None, None)
            logging.getLogger().handle(record)
            return "pre-processing" in capsys.readouterr().err
        finally:
            for handler in list(logging.getLogger().handlers):
                if handler.get_name() == "newsbot-cli":
                    logging.getLogger().removeHandler(handler)

    assert not advice(0) and advice(1)


def test_model_libraries_are_told_to_be_quiet_unless_verbose() -> None:
    from bot.cli.main import quiet_environment

    # transformers logs through its own handler, at the level TRANSFORMERS_VERBOSITY gives it on import
    quiet: dict[str, str] = {}
    quiet_environment(0, quiet)
    assert quiet["TRANSFORMERS_VERBOSITY"] == "error" and quiet["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    verbose: dict[str, str] = {}
    quiet_environment(1, verbose)
    assert "TRANSFORMERS_VERBOSITY" not in verbose and "HF_HUB_DISABLE_PROGRESS_BARS" not in verbose
    chosen = {"TRANSFORMERS_VERBOSITY": "info"}
    quiet_environment(0, chosen)
    assert chosen["TRANSFORMERS_VERBOSITY"] == "info"  # a user's own choice wins


def test_newsbot_warnings_still_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert emitted(capsys, "retrieval.index.store", "the index is being rebuilt", verbose=0)
    assert emitted(capsys, "discord.client", "a real discord.py warning", verbose=0)


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_the_progress_bar_only_on_a_terminal_and_after_the_model_loads(
    terminal: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.engine import progress_bar

    stream = _TTY() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    update, close = progress_bar(True)
    update(0, 10)  # the model is still loading: no bar yet
    assert stream.getvalue() == ""
    update(5, 10)
    update(10, 10)
    close()
    assert ("5/10" in stream.getvalue()) is terminal
    if not terminal:
        assert stream.getvalue() == ""


def test_skipped_files_are_logged_by_the_commands_that_do_not_list_them(capsys: pytest.CaptureFixture[str]) -> None:
    corpus_log = logging.getLogger("retrieval.ingest.corpus")
    try:
        configure_logging(logging.WARNING, 0, lists_skipped=True)  # reindex, chat: they print the list
        corpus_log.warning("skipped %s: %s", "/abs/a.md", "bad date")
        assert "a.md" not in capsys.readouterr().err
        configure_logging(logging.WARNING, 0, lists_skipped=False)  # the bot: the log is the only line
        corpus_log.warning("skipped %s: %s", "/abs/a.md", "bad date")
        assert capsys.readouterr().err.count("a.md") == 1
    finally:
        for handler in list(logging.getLogger().handlers):
            if handler.get_name() == "newsbot-cli":
                logging.getLogger().removeHandler(handler)
        corpus_log.filters.clear()
        logging.getLogger("discord.client").filters.clear()
