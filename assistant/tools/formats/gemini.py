"""Gemini generateContent: `functionDeclarations`, `functionCall` parts (with thought signatures), `functionResponse`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.tools.formats._common import make_call, paired
from assistant.tools.values import ToolCall, ToolResult, ToolSpec

INCOMPLETE = frozenset({"MAX_TOKENS", "SAFETY", "RECITATION", "MALFORMED_FUNCTION_CALL", "PROHIBITED_CONTENT"})


def with_tools(body: Mapping[str, Any], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The request body with the tools offered; `parametersJsonSchema` takes MCP's JSON Schema as it is (the older
    `parameters` field accepts only an OpenAPI subset and rejects keys such as `additionalProperties`)."""
    if not tools:
        return dict(body)
    declarations = []
    for spec in tools:
        declaration: dict[str, Any] = {"name": spec.wire_name or spec.name}
        if spec.description:
            declaration["description"] = spec.description
        declaration["parametersJsonSchema"] = dict(spec.input_schema) or {"type": "object", "properties": {}}
        declarations.append(declaration)
    return {**body, "tools": [{"functionDeclarations": declarations}]}


def turn_messages(text: str, calls: Sequence[ToolCall], results: Sequence[ToolResult]) -> list[dict[str, Any]]:
    """The model turn (its text, then a `functionCall` part per call with its thought signature echoed, which
    Gemini 3 requires), then one user turn with a `functionResponse` part per call."""
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    for call in calls:
        function_call: dict[str, Any] = {"name": call.wire_name, "args": dict(call.arguments)}
        if call.provider_id:
            function_call["id"] = call.provider_id
        part: dict[str, Any] = {"functionCall": function_call}
        if call.signature:
            part["thoughtSignature"] = call.signature
        parts.append(part)
    answers = []
    for call, result in paired(calls, results):
        response: dict[str, Any] = {"name": call.wire_name,
                                    "response": {"output": result.text} if result.ok else {"error": result.text}}
        if call.provider_id:
            response["id"] = call.provider_id
        answers.append({"functionResponse": response})
    return [{"role": "model", "parts": parts}, {"role": "user", "parts": answers}]


class ToolStream:
    """Feed every streamed GenerateContentResponse (an alt=sse event, or one element of the JSON array)."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._tools = tools
        self._raw: list[dict[str, Any]] = []
        self.finish_reason = ""

    def feed(self, chunk: Mapping[str, Any]) -> None:
        for candidate in chunk.get("candidates") or []:
            if candidate.get("index", 0) != 0:
                continue
            for part in (candidate.get("content") or {}).get("parts") or []:
                call = part.get("functionCall") or part.get("function_call")
                if call:
                    signature = part.get("thoughtSignature") or part.get("thought_signature") or ""
                    self._raw.append({"call": call, "signature": signature})
            self.finish_reason = candidate.get("finishReason") or self.finish_reason

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        out = []
        for n, raw in enumerate(self._raw):
            call, provider_id = raw["call"], str(raw["call"].get("id") or "")
            out.append(make_call(self._tools, provider_id or f"gemini_call_{n}", call.get("name") or "",
                                 call.get("args"), provider_id, raw["signature"]))
        return tuple(out)

    @property
    def wants_tools(self) -> bool:
        """Gemini ends a turn with calls with finishReason STOP; a cut-off or blocked turn is not run."""
        return bool(self._raw) and self.finish_reason not in INCOMPLETE
