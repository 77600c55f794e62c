"""The REPL in a terminal (issue 17 item 5): wrapped to the width, colour only on a TTY and without
NO_COLOR, a spinner while loading, control characters made visible."""

from __future__ import annotations

import io
from pathlib import Path

from bot.cli.render import Style, safe
from bot.cli.repl import Repl, spinner
from bot.settings import load_settings
from retrieval.types import Answer, Source


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


LONG = " ".join(["Le sommet d'Anchorage a réuni les deux présidents pendant trois heures."] * 6) + " [1]"


class Service:
    def ask(self, question: str, history: object = (), *, on_token: object = None) -> Answer:
        source = Source(n=1, article_id="a", chunk_id="a#0", title="Sommet \x1b[2J en Alaska", date=None,
                        url="https://example.org/a", text="Texte " * 80, score=0.9, cited=True)
        return Answer(question=question, answer=LONG, refused=False, sources=[source])


def chat(tmp_path: Path, style: Style, lines: list[str]) -> str:
    out = io.StringIO()
    feed = iter(lines)
    repl = Repl(Service(), load_settings(data_dir=tmp_path), read=lambda prompt: next(feed), out=out,
                history_file=tmp_path / "history", style=style)
    assert repl.run() == 0
    return out.getvalue()


def test_answers_wrap_to_the_terminal_width(tmp_path: Path) -> None:
    out = chat(tmp_path, Style(width=60), ["Où ?", ":quit"])
    assert max(len(line) for line in out.splitlines()) <= 60
    assert "Anchorage" in out and "^[[2J" in out and "\x1b" not in out


def test_no_wrapping_or_colour_without_a_terminal(tmp_path: Path) -> None:
    out = chat(tmp_path, Style.for_stream(io.StringIO()), ["Où ?", ":quit"])
    assert LONG in out and "\x1b" not in out


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert Style.for_stream(TTY(), {"TERM": "xterm"}).colour
    assert not Style.for_stream(TTY(), {"TERM": "xterm", "NO_COLOR": "1"}).colour
    assert not Style.for_stream(io.StringIO(), {"TERM": "xterm"}).colour
    assert Style.for_stream(TTY(), {}).width


def test_colours_are_the_only_escapes(tmp_path: Path) -> None:
    out = chat(tmp_path, Style(width=80, colour=True), ["Où ?", ":quit"])
    assert "\x1b[1m" in out  # the titles in bold
    assert "\x1b[2J" not in out


def test_spinner_on_a_terminal_only() -> None:
    terminal = TTY()
    with spinner("loading the model…", terminal, interval=0.01):
        import time

        time.sleep(0.1)
    assert "loading the model…" in terminal.getvalue() and terminal.getvalue().endswith("\r")
    pipe = io.StringIO()
    with spinner("loading the model…", pipe, interval=0.01):
        pass
    assert pipe.getvalue() == ""


def test_safe_makes_controls_visible() -> None:
    assert safe("a\x1b[2Jb\x07c\u202ed\ttab\nline") == "a^[[2Jb^Gc<U+202E>d\ttab\nline"


def test_a_command_typed_with_a_slash_is_a_command_not_a_question(tmp_path: Path) -> None:
    out = chat(tmp_path, Style.for_stream(io.StringIO()), ["/help", "/nope", "/quit", "Où ?"])
    assert ":quit" in out and "Unknown command :nope" in out
    assert LONG not in out  # "/quit" left before the question; nothing was asked
