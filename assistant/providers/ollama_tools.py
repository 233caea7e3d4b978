"""Ollama's tool format, used only by the Ollama provider: OpenAI-style function definitions, calls that arrive whole
in `message.tool_calls` with object arguments, and results as `tool` messages naming their tool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.core.tools import ToolCall, ToolExchange, ToolSpec, make_call, paired


def tool_definitions(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """Ollama takes OpenAI's function definitions."""
    out = []
    for spec in tools:
        function: dict[str, Any] = {"name": spec.wire_name or spec.name, "description": spec.description,
                                    "parameters": dict(spec.input_schema) or {"type": "object", "properties": {}}}
        out.append({"type": "function", "function": function})
    return out


def turn_messages(exchange: ToolExchange) -> list[dict[str, Any]]:
    """The assistant message with its calls (arguments as objects), then one `tool` message per call."""
    assistant = {"role": "assistant", "content": exchange.text,
                 "tool_calls": [{"function": {"name": c.wire_name, "arguments": dict(c.arguments)}}
                                for c in exchange.calls]}
    return [assistant] + [{"role": "tool", "content": r.text, "tool_name": c.wire_name} for c, r in paired(exchange)]


class ToolStream:
    """Feed every NDJSON line of /api/chat (or the one non-streamed answer); calls arrive whole, not in fragments."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._raw: list[dict[str, Any]] = []
        self.done_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for call in (chunk.get("message") or {}).get("tool_calls") or []:
            self._raw.append(dict(call))
        if chunk.get("done"):
            self.done_reason = chunk.get("done_reason") or "stop"

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        out = []
        for n, call in enumerate(self._raw):
            function = call.get("function") or {}
            provider_id = str(call.get("id") or "")
            out.append(make_call(self._tools, provider_id or f"ollama_call_{n}", function.get("name") or "",
                                 function.get("arguments"), provider_id))
        return tuple(out)

    @property
    def wants_tools(self) -> bool:
        """Ollama ends a tool-calling turn with done_reason "stop"; only a cut-off turn ("length") is not run."""
        return bool(self._raw) and self.done_reason != "length"
