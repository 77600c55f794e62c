"""The ``newsbot`` command line.

Each sub-command lives in a module of its own with ``register(subparsers)``; the modules are
imported only to build the parser, and heavy libraries only inside the command that runs.
Descriptions and examples of the commands are data (``commands.yaml``).
Errors reach the user as one line on standard error and the exit status says what happened:
0 ok, 1 failure, 2 usage or invalid input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from retrieval.errors import IndexMissing, NewsbotError, is_disk_full

if TYPE_CHECKING:
    from bot.settings import AppSettings

log = logging.getLogger("newsbot")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# sub-command modules, each with register(subparsers); missing ones are skipped
COMMAND_MODULES = (
    "bot.cli.engine", "bot.cli.status", "bot.cli.discord_bot", "bot.cli.evaluate", "bot.cli.sources",
    "bot.cli.coverage",
)

# commands that have nothing left to write once they have answered: their process ends at once
# rather than freeing what it loaded (Chroma's vector index: ~1 s at 662k chunks)
QUICK_EXIT = frozenset({"ask"})

# libraries whose warnings are noise for a user: shown with -v only
QUIET_LIBRARIES = (
    "py.warnings", "transformers", "sentence_transformers", "onnxruntime", "huggingface_hub", "chromadb",
    "httpx", "httpcore", "urllib3", "bm25s", "watchfiles", "filelock", "trafilatura", "langchain_core",
)
# discord.py warns at every start about voice support a text bot never uses
DISCORD_NOISE = ("PyNaCl is not installed", "davey is not installed")


class UsageError(NewsbotError):
    """The command line asks for something impossible (exit status 2)."""

    exit_code = EXIT_USAGE


@cache
def texts() -> dict[str, Any]:
    """The commands' descriptions and examples (``commands.yaml``)."""
    from importlib.resources import files

    import yaml

    data: dict[str, Any] = yaml.safe_load(files("bot.cli").joinpath("commands.yaml").read_text(encoding="utf-8"))
    return data


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("newsbot")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def add_verbosity(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-v/-q, on the program and on every command (so they may come before or after it)."""
    default: Any = 0 if top else argparse.SUPPRESS
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=default,
                       help="log more to standard error (-vv: debug); shows library warnings")
    group.add_argument("-q", "--quiet", action="store_true", default=False if top else argparse.SUPPRESS,
                       help="errors only")


def describe(name: str, parser: argparse.ArgumentParser) -> None:
    """Give a command its description and examples from ``commands.yaml``."""
    entry = texts()["commands"].get(name)
    if not entry:
        return
    parser.description = textwrap.fill(entry["description"], 88)
    examples = "\n".join(f"  {line}" for line in entry.get("examples", ()))
    parser.epilog = f"examples:\n{examples}\n\n{texts()['program']['epilog']}"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description=textwrap.fill(texts()["program"]["description"], 88),
        epilog=texts()["program"]["epilog"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"newsbot {version()}")
    add_verbosity(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    for name, command in sub.choices.items():
        add_verbosity(command, top=False)
        describe(name, command)
    try:
        import shtab
    except ImportError:  # pragma: no cover - a dependency, but completion is optional
        pass
    else:
        shtab.add_argument_to(parser, ["--print-completion"], help="print a shell completion script (bash, zsh, tcsh)")
    return parser


class DropMessages(logging.Filter):
    """Drops records whose message starts with one of ``prefixes``."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefixes)


class LibraryRootRecords(logging.Filter):
    """Drops what a library logs on the root logger itself (onnxruntime's quantizer does:
    "Please consider to run pre-processing before quantization")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "root" or record.levelno >= logging.ERROR:
            return True
        path = record.pathname.replace("\\", "/")
        return not any(f"/{name}/" in path for name in QUIET_LIBRARIES)


def log_level(settings: AppSettings, verbose: int, quiet: bool) -> int:
    if quiet:
        return logging.ERROR
    if verbose >= 2:
        return logging.DEBUG
    if verbose == 1:
        return logging.INFO
    return int(getattr(logging, settings.log_level, logging.WARNING))


def quiet_environment(verbose: int, environ: Any = None) -> None:
    """Before any library is imported: no progress bars or advisory warnings of the model libraries
    unless -v (they would go to cron logs), and nothing sent home."""
    env = os.environ if environ is None else environ
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    if not verbose:
        env.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        env.setdefault("TRANSFORMERS_VERBOSITY", "error")
        env.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


# commands that list the skipped files themselves, once, relative to the corpus (engine.print_skipped)
LISTS_SKIPPED = ("reindex", "chat")


def configure_logging(level: int, verbose: int, *, lists_skipped: bool = False) -> None:
    """newsbot's records at ``level`` on standard error; libraries' warnings only with -v."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("newsbot: %(levelname)s: %(message)s"))
    handler.set_name("newsbot-cli")
    if not verbose:
        handler.addFilter(LibraryRootRecords())
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call (main() run twice in one process)
        if old.get_name() == "newsbot-cli":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings.warn of libraries -> "py.warnings", quiet below
    library_level = logging.DEBUG if verbose >= 2 else logging.WARNING if verbose else logging.ERROR
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, library_level))
    discord_client = logging.getLogger("discord.client")
    if not verbose and not any(isinstance(f, DropMessages) for f in discord_client.filters):
        discord_client.addFilter(DropMessages(DISCORD_NOISE))
    corpus_log = logging.getLogger("retrieval.ingest.corpus")
    for old_filter in [f for f in corpus_log.filters if isinstance(f, DropMessages)]:
        corpus_log.removeFilter(old_filter)
    if lists_skipped:  # else (the bot, add, feeds) the corpus reader's own warning is the one line
        corpus_log.addFilter(DropMessages(("skipped ",)))


