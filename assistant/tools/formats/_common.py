"""What the provider formats share: argument parsing, resolving a call to a tool, pairing calls with results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assistant.tools.values import ToolCall, ToolResult, ToolSpec, find_tool


def parse_arguments(raw: Any) -> tuple[dict[str, Any], str]:
    """(arguments, problem): a JSON object as text or as a dict; nothing at all means no arguments."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, ""
    if isinstance(raw, dict):
        return raw, ""
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


def paired(calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[tuple[ToolCall, ToolResult]]:
    """Each call with its result (by call id); a call without one gets an error result, since every provider
    rejects a tool call left unanswered."""
    by_id = {r.call_id: r for r in results}
    return [(c, by_id.get(c.id) or ToolResult(c.id, c.server, c.tool, "error", "This call did not run.")) for c in calls]


def arguments_text(call: ToolCall) -> str:
    return json.dumps(dict(call.arguments), ensure_ascii=False)
