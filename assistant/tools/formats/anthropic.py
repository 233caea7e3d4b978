"""Anthropic Messages: `tools` with `input_schema`, `tool_use` blocks streamed as `input_json_delta`, `tool_result`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.tools.formats._common import make_call, paired
from assistant.tools.values import ToolCall, ToolResult, ToolSpec

INCOMPLETE = frozenset({"max_tokens", "refusal"})


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered."""
    if not tools:
        return dict(body)
    return {**body, "tools": [{"name": t.wire_name or t.name, "description": t.description,
                               "input_schema": dict(t.input_schema) or {"type": "object", "properties": {}}}
                              for t in tools]}


def turn_messages(text: str, calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[dict[str, Any]]:
    """The assistant turn (its text, then a `tool_use` block per call), then one user turn holding every
    `tool_result`, failed and refused ones marked `is_error`."""
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []  # empty text is rejected
    content += [{"type": "tool_use", "id": c.provider_id or c.id, "name": c.wire_name, "input": dict(c.arguments)}
                for c in calls]
    answers: list[dict[str, Any]] = []
    for call, result in paired(calls, results):
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.provider_id or call.id, "content": result.text}
        if not result.ok:
            block["is_error"] = True
        answers.append(block)
    return [{"role": "assistant", "content": content}, {"role": "user", "content": answers}]


class ToolStream:
    """Feed every SSE event's data (or a whole non-streamed `message`); then read `calls`."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason = ""

    def _start(self, index: int, block: Mapping[str, Any]) -> None:
        if block.get("type") == "tool_use":  # server tools (server_tool_use) run at Anthropic, not here
            self._blocks[index] = {"id": block.get("id") or "", "name": block.get("name") or "", "json": "",
                                   "input": block.get("input")}

    def feed(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "content_block_start":
            self._start(event.get("index", len(self._blocks)), event.get("content_block") or {})
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            block = self._blocks.get(event.get("index", -1))
            if block is not None and delta.get("type") == "input_json_delta":
                block["json"] += delta.get("partial_json") or ""
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
        elif kind == "message":  # not streamed: the blocks arrive whole
            for index, block in enumerate(event.get("content") or []):
                self._start(index, block)
            self.stop_reason = event.get("stop_reason") or ""

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return tuple(make_call(self._tools, b["id"] or f"toolu_{i}", b["name"],
                               b["json"] if b["json"].strip() else b["input"], b["id"])
                     for i, b in sorted(self._blocks.items()))

    @property
    def wants_tools(self) -> bool:
        return bool(self._blocks) and self.stop_reason not in INCOMPLETE