def absolute_paths(settings: AppSettings) -> AppSettings:
    """Every folder and file of the settings made absolute, so every message names a full path."""
    from retrieval.settings import replace

    changes: dict[str, object] = {"corpus_dir": settings.corpus_dir.absolute(), "data_dir": settings.data_dir.absolute()}
    for name in ("index_dir", "model_dir", "feedback_db"):
        value = getattr(settings, name, None)
        if isinstance(value, Path):
            changes[name] = value.absolute()
    changes["feeds_file"] = settings.feeds.file.absolute()
    return replace(settings, **changes)


def warn_unknown_settings(settings_cls: type[Any], dotenv_file: Path = Path(".env")) -> list[str]:
    """One warning per ``NEWSBOT_*`` name no setting reads (a typo is otherwise silently ignored)."""
    from dotenv import dotenv_values

    from retrieval.settings import unknown_env_names

    dotenv = dotenv_values(dotenv_file) if dotenv_file.is_file() else {}
    lines = []
    for name, where, close in unknown_env_names(settings_cls, os.environ, dotenv):
        hint = f"; did you mean {close}?" if close else "; see .env.example for the valid names"
        place = f"in {dotenv_file.absolute()}" if where == ".env" else "in the environment"
        lines.append(f"unknown setting {name} {place} is ignored{hint}")
    for line in lines:
        log.warning("%s", line)
    return lines


def fix_text(text: str) -> str:
    """Bytes that are not UTF-8 (kept by Python as lone surrogates) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode(
            "utf-8", "replace").decode("utf-8")


def tolerant_streams() -> None:
    """A stray byte in the input or an unprintable character never ends the command."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed or detached stream
                reconfigure(errors="replace")


def error_line(exc: NewsbotError, settings: AppSettings | None) -> str:
    from bot.cli.render import safe

    text = str(exc)
    if isinstance(exc, IndexMissing) and settings is not None and not settings.server_mode:
        where = str(settings.index_path)
        if where not in text:
            text = f"{text} (looked for the index in {where})"
    return safe(text)


def main(argv: Sequence[str] | None = None) -> int:
    tolerant_streams()
    args_in = [fix_text(a) for a in (sys.argv[1:] if argv is None else argv)]
    parser = build_parser()
    args = parser.parse_args(args_in)
    verbose = int(getattr(args, "verbose", 0) or 0)
    quiet = bool(getattr(args, "quiet", False))
    quiet_environment(verbose)
    handler: Callable[[Any, Any], int] = args.handler
    settings: AppSettings | None = None
    try:
        from bot.settings import AppSettings, load_settings

        lists_skipped = args.command in LISTS_SKIPPED
        configure_logging(logging.ERROR if quiet else logging.WARNING, verbose, lists_skipped=lists_skipped)
        settings = absolute_paths(load_settings())
        configure_logging(log_level(settings, verbose, quiet), verbose, lists_skipped=lists_skipped)
        warn_unknown_settings(AppSettings)
        return handler(args, settings)
    except NewsbotError as exc:
        print(f"newsbot: {error_line(exc, settings)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one line, the rest in the log
        from bot.cli.render import safe

        if verbose:
            log.error("unexpected error", exc_info=True)
        if is_disk_full(exc):
            from retrieval.errors import DiskFull

            where = getattr(exc, "filename", None) or (settings.data_dir if settings else Path.cwd())
            print(f"newsbot: {safe(str(DiskFull.at(where)))}", file=sys.stderr)
            return EXIT_FAILURE
        print(f"newsbot: unexpected error ({type(exc).__name__}: {safe(str(exc))}); run with -v for details",
              file=sys.stderr)
        return EXIT_FAILURE


def run() -> NoReturn:
    """The ``newsbot`` console script and ``python -m bot.cli``: :func:`main`, then exit."""
    argv = sys.argv[1:]
    code = main(argv)
    with contextlib.suppress(SystemExit):
        if build_parser().parse_known_args([fix_text(a) for a in argv])[0].command in QUICK_EXIT:
            quick_exit(code)
    sys.exit(code)


def quick_exit(code: int) -> NoReturn:
    """End the process now: what it printed and logged flushed, nothing freed."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    run()
