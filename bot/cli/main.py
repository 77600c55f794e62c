"""The ``newsbot`` command line.

Each sub-command lives in a module of its own with ``register(subparsers)``; the modules are
imported only to build the parser, and heavy libraries only inside the command that runs.
Errors reach the user as one line on standard error and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from retrieval.errors import NewsbotError

if TYPE_CHECKING:
    from bot.settings import AppSettings

log = logging.getLogger("newsbot")

# sub-command modules, each with register(subparsers); missing ones are skipped
COMMAND_MODULES = ("bot.cli.engine", "bot.cli.discord_bot", "bot.cli.evaluate", "bot.cli.sources", "bot.cli.coverage")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answers questions about a body of news coverage, citing its sources.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (to standard error)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def configure_logging(settings: AppSettings, verbose: bool) -> None:
    level = logging.DEBUG if verbose else getattr(logging, str(settings.log_level).upper(), logging.WARNING)
    logging.basicConfig(level=level, format="newsbot: %(levelname)s: %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "chromadb", "sentence_transformers", "transformers", "urllib3", "discord.http", "bm25s"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[Any, Any], int] = args.handler
    try:
        from bot.settings import load_settings

        settings = load_settings()
        configure_logging(settings, args.verbose)
        return handler(args, settings)
    except NewsbotError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, the rest in the log
        log.debug("unexpected error", exc_info=True)
        print(f"newsbot: unexpected error ({type(exc).__name__}: {exc}); run with -v for details",
              file=sys.stderr)
        return 1


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
