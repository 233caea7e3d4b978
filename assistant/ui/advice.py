"""Engine messages speak to both the command line and the app; in the app, advice names the app's keys."""

from __future__ import annotations

import re

# (pattern, replacement): the command-line half of a piece of advice, and what to do in the app instead.
_REWRITES = [
    (re.compile(r"press F4 in the app, run `assistant keys set [\w-]+`, or set ([A-Z0-9_ or]+)"),
     r"press F4 to add one (or set \1)"),
    (re.compile(r"`assistant keys set [\w-]+`"), "F4"),
    (re.compile(r"choose another with -m, see `assistant models`"), "choose another with F2"),
    (re.compile(r"ask a bigger model with -m"), "pick a bigger model with F2"),
    (re.compile(r"`assistant models`"), "F2"),
    (re.compile(r"`assistant models pull [^`]+` resumes it"), "pull it again with F7 to resume"),
]


def for_app(text: str) -> str:
    """`text` with command-line advice replaced by the app's keys (F4 for keys, F2 for models)."""
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text
