"""What every command shares: the engine built by the composition root, its start-up notices said once."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from assistant.core.textsafe import for_terminal

if TYPE_CHECKING:
    from assistant.engine.engine import Engine


@contextmanager
def engine() -> Iterator[Engine]:
    """An engine for a command that only reads or edits storage; closed (and its writes flushed) at the end."""
    from assistant.compose import build_engine, load

    opened = build_engine(load())
    for note in opened.notices:
        print(f"assistant: {for_terminal(note)}", file=sys.stderr)
    try:
        yield opened
    finally:
        opened.close()


def tty_safe(text: str) -> str:
    """Outside text (model answers, titles, model names) made harmless when stdout is a terminal; files keep bytes."""
    return for_terminal(text) if sys.stdout.isatty() else text
