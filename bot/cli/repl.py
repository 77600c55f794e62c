"""``newsbot chat``: a terminal conversation with line editing, history and sources."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.render import Style, render_answer, render_sources, safe, wrap
from retrieval.errors import NewsbotError
from retrieval.types import Answer, Turn

if TYPE_CHECKING:
    from bot.settings import AppSettings

# a line opening with a slash and a word ("/quit", "/help"), as commands are typed in Discord
_SLASH_COMMAND = re.compile(r"/[A-Za-z]+(?:\s|$)")
log = logging.getLogger("newsbot")

HELP = """Ask a question about the coverage; follow-up questions use the conversation.
  :sources   every passage retrieved for the last answer
  :reset     forget the conversation
  :help      this help
  :quit      leave (Ctrl-D and Ctrl-C too)"""


@contextlib.contextmanager
def spinner(text: str, stream: TextIO, *, interval: float = 0.1) -> Iterator[None]:
    """A spinner on ``stream`` while the block runs, on a terminal only; erased at the end."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        yield
        return
    done = threading.Event()

    def spin() -> None:
        frames = "|/-\\"
        i = 0
        while not done.wait(interval):
            stream.write(f"\r{frames[i % len(frames)]} {text}")
            stream.flush()
            i += 1

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        stream.write("\r" + " " * (len(text) + 2) + "\r")
        stream.flush()


class Repl:
    def __init__(
        self,
        service: Any,
        settings: AppSettings,
        *,
        read: Callable[[str], str] | None = None,
        out: TextIO | None = None,
        history_file: Path | None = None,
        style: Style | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.out = out or sys.stdout
        self.history: list[Turn] = []
        self.last: Answer | None = None
        self._read = read or input
        self._history_file = history_file if history_file is not None else settings.data_dir / "chat_history"
        self._readline: Any = None
        self.style = style if style is not None else Style.for_stream(self.out)

    def _setup_line_editing(self) -> None:
        if self._read is not input:
            return
        try:
            import readline
        except ImportError:  # pragma: no cover - not on every platform
            return
        self._readline = readline
        with contextlib.suppress(OSError):
            self._history_file.parent.mkdir(parents=True, exist_ok=True)
            readline.read_history_file(self._history_file)
        readline.set_history_length(1000)

    def _save_history(self) -> None:
        if self._readline is not None:
            with contextlib.suppress(OSError):
                self._readline.write_history_file(self._history_file)

    def say(self, text: str = "") -> None:
        """Write text already made safe for the terminal (see :func:`bot.cli.render.safe`)."""
        self.out.write(text + "\n")
        self.out.flush()

    def run(self) -> int:
        self._setup_line_editing()
        self.say(wrap("newsbot — ask about the coverage. :help for commands, :quit to leave.", self.style))
        try:
            while True:
                try:
                    line = self._read("» ")
                except EOFError:
                    self.say()
                    break
                if not self.handle(line):
                    break
        except KeyboardInterrupt:
            self.say()
        finally:
            self._save_history()
        return 0

    def handle(self, line: str) -> bool:
        """Process one line; False means leave."""
        text = line.strip()
        if not text:
            return True
        if text.startswith(":"):
            return self.command(text)
        if _SLASH_COMMAND.match(text):  # "/quit", as in Discord: a command, never a question
            return self.command(":" + text[1:])
        streamed: list[str] = []

        def on_token(token: str) -> None:
            streamed.append(token)
            self.out.write(safe(token))
            self.out.flush()

        try:
            answer = self.service.ask(text, self.history, on_token=on_token)
        except NewsbotError as exc:
            self.say(f"! {safe(str(exc))}")
            return True
        except Exception as exc:  # the conversation goes on whatever one question does
            log.debug("unexpected error", exc_info=True)
            self.say(f"! unexpected error ({type(exc).__name__}: {safe(str(exc))}); run with -v for details")
            return True
        if streamed and "".join(streamed).strip() == answer.answer.strip():
            # the answer was shown as it streamed: show what follows it (its sources)
            self.say()
            if answer.cited_sources:
                self.say()
                self.say(self.style.paint("Sources:", "1"))
                self.say(render_sources(answer.cited_sources, style=self.style))
        elif streamed:  # the checked answer differs from the stream (citations fixed, fallback)
            self.say()
            self.say("")
            self.say(render_answer(answer, style=self.style))
        else:
            self.say(render_answer(answer, style=self.style))
        self.say()
        self.last = answer
        self.history.append(Turn(question=text, answer=answer.answer))
        return True

    def command(self, text: str) -> bool:
        name = text.split()[0].lower()
        if name in (":quit", ":q", ":exit"):
            return False
        if name == ":reset":
            self.history.clear()
            self.last = None
            self.say("Conversation reset.")
        elif name == ":sources":
            if self.last is None or not self.last.sources:
                self.say("No sources yet.")
            else:
                self.say(render_sources(self.last.sources, style=self.style))
        elif name == ":help":
            self.say(HELP)
        else:
            self.say(f"Unknown command {safe(name)}. {HELP}")
        return True
