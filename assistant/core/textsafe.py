"""Make model output harmless on a terminal: escape sequences and control characters are shown, not obeyed."""

from __future__ import annotations

import re
from typing import Any

# CSI, OSC (title, clipboard OSC 52, hyperlinks), DCS/PM/APC strings, and lone ESC-x sequences.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return "".join(f"^{chr(ord(c) + 64)}" if ord(c) < 32 else f"\\x{ord(c):02x}" for c in match.group(0)[:1]) + match.group(0)[1:]


def for_terminal(text: str) -> str:
    """Escape sequences become visible text (^[ ...), other control characters too; newlines and tabs stay."""
    text = _ESCAPES.sub(lambda m: "^[" + _CONTROLS.sub(_visible, m.group(0)[1:]), text)
    return _CONTROLS.sub(_visible, text.replace("\r\n", "\n"))


MESSAGE_LIMIT = 300


def one_line(text: str, secret: str | None = None) -> str:
    """A provider's message made safe to show: one line, bounded, never containing the key."""
    words = for_terminal(text.replace(secret, "[redacted]") if secret else text).split()
    if secret and len(secret) > 8:
        # Providers echo a masked key ("sk-proj-ab*****wxyz"); even that much is not repeated.
        words = ["[redacted]" if "*" in w and (secret[:6] in w or secret[-4:] in w) else w for w in words]
    text = " ".join(words)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def first_clause(message: str) -> str:
    """The first clause of an error message: enough to say why, short enough for one line."""
    head = message.split(";")[0].strip().rstrip(".")
    return head[:80]


_C1 = {code: f"\\u{code:04x}" for code in range(0x80, 0xA0)}


def json_safe(dumped: str) -> str:
    """JSON written with ensure_ascii=False keeps C1 controls (U+0080-U+009F) raw, and some terminals obey them;
    as \\u escapes they parse back to the same text."""
    return dumped.translate(_C1)


def to_json(data: object, **options: Any) -> str:
    """JSON for a terminal or a pipe: readable non-ASCII text, C1 controls escaped (`json_safe`)."""
    import json

    return json_safe(json.dumps(data, ensure_ascii=False, **options))
