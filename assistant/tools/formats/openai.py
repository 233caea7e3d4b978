"""OpenAI chat completions: `tools` of type function, assistant `tool_calls`, `tool` messages, streamed deltas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.tools.formats._common import arguments_text, make_call, paired
from assistant.tools.values import ToolCall, ToolResult, ToolSpec

# Finish reasons after which a call's arguments may be cut off: such calls are not run.
INCOMPLETE = frozenset({"length", "content_filter"})


def tool_definitions(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    out = []
    for spec in tools:
        function: dict[str, Any] = {"name": spec.wire_name or spec.name}
        if spec.description:
            function["description"] = spec.description
        function["parameters"] = dict(spec.input_schema) or {"type": "object", "properties": {}}
        out.append({"type": "function", "function": function})
    return out


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered (unchanged when there are none: an empty list is an error)."""
    return {**body, "tools": tool_definitions(tools)} if tools else dict(body)


def turn_messages(text: str, calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[dict[str, Any]]:
    """The assistant message that made the calls, then one `tool` message per call, in the calls' order."""
    assistant: dict[str, Any] = {"role": "assistant"}
    if text:
        assistant["content"] = text
    assistant["tool_calls"] = [{"type": "function", "id": c.provider_id or c.id,
                                "function": {"name": c.wire_name, "arguments": arguments_text(c)}} for c in calls]
    return [assistant] + [{"role": "tool", "tool_call_id": c.provider_id or c.id, "content": r.text}
                          for c, r in paired(calls, results)]


class ToolStream:
    """Feed every chunk (`chat.completion.chunk`, or a whole non-streamed `chat.completion`); then read `calls`."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._parts: dict[int, dict[str, str]] = {}
        self.finish_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            for position, fragment in enumerate(delta.get("tool_calls") or []):
                part = self._parts.setdefault(fragment.get("index", position), {"id": "", "name": "", "arguments": ""})
                function = fragment.get("function") or {}
                # Some OpenAI-compatible servers repeat the id and name in every fragment: the first one counts.
                part["id"] = part["id"] or fragment.get("id") or ""
                part["name"] = part["name"] or function.get("name") or ""
                part["arguments"] += function.get("arguments") or ""
            self.finish_reason = choice.get("finish_reason") or self.finish_reason

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(make_call(self._tools, p["id"] or f"call_{i}", p["name"], p["arguments"], p["id"])
                     for i, p in sorted(self._parts.items()))

    @property
    def wants_tools(self) -> bool:
        """The turn ended to have its calls run (some compatible servers send no `tool_calls` finish reason)."""
        return bool(self._parts) and self.finish_reason not in INCOMPLETE
