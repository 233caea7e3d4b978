"""The `assistant` subcommands: parse arguments and run one; errors are raised for the entry point to report."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from assistant import __version__
from assistant.core.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse prints usage and exits; we raise one line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# Which module registers each command: a command's parser is built without importing the others.
COMMANDS = {"ask": "ask", "models": "models", "config": "misc", "history": "history", "keys": "keys", "bench": "bench",
            "desktop": "desktop", "cache": "cache", "savings": "stats", "latency": "stats", "tools": "tools", "db": "db"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or only `command`'s (what `assistant ask` needs before it can answer from the cache)."""
    import importlib

    parser = _Parser(prog="assistant", description="A local-first AI assistant for the terminal.")
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    names = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in names:
        importlib.import_module(f"assistant.cli.{name}").register(sub)
    return parser


def run(argv: Sequence[str]) -> int:
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(list(argv))
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return handler(args)
