"""The `assistant` command: parses arguments, runs one subcommand, turns errors into one line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from assistant import __version__
from assistant.errors import AssistantError, UsageError

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and exit 2; we want one line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    from assistant.cli import ask, bench, cache, desktop, history, keys, misc, stats

    parser = _Parser(prog="assistant", description="A local-first AI assistant for the terminal.")
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for module in (ask, misc, history, keys, bench, desktop, cache, stats):
        module.register(sub)
    return parser


def _log_failure(exc: BaseException) -> None:
    """The full traceback goes to the log file (never to the terminal unless ASSISTANT_DEBUG is set)."""
    try:
        import traceback

        from assistant.paths import resolve_paths

        paths = resolve_paths()
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        with paths.log_file.open("a", encoding="utf-8") as log:
            log.write(f"--- {__version__} {type(exc).__name__}\n{''.join(traceback.format_exception(exc))}\n")
    except Exception:  # logging must never make a failure worse
        pass


def _damaged_database(exc: BaseException) -> str | None:
    """Damage deep inside the file shows only when a bad page is read, long after start-up's checks passed."""
    import sqlite3

    if not isinstance(exc, sqlite3.DatabaseError) or not any(w in str(exc).lower() for w in ("malformed", "not a database")):
        return None
    from assistant.paths import resolve_paths

    db = resolve_paths().database
    return f"assistant: the database {db} is damaged ({exc}); move it aside (mv {db} {db}.damaged) and run again to start a fresh one."


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("ASSISTANT_DEBUG") == "1"
    try:
        if not args_list:
            from assistant.cli.tui import run_tui

            return run_tui()
        parser = build_parser()
        args = parser.parse_args(args_list)
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return 0
        return handler(args)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AssistantError as exc:
        if debug:
            raise
        print(f"assistant: {exc.message}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except BrokenPipeError:
        # The reader (head, less) went away: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the promise is "never a traceback"; the log keeps it for bug reports
        if debug:
            raise
        _log_failure(exc)
        print(_damaged_database(exc) or f"assistant: unexpected {type(exc).__name__}; details are in the log (ASSISTANT_DEBUG=1 shows them).", file=sys.stderr)
        return EXIT_ERROR
