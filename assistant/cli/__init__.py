"""The `assistant` subcommands: parse arguments and run one; errors are raised for the entry point to report."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from assistant import __version__
from assistant.core.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse prints usage and exits; we raise one line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    from assistant.cli import ask, bench, cache, desktop, history, keys, misc, stats

    parser = _Parser(prog="assistant", description="A local-first AI assistant for the terminal.")
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for module in (ask, misc, history, keys, bench, desktop, cache, stats):
        module.register(sub)
    return parser


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return handler(args)
