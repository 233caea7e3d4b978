"""Tool values every layer shares: a tool offered to the model, a call it made, the result, and one round of both."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "refused", "error", "timeout"]
# Who let a call run; "refused" when nobody did, "" when it never got as far as asking (unknown tool, bad arguments).
Approval = Literal["trusted", "--allow-tool", "user once", "user always", "refused", ""]


def is_trusted(trusted_tools: Collection[str], tool: str) -> bool:
    """Whether a server's `trusted_tools` lets `tool` run without asking: by name, or "*" for all of them."""
    return "*" in trusted_tools or tool in trusted_tools


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
    arguments: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def ran(self) -> bool:
        """It reached its server (whatever came back); refused calls and calls that could not be made did not."""
        return self.status != "refused" and bool(self.approved_by)

    @property
    def qualified(self) -> str:
        return f"{self.server}.{self.tool}" if self.server else self.tool


@dataclass(frozen=True)
class ToolExchange:
    """One model turn that asked for tools: what it said first, its calls, and their results (in the calls' order)."""

    text: str
    calls: tuple[ToolCall, ...]
    results: tuple[ToolResult, ...]


@dataclass(frozen=True)
class ToolCalls:
    """What a provider's stream yields (before its Usage) when the model's turn ended by asking for these calls."""

    calls: tuple[ToolCall, ...]


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


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str]:
    """(arguments, problem): a JSON object as text or as a dict; nothing at all means no arguments."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, ""
    if isinstance(raw, Mapping):
        return dict(raw), ""
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}, "its arguments are not valid JSON"
        if isinstance(value, dict):
            return value, ""
    return {}, "its arguments are not a JSON object"


def make_call(tools: Sequence[ToolSpec], call_id: str, wire_name: str, raw_arguments: Any, provider_id: str = "",
              signature: str = "") -> ToolCall:
    """A ToolCall resolved against the offered tools; an unknown name or bad arguments become its `problem`."""
    arguments, problem = parse_arguments(raw_arguments)
    spec = find_tool(tools, wire_name)
    if spec is None:
        problem = problem or f"no tool is named '{wire_name}'"
    return ToolCall(call_id, spec.server if spec else "", spec.name if spec else "", arguments, provider_id,
                    wire_name, signature, problem)


def paired(exchange: ToolExchange) -> list[tuple[ToolCall, ToolResult]]:
    """Each call with its result (by call id); a call without one gets an error result, since every provider
    rejects a tool call left unanswered."""
    by_id = {r.call_id: r for r in exchange.results}
    return [(c, by_id.get(c.id) or ToolResult(c.id, c.server, c.tool, "error", "This call did not run."))
            for c in exchange.calls]


def arguments_json(arguments: Mapping[str, Any]) -> str:
    return json.dumps(dict(arguments), ensure_ascii=False)
