"""The `assistant` command: the chat app with no arguments, a subcommand otherwise; every error becomes one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from assistant import __version__
from assistant.core.errors import AssistantError, UsageError

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


def _log_failure(exc: BaseException) -> None:
    """The full traceback goes to the log file (never to the terminal unless ASSISTANT_DEBUG is set)."""
    try:
        import traceback

        from assistant.core.paths import resolve_paths

        paths = resolve_paths()
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        with paths.log_file.open("a", encoding="utf-8") as log:
            log.write(f"--- {__version__} {type(exc).__name__}\n{''.join(traceback.format_exception(exc))}\n")
    except Exception:  # logging must never make a failure worse
        pass


def _arguments(argv: Sequence[str] | None) -> list[str]:
    """Arguments as text; bytes that are not valid in the locale's encoding are a usage error, not a crash."""
    args = list(sys.argv[1:] if argv is None else argv)
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")[:60]
            raise UsageError(f"The argument '{shown}' is not valid UTF-8; retype it, or pipe the text on stdin "
                             "after converting it (`iconv -t utf-8`).") from None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("ASSISTANT_DEBUG") == "1"
    try:
        args = _arguments(argv)
        if not args:
            from assistant.ui.launch import run_tui

            return run_tui()
        from assistant.cli import run

        return run(args)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AssistantError as exc:
        if debug:
            raise
        from assistant.core.textsafe import one_line

        print(f"assistant: {one_line(exc.message)}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except BrokenPipeError:
        # The reader (head, less) went away: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the promise is "never a traceback"; the log keeps it for bug reports
        if debug:
            raise
        _log_failure(exc)
        print(f"assistant: unexpected {type(exc).__name__}; details are in the log (ASSISTANT_DEBUG=1 shows them).",
              file=sys.stderr)
        return EXIT_ERROR
