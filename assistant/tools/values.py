"""What the hub describes servers with, consent decisions, and the names and sizes the model is given."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from assistant.core.tools import Approval, ToolSpec

Transport = Literal["stdio", "http"]

# What every provider accepts as a function name: OpenAI and Anthropic allow [A-Za-z0-9_-]{1,64}, Gemini also
# wants a letter or an underscore first.
_WIRE_BAD = re.compile(r"[^A-Za-z0-9_-]")
_WIRE_MAX = 64


@dataclass(frozen=True)
class Decision:
    """Whether a call may run, who allowed it, and (when refused) one line telling the user how to allow it."""

    allowed: bool
    approved_by: Approval
    reason: str = ""


@dataclass(frozen=True)
class ServerStatus:
    """What `tools list` shows for one configured server: started or why not, and its tools."""

    name: str
    transport: str
    started: bool
    reason: str = ""
    tools: tuple[ToolSpec, ...] = ()


def cap_text(text: str, limit: int) -> tuple[str, bool]:
    """At most `limit` characters, saying how much was cut; tool output is untrusted and can be huge."""
    if limit <= 0 or len(text) <= limit:
        return text, False
    return f"{text[:limit]}\n[... {len(text) - limit} more characters cut]", True


def assign_wire_names(tools: Sequence[ToolSpec]) -> tuple[ToolSpec, ...]:
    """Names every provider accepts; a tool keeps its own name unless two servers share it (then `server_tool`)."""

    def clean(name: str) -> str:
        name = _WIRE_BAD.sub("_", name) or "_"
        return (name if name[0].isalpha() or name[0] == "_" else "_" + name)[:_WIRE_MAX]

    counts: dict[str, int] = {}
    for spec in tools:
        counts[clean(spec.name)] = counts.get(clean(spec.name), 0) + 1
    taken: set[str] = set()
    out = []
    for spec in tools:
        base = clean(spec.name) if counts[clean(spec.name)] == 1 else clean(f"{spec.server}_{spec.name}")
        name, n = base, 2
        while name in taken:
            suffix = f"_{n}"
            name, n = base[: _WIRE_MAX - len(suffix)] + suffix, n + 1
        taken.add(name)
        out.append(replace(spec, wire_name=name))
    return tuple(out)
