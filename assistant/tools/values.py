"""The values tools are described with: a tool, a call the model made, its result, and a consent decision."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "refused", "error", "timeout"]
# Who let a call run; "refused" when nobody did, "" when it never got as far as asking (unknown tool, bad arguments).
Approval = Literal["trusted", "--allow-tool", "user once", "user always", "refused", ""]
Transport = Literal["stdio", "http"]

# What every provider accepts as a function name: OpenAI and Anthropic allow [A-Za-z0-9_-]{1,64}, Gemini also
# wants a letter or an underscore first.
_WIRE_BAD = re.compile(r"[^A-Za-z0-9_-]")
_WIRE_MAX = 64


@dataclass(frozen=True)
class ToolSpec:
    """One tool an MCP server offers; `wire_name` is the name the model sees (unique across servers)."""

    server: str
    name: str
    description: str
    input_schema: Mapping[str, Any] = field(default_factory=dict, hash=False)
    wire_name: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.name}"


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for, resolved to a server and tool (both empty when the model named no known tool)."""

    id: str  # unique within the turn: the provider's id when it sent one, else made up
    server: str
    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict, hash=False)
    provider_id: str = ""  # exactly as the provider sent it; empty for providers without call ids
    wire_name: str = ""  # the name as the model wrote it, echoed back in the next request
    signature: str = ""  # opaque provider data that must be echoed back (Gemini's thoughtSignature)
    problem: str = ""  # why the call cannot run (unknown tool, arguments that are not a JSON object)

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.tool}" if self.server else self.wire_name


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one call; `text` is what the model reads (never empty, capped in size, not yet sanitised)."""

    call_id: str
    server: str
    tool: str
    status: Status
    text: str
    elapsed_ms: float = 0.0
    approved_by: Approval = ""
    truncated: bool = False
    note: str = ""  # for the user, not the model: why a call did not run and how to allow it

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.tool}" if self.server else self.tool


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
    transport: Transport
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
    from dataclasses import replace

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


def find_tool(tools: Sequence[ToolSpec], name: str) -> ToolSpec | None:
    """The tool a model's call names: by wire name, else by `server.tool`, else by a tool name only one server has."""
    for spec in tools:
        if spec.wire_name == name:
            return spec
    for spec in tools:
        if spec.qualified == name:
            return spec
    same = [spec for spec in tools if spec.name == name]
    return same[0] if len(same) == 1 else None
